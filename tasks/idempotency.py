"""Safe retries of POST /tasks: the Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header).

The first request with a key commits a claim row before it creates
anything; a repeat, in whichever worker process, meets the unique
(owner, key) constraint and reads that row: in flight is 409, a different
body 422, otherwise the stored response is replayed. The task and the
stored response are written in one transaction, so a key never ends up
with a task and no response, or the other way round.
"""

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from api.problems import InvalidHeader
from tasks.models import IdempotencyKey

HEADER = "Idempotency-Key"
# 1 to 255 visible ASCII characters, taken as sent (a draft-style "quoted" key keeps its quotes).
KEY_PATTERN = re.compile(r"[!-~]{1,255}")
# How long a key and its stored response live (the SPEC's 24 hours).
KEY_LIFETIME = timedelta(hours=24)
# A request still in flight after this long died (gunicorn kills a worker after
# GUNICORN_TIMEOUT, 30 s by default); a repeat may then take the key over.
IN_FLIGHT_TIMEOUT = timedelta(minutes=2)
# The response headers a replay repeats.
REPLAYED_HEADERS = ("Location", "ETag")


class KeyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry later."
    default_code = "idempotency_key_in_flight"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


def idempotency_key(*, request: Request) -> str | None:
    """The request's Idempotency-Key, None without one; a malformed key is a 400 naming the header."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    value = value.strip(" \t")  # optional white space around a field value (RFC 9110 5.5)
    if not KEY_PATTERN.fullmatch(value):
        raise InvalidHeader(HEADER, "Must be 1 to 255 visible ASCII characters, with no spaces or controls.")
    return value


def body_fingerprint(*, body: Any) -> str:
    """SHA-256 of the body as canonical JSON: key order and white space do not matter."""
    if hasattr(body, "lists"):  # a form's QueryDict
        body = dict(body.lists())
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_response(
    *, owner: User, key: str, fingerprint: str, respond: Callable[[], Response]
) -> Response:
    """The response stored for `key`, or the one `respond` gives, stored when it succeeds.

    `respond` runs in the transaction that stores its response, so what it
    writes and the stored response commit together. An error response is not
    stored: it wrote nothing, and the key is free for a retry.
    """
    claim = idempotency_claim(owner=owner, key=key, fingerprint=fingerprint)
    if isinstance(claim, Response):
        return claim
    try:
        with transaction.atomic():
            response = respond()
            if status.is_success(response.status_code):
                idempotency_complete(owner=owner, key=key, claim=claim, response=response)
    except BaseException:
        # If the database is down this fails too; the claim then expires as in flight.
        with suppress(DatabaseError):
            idempotency_release(owner=owner, key=key, claim=claim)
        raise
    if not status.is_success(response.status_code):
        idempotency_release(owner=owner, key=key, claim=claim)
    return response


def idempotency_claim(*, owner: User, key: str, fingerprint: str) -> str | Response:
    """Claim `key` for a new request (its claim token), or the response stored for an earlier one.

    Raises KeyInFlight while an earlier request with the key runs, KeyReused
    when it had another body. Runs in a transaction of its own, committed
    before the request does anything, so every worker process sees the claim.
    """
    now = timezone.now()
    claim = secrets.token_hex(16)
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                owner=owner, key=key, fingerprint=fingerprint, created_at=now, claimed_at=now, claim=claim
            )
        return claim
    except IntegrityError:
        pass
    stored = IdempotencyKey.objects.filter(owner=owner, key=key).first()
    if stored is None:  # purged in between: the caller may simply retry
        raise KeyInFlight
    if stored.created_at <= now - KEY_LIFETIME:
        return _take_over(stored, fingerprint=fingerprint, claim=claim, now=now, created_at=now)
    if stored.fingerprint != fingerprint:
        raise KeyReused
    if stored.status is not None:
        return Response(stored.body, status=stored.status, headers=stored.headers)
    if stored.claimed_at <= now - IN_FLIGHT_TIMEOUT:
        return _take_over(stored, fingerprint=fingerprint, claim=claim, now=now, created_at=stored.created_at)
    raise KeyInFlight


def idempotency_complete(*, owner: User, key: str, claim: str, response: Response) -> None:
    """Store `response` for `key`; KeyInFlight if another request has taken the key over meanwhile.

    Call it in the transaction that wrote what the response reports, so that
    a lost claim rolls the write back.
    """
    stored = IdempotencyKey.objects.filter(owner=owner, key=key, claim=claim, status__isnull=True).update(
        status=response.status_code,
        body=response.data,
        headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
    )
    if stored == 0:
        raise KeyInFlight


def idempotency_release(*, owner: User, key: str, claim: str) -> None:
    """Give up the claim on `key` (the request failed and wrote nothing), so a retry runs afresh."""
    IdempotencyKey.objects.filter(owner=owner, key=key, claim=claim, status__isnull=True).delete()


def idempotency_purge(*, now: datetime | None = None) -> int:
    """Delete the keys older than KEY_LIFETIME, answered or not; returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(
        created_at__lte=(now or timezone.now()) - KEY_LIFETIME
    ).delete()
    return deleted


def _take_over(
    stored: IdempotencyKey, *, fingerprint: str, claim: str, now: datetime, created_at: datetime
) -> str:
    """Claim an expired key, or one whose request died in flight, unless another repeat just did."""
    taken = IdempotencyKey.objects.filter(pk=stored.pk, claim=stored.claim, status=stored.status).update(
        fingerprint=fingerprint,
        created_at=created_at,
        claimed_at=now,
        claim=claim,
        status=None,
        body=None,
        headers={},
    )
    if taken == 0:
        raise KeyInFlight
    return claim
