"""Django-level error handlers and the health endpoints.

Errors raised outside DRF (an unknown URL, an unhandled exception) answer
with a problem document, unless the client asked for HTML (a person in a
browser, the admin), who gets Django's page.
"""

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.problems import PROBLEM_CONTENT_TYPE, problem


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
    if _wants_html(request):
        return defaults.server_error(request)
    return _problem_response(500, "The server failed to answer the request; it has been logged.")


class HealthView(APIView):
    """Liveness: the process answers. Touches no database, cache or session."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ReadyView(APIView):
    """Readiness: 200 when the database answers, 503 when it does not."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except DatabaseError:
            return Response(problem(503, "The database does not answer."), status=503)
        return Response({"status": "ok"})
