"""Make chunked request bodies visible to Django.

A request sent with `Transfer-Encoding: chunked` has no Content-Length, and
Django reads no body without one. Gunicorn decodes the chunks and marks the
stream `wsgi.input_terminated`; this wrapper reads up to one byte past the
body limit and sets CONTENT_LENGTH, so Django parses the body and
RequestBodyLimitMiddleware answers 413 to one that is too large.
"""

import io
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BufferChunkedBody:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH"):
            body = environ["wsgi.input"].read(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
