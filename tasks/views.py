from typing import Any

from django.contrib.auth import logout
from django.db.models import F, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework import status, viewsets
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tasks.conditional import PreconditionFailed, if_match_passes, if_none_match_matches
from tasks.filters import TaskFilter
from tasks.models import Task, TaskQuerySet, TaskTally
from tasks.pagination import TaskPagination
from tasks.schema import logout_schema, task_schema, token_schema
from tasks.serializers import LoginSerializer, TaskSerializer, TokenSerializer
from tasks.throttling import FailedLoginThrottle

WRITE_METHODS = {"PUT", "PATCH", "DELETE"}
# Every filter but the sort order narrows the list, so its total needs a COUNT.
NARROWING_FILTERS = TaskFilter.base_filters.keys() - {"ordering"}


@task_schema
class TaskViewSet(viewsets.ModelViewSet):
    """The caller's tasks. Someone else's task is 404, never 403.

    Responses that carry one task carry its ETag; writes honour If-Match and
    reads If-None-Match.
    """

    # Writes are compare-and-swap: get_object() checks If-Match against the
    # version it read, and the UPDATE or DELETE applies only while the row
    # still has that version. Of two writers holding one ETag exactly one
    # wins, and no lock is held while Python validates and serializes.

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    pagination_class = TaskPagination
    lookup_value_regex = "[0-9]{1,18}"  # fits a 64-bit id; longer is an unknown URL
    task: Task | None = None  # the task the response describes, for its ETag

    def get_queryset(self) -> TaskQuerySet:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Task.objects.none()
        return Task.objects.owned_by(self.request.user)  # type: ignore[arg-type]

    def get_object(self) -> Task:
        self.task = super().get_object()
        if self.request.method in WRITE_METHODS and not if_match_passes(self.request, self.task.etag):
            raise PreconditionFailed
        return self.task

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        task = self.get_object()
        if if_none_match_matches(request, task.etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        return Response(self.get_serializer(task).data)

    def perform_update(self, serializer: TaskSerializer) -> None:  # type: ignore[override]
        task = serializer.instance
        assert task is not None
        written = self.unchanged_since_read(task).update(
            **serializer.validated_data, updated_at=timezone.now(), version=F("version") + 1
        )
        self.check_written(written, task)
        task.refresh_from_db()  # the response shows, with its ETag, the state now stored

    def perform_destroy(self, task: Task) -> None:
        deleted, _ = self.unchanged_since_read(task).delete()
        self.check_written(deleted, task)

    def unchanged_since_read(self, task: Task) -> QuerySet[Task]:
        """The task, held to the version If-Match was checked against (if it named one)."""
        tasks = self.get_queryset().filter(pk=task.pk)
        if self.request.headers.get("If-Match", "*").strip() != "*":
            tasks = tasks.filter(version=task.version)
        return tasks

    def check_written(self, rows: int, task: Task) -> None:
        """Nothing written: another write won since get_object(), or the task is gone."""
        if rows == 0:
            raise PreconditionFailed if self.get_queryset().filter(pk=task.pk).exists() else Http404

    def perform_create(self, serializer: TaskSerializer) -> None:  # type: ignore[override]
        self.task = serializer.save(owner=self.request.user)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.task is not None and response.status_code in (200, 201, 304):
            response["ETag"] = self.task.etag
        return response

    def count_listed(self, tasks: QuerySet[Task]) -> int:
        """The list's `total`: for an unfiltered list, the owner's tally, which
        costs the same at a million tasks as at ten; COUNT(*) otherwise."""
        if any(self.request.query_params.get(name) for name in NARROWING_FILTERS):
            return tasks.count()
        return TaskTally.of(self.request.user)  # type: ignore[arg-type]

    def get_success_headers(self, data: Any) -> dict[str, str]:
        return {"Location": reverse("task-detail", args=[data["id"]])}


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
        AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
        token, secret = AuthToken.objects.create(user)
        body = TokenSerializer({"token": secret, "expires_at": token.expiry}).data
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
