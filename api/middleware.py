import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from api import logs, metrics
from api.problems import PROBLEM_CONTENT_TYPE, problem

# What a client or proxy may send as X-Request-ID and see kept: short, and
# nothing that could break a header, a log line or a JSON string.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{1,128}")
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestContextMiddleware:
    """Outermost: keeps a sane X-Request-ID, names the request in logs, and measures it.

    django-guid, right inside, echoes the id (or a new one) on every response.
    An incoming id that is not sane is dropped here, so django-guid makes a
    new one instead.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID")
        if incoming is not None and not SANE_REQUEST_ID.fullmatch(incoming):
            del request.META["HTTP_X_REQUEST_ID"]
        context = logs.current_request.set(request)
        queries = metrics.QueryTimer()
        start = time.perf_counter()
        try:
            with connection.execute_wrapper(queries):
                response = self.get_response(request)
        finally:
            logs.current_request.reset(context)
        route = logs.route_of(request)
        metrics.observe(
            method=request.method if request.method in KNOWN_METHODS else "other",
            route=route,
            status=response.status_code,
            seconds=time.perf_counter() - start,
            queries=queries,
        )
        # For gunicorn's access log, which runs after the response (request.META is the WSGI environ).
        request.META[logs.ENVIRON_ROUTE] = route
        request.META[logs.ENVIRON_USER_ID] = str(logs.user_id_of(request) or "-")
        return response


class RequestBodyLimitMiddleware:
    """Answer 413 to a body over DATA_UPLOAD_MAX_MEMORY_SIZE before anyone reads it.

    Django checks the limit only in `request.body`; DRF's parsers read the
    stream directly, so without this a JSON body of any size would be read.
    Chunked bodies get a Content-Length from api.chunked first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            return JsonResponse(
                problem(413, f"The request body is larger than {limit} bytes."),
                status=413,
                content_type=PROBLEM_CONTENT_TYPE,
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send settings.CONTENT_SECURITY_POLICY on every response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response
