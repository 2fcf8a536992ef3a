"""What the generated OpenAPI schema says about the tasks and auth endpoints."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view

from config.problems import PROBLEM_CONTENT_TYPE
from config.schema import ProblemSerializer
from tasks.serializers import LoginSerializer, TaskSerializer, TokenSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tasks.authentication.BearerTokenAuthentication"
    name = "bearerAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /auth/token, sent as `Authorization: Bearer <token>`.",
        }


ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 304],
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
    description="The new task's path, /tasks/{id}.",
)
LINK = OpenApiParameter(
    "Link",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description='RFC 8288 links to the next and previous pages (rel="next", rel="prev").',
)

task_schema = extend_schema_view(
    list=extend_schema(summary="List the caller's tasks", parameters=[LINK]),
    create=extend_schema(summary="Create a task", parameters=[ETAG, LOCATION]),
    retrieve=extend_schema(
        summary="Read a task",
        parameters=[IF_NONE_MATCH, ETAG],
        responses={200: TaskSerializer, 304: OpenApiResponse(description="Not modified: no body.")},
    ),
    update=extend_schema(summary="Replace a task", parameters=[IF_MATCH, ETAG]),
    partial_update=extend_schema(summary="Change some fields of a task", parameters=[IF_MATCH, ETAG]),
    destroy=extend_schema(summary="Delete a task", parameters=[IF_MATCH]),
)

token_schema = extend_schema(
    summary="Exchange a username and password for a bearer token",
    request=LoginSerializer,
    responses={
        200: TokenSerializer,
        (429, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description="Too many failed logins from this address; see Retry-After."
        ),
    },
    auth=[],
)

logout_schema = extend_schema(
    summary="Revoke the token in use",
    request=None,
    responses={204: OpenApiResponse(description="Revoked.")},
)
