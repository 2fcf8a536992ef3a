"""What the OpenAPI document says about the task endpoints."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from api.openapi import ProblemSerializer
from api.problems import PROBLEM_CONTENT_TYPE
from tasks.filters import ChangesForm
from tasks.idempotency import HEADER as IDEMPOTENCY_HEADER
from tasks.idempotency import KEY_LIFETIME
from tasks.serializers import TaskChangesSerializer, TaskSerializer

ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 304],
    required=True,
    description="The task's current entity tag.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Write only if the task still has this ETag (or `*`); otherwise 412.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Answer 304 with no body if the task still has this ETag.",
)
LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[201],
    required=True,
    description="The new task's path, /tasks/{id}.",
)
TASK_ID = OpenApiParameter(
    "id",
    {"type": "integer", "format": "int64", "minimum": 1},
    OpenApiParameter.PATH,
    description="The task's id, as in Task.id.",
)
LINK = OpenApiParameter(
    "Link",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description='RFC 8288 links to the next and previous pages (rel="next", rel="prev").',
)

IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]{1,255}$"},
    OpenApiParameter.HEADER,
    description=(
        "Makes a retry safe (draft-ietf-httpapi-idempotency-key-header): an opaque key of 1 to 255 "
        f"visible ASCII characters, unique per request. A repeat with the same key and body within "
        f"{KEY_LIFETIME.days * 24} hours returns the first response (status, body, Location, ETag) and "
        "creates nothing. Only successful responses are kept: after an error the key is free again."
    ),
)


def problem_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ProblemSerializer, description=description)


task_schema = extend_schema_view(
    list=extend_schema(operation_id="listTasks", summary="List the caller's tasks", parameters=[LINK]),
    create=extend_schema(
        operation_id="createTask",
        summary="Create a task",
        parameters=[IDEMPOTENCY_KEY, ETAG, LOCATION],
        responses={
            201: TaskSerializer,
            (409, PROBLEM_CONTENT_TYPE): problem_response(
                "A request with this Idempotency-Key is still being processed; retry later."
            ),
            (422, PROBLEM_CONTENT_TYPE): problem_response(
                "This Idempotency-Key was already used with a different body."
            ),
        },
    ),
    retrieve=extend_schema(
        operation_id="getTask",
        summary="Read a task",
        parameters=[TASK_ID, IF_NONE_MATCH, ETAG],
        responses={
            200: TaskSerializer,
            304: OpenApiResponse(description="Not modified: the task still has the ETag sent; no body."),
        },
    ),
    update=extend_schema(
        operation_id="replaceTask", summary="Replace a task", parameters=[TASK_ID, IF_MATCH, ETAG]
    ),
    partial_update=extend_schema(
        operation_id="updateTask",
        summary="Change some fields of a task",
        parameters=[TASK_ID, IF_MATCH, ETAG],
    ),
    destroy=extend_schema(operation_id="deleteTask", summary="Delete a task", parameters=[TASK_ID, IF_MATCH]),
)

changes_schema = extend_schema(
    operation_id="listChanges",
    summary="What changed among the caller's tasks since a cursor (incremental sync)",
    description=(
        "The caller's tasks created or changed, and the ids of those deleted, since `cursor` (all tasks "
        "without one), each id at most once and in its latest state. Store `tasks`, remove `deleted`, and "
        "call again with the new `cursor` while `more` is true: the local copy then equals the server's, "
        "however other clients write meanwhile. Keep the last cursor for the next sync."
    ),
    parameters=[
        OpenApiParameter(
            "cursor",
            OpenApiTypes.STR,
            OpenApiParameter.QUERY,
            description=(
                "The `cursor` of the previous answer; without it, from the beginning. Opaque and signed; "
                "a malformed one or another user's is 400, one past the retention of deletions is 410."
            ),
        ),
        OpenApiParameter(
            "limit",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": ChangesForm.max_limit,
                "default": ChangesForm.default_limit,
            },
            OpenApiParameter.QUERY,
            description="At most this many tasks and deleted ids together.",
        ),
    ],
    responses={
        200: TaskChangesSerializer,
        (400, PROBLEM_CONTENT_TYPE): problem_response("`cursor` or `limit` is invalid; `errors` names each."),
        (410, PROBLEM_CONTENT_TYPE): problem_response(
            "The cursor is too old (deletions it needs were purged, or the log was reset): sync again "
            "from the beginning, without a cursor."
        ),
    },
)


def describe_task_fields_fully(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """A task in a response always has every field, and its id is the path's id type.

    The request bodies carry an example: documentation readers see a typical
    body, and schema-driven tools start from one the server accepts.
    """
    schemas = result["components"]["schemas"]
    task = schemas["Task"]
    task["required"] = list(task["properties"])
    task["properties"]["id"].update(TASK_ID.type)
    schemas["TaskRequest"]["example"] = {"title": "Buy milk", "done": False}
    schemas["PatchedTaskRequest"]["example"] = {"done": True}
    return result
