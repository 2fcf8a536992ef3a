from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import RejectUnknownFieldsMixin, StrictCharField


class LoginSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=4096, trim_whitespace=False)

    def authenticate(self) -> Any:
        """The user these credentials belong to, or None."""
        return authenticate(
            self.context["request"],
            username=self.validated_data["username"],
            password=self.validated_data["password"],
        )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    is_staff = serializers.BooleanField(read_only=True)


class TokenListItemSerializer(serializers.Serializer):
    """One of the caller's tokens, described without its secret."""

    id = serializers.CharField(
        source="token_key", help_text="The token's first characters: enough to name it, useless to log in."
    )
    created_at = serializers.DateTimeField(source="created")
    expires_at = serializers.DateTimeField(source="expiry", allow_null=True)
    # A token issued by other means than POST /auth/token has no details
    # until its first use: then these read as its creation and "".
    last_used_at = serializers.SerializerMethodField(
        help_text="When it last authenticated a request (or was issued), to the minute."
    )
    user_agent = serializers.SerializerMethodField(help_text="The User-Agent of the client that logged in.")
    current = serializers.SerializerMethodField(help_text="Whether this is the token of this request.")

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_last_used_at(self, token: Any) -> str:
        detail = token.detail if hasattr(token, "detail") else None
        return self.fields["created_at"].to_representation(detail.last_used_at if detail else token.created)

    def get_user_agent(self, token: Any) -> str:
        return str(token.detail.user_agent) if hasattr(token, "detail") else ""

    def get_current(self, token: Any) -> bool:
        current = self.context.get("current")
        return current is not None and token.pk == current.pk


class PasswordChangeSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    """The caller's current password, and the new one (Django's password validators apply)."""

    old_password = StrictCharField(max_length=4096, trim_whitespace=False, write_only=True)
    new_password = StrictCharField(max_length=4096, trim_whitespace=False, write_only=True)
