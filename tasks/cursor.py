"""Page cursors: a `next` or `prev` link seeks to its page instead of skipping rows (SPEC section 3).

A cursor names the task at the edge of the page it came from, by its sort
value and id, and the offset of the first task on the far side of that edge.
The page is then the rows after (or before) the edge in the order of the
(owner, column, id) index, which costs the same at any depth, where OFFSET
reads and drops every row before the page; and the envelope's offset comes
from the cursor, so no count is needed.

Cursors are signed (django.core.signing) and carry a digest of the ordering
and filters they were made for: one cannot be forged, nor reused with other
filters, where its offset would be wrong. The owner filter applies to every
page whatever the cursor says.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from tasks.models import Task

SALT = "tasks.cursor"


@dataclass(frozen=True)
class PageCursor:
    forward: bool  # the page follows the edge task (next) or precedes it (prev)
    offset: int  # the offset of the first task after the edge (next), or of the edge task itself (prev)
    pk: int
    value: Any  # the edge task's sort value (a datetime as ISO 8601); None when sorting by id
    scope: str  # digest of the ordering and filters the cursor belongs to


@dataclass(frozen=True)
class Paging:
    """What a list request asks of the paginator, once validated."""

    limit: int
    offset: int
    cursor: PageCursor | None
    ordering: str
    scope: str


def cursor_scope(*, ordering: str, filters: dict[str, Any]) -> str:
    """A short digest of the list a cursor belongs to: its ordering and filter values."""
    canonical = json.dumps([ordering, filters], sort_keys=True, default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=6).hexdigest()


def edge_cursor(task: Task, *, forward: bool, offset: int, ordering: str, scope: str) -> str:
    """The cursor of the page that follows (forward) or precedes `task`."""
    field = ordering.lstrip("-")
    value = None if field == "id" else getattr(task, field)
    if isinstance(value, datetime):
        value = value.isoformat()
    payload = [int(forward), offset, task.pk, value, scope]
    return signing.Signer(salt=SALT).sign_object(payload, compress=True)


def load_cursor(text: str) -> PageCursor:
    """The cursor `text` stands for; a ValidationError if this service did not make it."""
    try:
        forward, offset, pk, value, scope = signing.Signer(salt=SALT).unsign_object(text)
    except (signing.BadSignature, ValueError, TypeError):  # forged, cut short, or of an older shape
        raise ValidationError(
            "Not a cursor from a link of this list; start again from the first page."
        ) from None
    return PageCursor(forward=bool(forward), offset=offset, pk=pk, value=value, scope=scope)


def seeks_upward(cursor: PageCursor, *, ordering: str) -> bool:
    """The tasks beyond the cursor's edge lie above it in the column's ascending order."""
    return cursor.forward != ordering.startswith("-")


def seek(tasks: QuerySet[Task], *, cursor: PageCursor, ordering: str) -> QuerySet[Task]:
    """The tasks beyond the cursor's edge, nearest first: (column, id) > (value, pk) in the list's order."""
    field = ordering.lstrip("-")
    op = "gt" if seeks_upward(cursor, ordering=ordering) else "lt"
    if field == "id":
        beyond = tasks.filter(**{f"id__{op}": cursor.pk})
    else:
        # column >= value bounds the index range; the OR only sorts out the ties.
        beyond = tasks.filter(
            Q(**{f"{field}__{op}e": cursor.value}),
            Q(**{f"{field}__{op}": cursor.value}) | Q(**{f"id__{op}": cursor.pk}),
        )
    return beyond if cursor.forward else beyond.reverse()
