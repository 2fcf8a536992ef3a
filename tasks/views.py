from typing import Any

from django.http import Http404
from django.urls import reverse
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.problems import InvalidQueryParameters
from tasks.conditional import PreconditionFailed, if_match_passes, if_match_versions, if_none_match_matches
from tasks.filters import ChangesForm, TaskFilter, TaskFilterBackend
from tasks.idempotency import body_fingerprint, idempotency_key, idempotent_response
from tasks.models import Task, TaskQuerySet, TaskTally, owned_task
from tasks.pagination import TaskPagination, id_ordered_pages, queryset_pages
from tasks.schema import changes_schema, task_schema
from tasks.serializers import TaskSerializer, task_representation
from tasks.services import task_create, task_delete, task_update, task_write_refused
from tasks.sync import changes_since

WRITE_METHODS = {"PUT", "PATCH", "DELETE"}


@task_schema
class TaskViewSet(viewsets.ModelViewSet):
    """The caller's tasks. Someone else's task is 404, never 403.

    Responses that carry one task carry its ETag; writes honour If-Match and
    reads If-None-Match.
    """

    serializer_class = TaskSerializer
    filterset_class = TaskFilter
    filter_backends = [TaskFilterBackend]
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

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # One form validates every query parameter, filters and paging alike,
        # so one 400 names them all.
        query = TaskFilter.query_form(request.query_params)
        if not query.is_valid():
            raise InvalidQueryParameters.from_form_errors(query.errors)
        owner, paging, done = request.user, query.paging, query.done_given
        narrowed = query.narrows_beyond_done
        # Unfiltered or filtered by done alone, the total is the owner's tally
        # (one row at any size) and, in id order, a page comes from SQL
        # compiled once; other lists filter, count and read through the ORM.
        if narrowed or paging.ordering not in ("id", "-id"):
            tasks = TaskFilter(request.query_params, queryset=self.get_queryset(), request=request).qs
            fetch = queryset_pages(tasks, paging=paging)
            total = tasks.count() if narrowed else TaskTally.count_of(owner, done=done)  # type: ignore[arg-type]
        else:
            fetch = id_ordered_pages(owner_id=owner.pk, done=done, paging=paging)  # type: ignore[arg-type]
            total = TaskTally.count_of(owner, done=done)  # type: ignore[arg-type]
        paginator = self.paginator
        assert isinstance(paginator, TaskPagination)
        page = paginator.paginate(request, fetch=fetch, total=total, paging=paging)
        return paginator.get_paginated_response([task_representation(task) for task in page])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        owner_id, pk = self.target()
        task = owned_task(owner_id=owner_id, pk=pk)
        if task is None:
            raise Http404
        self.task = task
        if if_none_match_matches(request, task.etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED)
        return Response(self.get_serializer(task).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = idempotency_key(request=request)
        if key is None:
            return super().create(request, *args, **kwargs)
        return idempotent_response(
            owner=request.user,  # type: ignore[arg-type]
            key=key,
            fingerprint=body_fingerprint(body=request.data),
            respond=lambda: self.create_with_etag(request),
        )

    def create_with_etag(self, request: Request) -> Response:
        """The 201 of a new task with its ETag already set, so that a stored response has it."""
        response = super().create(request)
        assert self.task is not None
        response["ETag"] = self.task.etag
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Nothing is read first: the UPDATE checks the version and returns the row.
        owner_id, pk, versions = self.write_target()
        changes = self.validated_body(partial=kwargs.get("partial", False))
        self.task = task_update(owner_id=owner_id, pk=pk, changes=changes, versions=versions)
        return Response(self.get_serializer(self.task).data)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The document requires a body, as for every write; `{}` changes nothing.
        if request.stream is None:
            raise ValidationError("The request has no body: send a JSON object, {} to change nothing.")
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        owner_id, pk, versions = self.write_target()
        task_delete(owner_id=owner_id, pk=pk, versions=versions)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def caller_id(self) -> int:
        owner_id = self.request.user.pk
        assert owner_id is not None  # the permission class let in only a signed-in user
        return owner_id

    def target(self) -> tuple[int, int]:
        """The caller's id and the id of the task in the URL."""
        return self.caller_id(), int(self.kwargs[self.lookup_url_kwarg or self.lookup_field])

    def write_target(self) -> tuple[int, int, tuple[int, ...] | None]:
        """The target, and the versions If-Match allows a write to (None: any);
        412 or 404 at once when it allows none."""
        owner_id, pk = self.target()
        versions = if_match_versions(self.request, pk)
        if versions == ():
            task_write_refused(owner_id=owner_id, pk=pk)
        return owner_id, pk, versions

    def validated_body(self, *, partial: bool) -> dict[str, Any]:
        """The body's changes, validated; for PUT an omitted `done` is false.

        Preconditions come before the body (RFC 9110 section 13.2.2): with a
        bad body, a missing task is still 404 and a stale If-Match 412.
        """
        try:
            serializer = self.get_serializer(data=self.request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
        except APIException:  # a malformed body, a wrong media type, invalid fields
            self.get_object()
            raise
        return dict(serializer.validated_data)

    def perform_create(self, serializer: TaskSerializer) -> None:  # type: ignore[override]
        self.task = serializer.instance = task_create(
            owner_id=self.caller_id(), fields=dict(serializer.validated_data)
        )

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.task is not None and response.status_code in (200, 201, 304):
            response["ETag"] = self.task.etag
        return response

    def get_success_headers(self, data: Any) -> dict[str, str]:
        return {"Location": reverse("task-detail", args=[data["id"]])}


class TaskChangesView(APIView):
    """What changed among the caller's tasks since a cursor, for clients that keep a local copy."""

    @changes_schema
    def get(self, request: Request) -> Response:
        query = ChangesForm(request.query_params, owner=request.user)
        if not query.is_valid():
            raise InvalidQueryParameters.from_form_errors(query.errors)
        page = changes_since(
            owner=request.user,  # type: ignore[arg-type]
            cursor=query.cleaned_data["cursor"],
            limit=query.cleaned_data["limit"] or ChangesForm.default_limit,
        )
        return Response(
            {
                "tasks": [task_representation(task) for task in page.tasks],
                "deleted": page.deleted,
                "cursor": page.cursor.dumps(),
                "more": page.more,
            }
        )
