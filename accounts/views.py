from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from knox.models import AuthToken
from rest_framework import status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.schema import (
    AccountsAutoSchema,
    logout_schema,
    me_schema,
    password_schema,
    token_list_schema,
    token_revoke_others_schema,
    token_revoke_schema,
    token_schema,
)
from accounts.serializers import (
    LoginSerializer,
    MeSerializer,
    PasswordChangeSerializer,
    TokenListItemSerializer,
    TokenSerializer,
)
from accounts.services import password_change, token_issue, token_revoke, tokens_live, tokens_revoke
from accounts.throttling import TOO_MANY, LoginAttempt

NO_STORE = {"Cache-Control": "no-store"}  # secrets and token lists stay out of every cache


def _current_token(request: Request) -> AuthToken | None:
    return request.auth if isinstance(request.auth, AuthToken) else None


class TokenView(APIView):
    """Exchange a username and password for a bearer token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = LoginSerializer

    @token_schema
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        attempt = LoginAttempt(request._request, username=serializer.validated_data["username"])
        if attempt.refused:
            raise Throttled(wait=attempt.retry_after, detail=TOO_MANY)
        user = serializer.authenticate()
        if user is None:
            raise ValidationError("Unable to log in with the provided credentials.")
        attempt.succeeded()
        token, secret = token_issue(user=user, user_agent=request.headers.get("User-Agent", ""))
        # As django.contrib.auth.login() does: last_login stays current.
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        body = TokenSerializer({"token": secret, "expires_at": token.expiry}).data
        return Response(body, status=status.HTTP_200_OK, headers=NO_STORE)


class LogoutView(APIView):
    """Revoke the token in use (or end the browser session)."""

    @logout_schema
    def post(self, request: Request) -> Response:
        token = _current_token(request)
        if token is not None:
            token.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who the caller is."""

    @me_schema
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data, headers=NO_STORE)


class TokenListView(APIView):
    """The caller's live tokens; DELETE revokes all of them but the one in use."""

    schema = AccountsAutoSchema()

    @token_list_schema
    def get(self, request: Request) -> Response:
        tokens = tokens_live(user=request.user)  # type: ignore[arg-type]
        context = {"current": _current_token(request)}
        body = TokenListItemSerializer(tokens, many=True, context=context).data
        return Response(body, headers=NO_STORE)

    @token_revoke_others_schema
    def delete(self, request: Request) -> Response:
        tokens_revoke(user=request.user, keep=_current_token(request))  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenDetailView(APIView):
    """One of the caller's tokens."""

    schema = AccountsAutoSchema()

    @token_revoke_schema
    def delete(self, request: Request, id: str) -> Response:
        if not token_revoke(user=request.user, token_id=id):  # type: ignore[arg-type]
            raise Http404
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordView(APIView):
    """Change the caller's password; every other token and session ends."""

    serializer_class = PasswordChangeSerializer

    @password_schema
    def post(self, request: Request) -> Response:
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        assert isinstance(user, AbstractBaseUser)  # IsAuthenticated
        # Whoever holds a stolen token must not get unlimited guesses at the
        # password it would take over the account with.
        attempt = LoginAttempt(request._request, username=user.get_username())
        if attempt.refused:
            raise Throttled(wait=attempt.retry_after, detail=TOO_MANY)
        if not user.check_password(serializer.validated_data["old_password"]):
            raise ValidationError({"old_password": ["The password is not correct."]})
        attempt.succeeded()
        new_password = serializer.validated_data["new_password"]
        try:
            validate_password(new_password, user)
        except DjangoValidationError as error:
            raise ValidationError({"new_password": list(error.messages)}) from error
        password_change(user=user, password=new_password, keep=_current_token(request))
        if _current_token(request) is None:
            update_session_auth_hash(request._request, user)
        return Response(status=status.HTTP_204_NO_CONTENT)
