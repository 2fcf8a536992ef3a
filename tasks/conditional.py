"""Conditional requests on one task (RFC 9110 section 13)."""

import re

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


# A version as Task.etag writes it: no sign, no leading zero, within a 64-bit column.
_VERSION = re.compile(r"[1-9][0-9]{0,18}")
_MAX_VERSION = 2**63 - 1


def if_match_versions(request: Request, pk: int) -> tuple[int, ...] | None:
    """The versions of task `pk` that If-Match names, for a compare-and-swap write.

    None: any version will do (no If-Match, or `*`). Empty: no tag can be
    this task's ETag (weak, malformed, another task's), so no write applies.
    A tag counts only if it is exactly what `Task.etag` gives for some version.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = parse_etags(header)
    if "*" in tags:
        return None
    prefix = f'"{pk}-'
    versions = set()
    for tag in tags:
        digits = tag[len(prefix) : -1]
        matches = tag.startswith(prefix) and tag.endswith('"') and _VERSION.fullmatch(digits)
        if matches and int(digits) <= _MAX_VERSION:
            versions.add(int(digits))
    return tuple(sorted(versions))
