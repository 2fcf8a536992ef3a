from typing import Any

from django.contrib.auth import authenticate
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
