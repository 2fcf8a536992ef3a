"""What the OpenAPI document says about authentication and the auth endpoints."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema

from accounts.serializers import LoginSerializer, TokenSerializer
from api.openapi import ProblemSerializer
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


token_schema = extend_schema(
    operation_id="login",
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
    operation_id="logout",
    summary="Revoke the token in use",
    request=None,
    responses={204: OpenApiResponse(description="Revoked.")},
)
