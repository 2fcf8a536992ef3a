from django.urls import re_path
from rest_framework.routers import SimpleRouter

from tasks.views import LogoutView, TaskViewSet, TokenView

# Paths answer with and without a trailing slash, never redirecting: a
# redirect would lose a POST body.
router = SimpleRouter()
router.trailing_slash = "/?"
router.register("tasks", TaskViewSet, basename="task")

urlpatterns = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="auth-token"),
    re_path(r"^auth/logout/?$", LogoutView.as_view(), name="auth-logout"),
    *router.urls,
]
