from collections.abc import Iterable

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings


class PreferredRendererNegotiation(DefaultContentNegotiation):
    """DRF's content negotiation, with its commonest answer found without parsing Accept.

    A request that sends no Accept, `*/*` or exactly the first renderer's
    media type (what API clients send), and asks for no format, gets the
    first renderer, as DRF would choose it.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        choices = list(renderers)
        if (
            choices
            and not format_suffix
            and request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", choices[0].media_type)
            and api_settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return choices[0], choices[0].media_type
        return super().select_renderer(request, choices, format_suffix)
