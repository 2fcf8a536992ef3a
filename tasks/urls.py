from django.urls import re_path
from rest_framework.routers import SimpleRouter

from tasks.views import TaskChangesView, TaskViewSet

# Paths answer with and without a trailing slash, never redirecting: a
# redirect would lose a POST body.
router = SimpleRouter()
router.trailing_slash = "/?"
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = [re_path(r"^tasks/changes/?$", TaskChangesView.as_view(), name="task-changes"), *router.urls]
