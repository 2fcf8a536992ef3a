from typing import Any

from django.contrib.auth import logout
from django.urls import reverse
from knox.models import AuthToken
from rest_framework import status, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks.filters import TaskFilter
from tasks.models import Task, TaskQuerySet
from tasks.pagination import TaskPagination
from tasks.serializers import LoginSerializer, TaskSerializer, TokenSerializer
from tasks.throttling import FailedLoginThrottle


class TaskViewSet(viewsets.ModelViewSet):
    """The caller's tasks. Someone else's task is 404, never 403."""

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    pagination_class = TaskPagination
    lookup_value_regex = "[0-9]{1,18}"  # fits a 64-bit id; longer is an unknown URL

    def get_queryset(self) -> TaskQuerySet:
        return Task.objects.owned_by(self.request.user)  # type: ignore[arg-type]

    def perform_create(self, serializer: TaskSerializer) -> None:  # type: ignore[override]
        serializer.save(owner=self.request.user)

    def get_success_headers(self, data: Any) -> dict[str, str]:
        return {"Location": reverse("task-detail", args=[data["id"]])}


class TokenView(APIView):
    """Exchange a username and password for a bearer token."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = LoginSerializer

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
        token, secret = AuthToken.objects.create(user)
        body = TokenSerializer({"token": secret, "expires_at": token.expiry}).data
        return Response(body, status=status.HTTP_200_OK)


class LogoutView(APIView):
    """Revoke the token in use (or end the browser session)."""

    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
