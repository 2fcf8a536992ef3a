"""Conditional requests on one task (RFC 9110 section 13)."""

from django.utils.http import parse_etags
from rest_framework.exceptions import APIException
from rest_framework.request import Request


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = "The task has changed since the version named in If-Match."
    default_code = "precondition_failed"


def if_match_passes(request: Request, etag: str) -> bool:
    """If-Match uses the strong comparison: a weak tag never matches."""
    header = request.headers.get("If-Match")
    if header is None:
        return True  # no precondition: the last write wins
    tags = parse_etags(header)
    return "*" in tags or etag in tags


def if_none_match_matches(request: Request, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    tags = parse_etags(header)
    return "*" in tags or etag in tags or f"W/{etag}" in tags
