"""What the OpenAPI document says about authentication and the auth endpoints."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from accounts.serializers import (
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    TokenListItemSerializer,
    TokenSerializer,
)
from api.openapi import ProblemAutoSchema, ProblemSerializer
from api.problems import PROBLEM_CONTENT_TYPE


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"
    priority = 1

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /auth/token, sent as `Authorization: Bearer <token>`.",
        }


class AccountsAutoSchema(ProblemAutoSchema):
    """Tokens have no ETag (no 412) and their list takes no query parameters (no 400)."""

    def error_statuses(self) -> set[int]:
        statuses = super().error_statuses() - {412}
        if self.method == "GET":
            statuses.discard(400)
        return statuses


NO_STORE = OpenApiParameter(
    "Cache-Control",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200],
    description="`no-store`: the response holds secrets or lists them.",
)


def _problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(ProblemSerializer, description=description)


TOO_MANY_FAILURES = _problem(
    "Too many failed logins from this client address or for this username; see Retry-After."
)

token_schema = extend_schema(
    operation_id="login",
    summary="Exchange a username and password for a bearer token",
    request={"application/json": LoginSerializer},
    responses={
        200: TokenSerializer,
        (429, PROBLEM_CONTENT_TYPE): TOO_MANY_FAILURES,
    },
    parameters=[NO_STORE],
    auth=[],
)

logout_schema = extend_schema(
    operation_id="logout",
    summary="Revoke the token in use",
    request=None,
    responses={204: OpenApiResponse(description="Revoked.")},
)

me_schema = extend_schema(
    operation_id="getMe",
    summary="Who the caller is",
    responses={200: MeSerializer},
    parameters=[NO_STORE],
)

token_list_schema = extend_schema(
    operation_id="listTokens",
    summary="The caller's live tokens, newest first",
    responses={200: TokenListItemSerializer(many=True)},
    parameters=[NO_STORE],
)

token_revoke_others_schema = extend_schema(
    operation_id="revokeOtherTokens",
    summary="Revoke every token of the caller's but the one in use",
    request=None,
    responses={204: OpenApiResponse(description="Revoked.")},
)

token_revoke_schema = extend_schema(
    operation_id="revokeToken",
    summary="Revoke one of the caller's tokens",
    request=None,
    parameters=[
        OpenApiParameter(
            "id",
            OpenApiTypes.STR,
            OpenApiParameter.PATH,
            pattern="^[^/]{1,64}$",
            description="A token's `id` from GET /auth/tokens.",
        )
    ],
    responses={
        204: OpenApiResponse(description="Revoked."),
        (404, PROBLEM_CONTENT_TYPE): _problem("No such live token among the caller's."),
    },
)

password_schema = extend_schema(
    operation_id="changePassword",
    summary="Change the caller's password, revoking every other token and session",
    request={"application/json": PasswordChangeSerializer},
    responses={
        204: OpenApiResponse(description="Changed; only this token or session still works."),
        (400, PROBLEM_CONTENT_TYPE): _problem(
            "Invalid fields: `#/old_password` when it is wrong, `#/new_password` when Django's "
            "password validators refuse it."
        ),
        (429, PROBLEM_CONTENT_TYPE): TOO_MANY_FAILURES,
    },
)
