"""PreferredRendererNegotiation: DRF's choice of renderer, without parsing Accept in the common case."""

from unittest import mock

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from api.negotiation import PreferredRendererNegotiation
from api.problems import ProblemJSONRenderer
from api.views import PrometheusTextRenderer

RENDERER_SETS = [
    [ProblemJSONRenderer(), BrowsableAPIRenderer()],
    [ProblemJSONRenderer(), PrometheusTextRenderer()],
    [BrowsableAPIRenderer(), ProblemJSONRenderer()],
]
ACCEPTS = [
    None,
    "*/*",
    "application/json",
    "text/html",
    "application/json; indent=4",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/*",
    "text/plain",
    "application/json, text/html",
]
QUERIES = ["", "?format=json", "?format=api"]


def drf_request(accept: str | None, query: str) -> Request:
    headers = {} if accept is None else {"Accept": accept}
    return Request(APIRequestFactory().get(f"/tasks{query}", headers=headers))


def choice(negotiation: DefaultContentNegotiation, request: Request, renderers: list[BaseRenderer]) -> object:
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers)
    except Exception as error:  # DRF's NotAcceptable or a 404 for an unknown format
        return type(error)
    return type(renderer), media_type


@pytest.mark.parametrize("renderers", RENDERER_SETS)
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", QUERIES)
def test_chooses_what_drf_chooses(renderers: list[BaseRenderer], accept: str | None, query: str) -> None:
    request = drf_request(accept, query)
    assert choice(PreferredRendererNegotiation(), request, renderers) == choice(
        DefaultContentNegotiation(), request, renderers
    )


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_common_case_skips_parsing_accept(accept: str | None) -> None:
    renderers = RENDERER_SETS[0]
    with mock.patch.object(DefaultContentNegotiation, "select_renderer") as drf_negotiation:
        renderer, media_type = PreferredRendererNegotiation().select_renderer(
            drf_request(accept, ""), renderers
        )
    drf_negotiation.assert_not_called()
    assert (renderer, media_type) == (renderers[0], "application/json")


@pytest.mark.parametrize(("accept", "query"), [("text/html", ""), ("*/*", "?format=api")])
def test_anything_else_is_negotiated_by_drf(accept: str, query: str) -> None:
    with mock.patch.object(
        DefaultContentNegotiation,
        "select_renderer",
        autospec=True,
        side_effect=DefaultContentNegotiation.select_renderer,
    ) as drf_negotiation:
        renderer, _ = PreferredRendererNegotiation().select_renderer(
            drf_request(accept, query), RENDERER_SETS[0]
        )
    drf_negotiation.assert_called_once()
    assert isinstance(renderer, BrowsableAPIRenderer)


def test_is_the_configured_negotiation() -> None:
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is PreferredRendererNegotiation
