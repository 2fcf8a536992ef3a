from django.contrib.auth import logout
from knox.models import AuthToken
from rest_framework import status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.schema import logout_schema, token_schema
from accounts.serializers import LoginSerializer, TokenSerializer
from accounts.services import token_issue
from accounts.throttling import FailedLoginThrottle


class TokenView(APIView):
    """Exchange a username and password for a bearer token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = LoginSerializer

    @token_schema
    def post(self, request: Request) -> Response:
        throttle = FailedLoginThrottle()
        if not throttle.allow_request(request, self):
            raise Throttled(wait=throttle.wait())
        serializer = LoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.authenticate()
        if user is None:
            throttle.record_failure()
            raise ValidationError("Unable to log in with the provided credentials.")
        secret, expires_at = token_issue(user=user)
        body = TokenSerializer({"token": secret, "expires_at": expires_at}).data
        return Response(body, status=status.HTTP_200_OK)


class LogoutView(APIView):
    """Revoke the token in use (or end the browser session)."""

    @logout_schema
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
