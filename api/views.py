"""Django-level error handlers and the health endpoints.

Errors raised outside DRF (an unknown URL, an unhandled exception) answer
with a problem document, unless the client asked for HTML (a person in a
browser, the admin), who gets Django's page.
"""

import sys
from typing import Any

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views import defaults
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import metrics
from api.openapi import ProblemSerializer
from api.outages import DETAIL, RETRY_AFTER_SECONDS, is_database_unavailable, record_outage
from api.problems import PROBLEM_CONTENT_TYPE, ProblemJSONRenderer, problem


def _wants_html(request: HttpRequest) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def _problem_response(status: int, detail: str) -> JsonResponse:
    return JsonResponse(problem(status, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_html(request):
        return defaults.bad_request(request, exception)
    return _problem_response(400, "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_html(request):
        return defaults.permission_denied(request, exception)
    return _problem_response(403, "You do not have permission to perform this action.")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _wants_html(request):
        return defaults.page_not_found(request, exception)
    return _problem_response(404, "There is nothing at this URL.")


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception (a middleware's, or a
    # view's outside DRF, such as the admin's login), so it is at hand.
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        return _outage_response(request, exc)
    if _wants_html(request):
        return defaults.server_error(request)
    return _problem_response(500, "The server failed to answer the request; it has been logged.")


def _outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    record_outage(request, exc)
    response: HttpResponse
    if _wants_html(request):
        response = HttpResponse(
            f"<!doctype html><title>Service Unavailable</title><h1>Service Unavailable</h1><p>{DETAIL}</p>",
            status=503,
        )
    else:
        response = _problem_response(503, DETAIL)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # Logged above as one line: Django would add the traceback of an outage.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every host for /favicon.ico; answer with an icon we ship."""
    return redirect(static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png"))


# Readiness may return soon: a probe or client can ask again then.
RETRY_AFTER = {"Retry-After": str(RETRY_AFTER_SECONDS)}

STATUS_OK = inline_serializer("Status", {"status": serializers.CharField()})


@extend_schema_view(
    get=extend_schema(
        operation_id="getHealth", tags=["health"], summary="Liveness", responses={200: STATUS_OK}
    )
)
class HealthView(APIView):
    """Liveness: the process answers. Touches no database, cache or session."""

    touches_database = False
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


@extend_schema_view(
    get=extend_schema(
        operation_id="getReadiness",
        tags=["health"],
        summary="Readiness",
        responses={200: STATUS_OK, (503, PROBLEM_CONTENT_TYPE): ProblemSerializer},
    )
)
class ReadyView(APIView):
    """Readiness: 200 when the database answers and every check tagged "readiness" passes.

    Those checks (migrations applied, cache tables, the tasks' triggers) cost
    a few catalog queries; a failing one is a 503 whose problem document
    names each cause in `errors`.
    """

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            failed = [
                message
                for message in checks.run_checks(
                    tags=["readiness"], include_deployment_checks=True, databases=[DEFAULT_DB_ALIAS]
                )
                if message.is_serious()
            ]
        except DatabaseError:
            return Response(problem(503, "The database does not answer."), status=503, headers=RETRY_AFTER)
        if failed:
            causes = [{"id": message.id, "detail": message.msg, "hint": message.hint} for message in failed]
            detail = "The service is not ready: " + " ".join(message.msg for message in failed)
            return Response(problem(503, detail, errors=causes), status=503, headers=RETRY_AFTER)
        return Response({"status": "ok"})


class PrometheusTextRenderer(BaseRenderer):
    """Lets a scraper that accepts only text/plain through content negotiation."""

    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return data if isinstance(data, bytes) else str(data).encode()


@extend_schema(exclude=True)
class MetricsView(APIView):
    """Prometheus metrics for staff only: a staff user's bearer token or admin session."""

    permission_classes = [IsAdminUser]
    renderer_classes = [ProblemJSONRenderer, PrometheusTextRenderer]

    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


# Swagger UI and ReDoc style their pages from script, with style elements and
# attributes, and ReDoc runs a worker from a blob: URL. Everything still comes
# from this host.
DOCS_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class DocsPolicyMixin:
    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        response["Content-Security-Policy"] = DOCS_CONTENT_SECURITY_POLICY
        return response


class SchemaView(SpectacularJSONAPIView):
    """The OpenAPI 3 schema, open to everyone like the docs that read it."""

    authentication_classes = []


class SwaggerView(DocsPolicyMixin, SpectacularSwaggerSplitView):
    authentication_classes = []


class RedocView(DocsPolicyMixin, SpectacularRedocView):
    authentication_classes = []
