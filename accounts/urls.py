from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from accounts.throttling import throttle_failed_logins
from accounts.views import LogoutView, MeView, PasswordView, TokenDetailView, TokenListView, TokenView

# Paths answer with and without a trailing slash, never redirecting: a
# redirect would lose a POST body.
urlpatterns = [
    re_path(r"^auth/token/?$", TokenView.as_view(), name="auth-token"),
    re_path(r"^auth/logout/?$", LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/me/?$", MeView.as_view(), name="auth-me"),
    re_path(r"^auth/tokens/?$", TokenListView.as_view(), name="auth-tokens"),
    re_path(r"^auth/tokens/(?P<id>[^/]{1,64})/?$", TokenDetailView.as_view(), name="auth-token-detail"),
    re_path(r"^auth/password/?$", PasswordView.as_view(), name="auth-password"),
]

# The browsable API's log in / log out (what rest_framework.urls gives), with
# the limit on failed logins.
session_urlpatterns = [
    path(
        "login/",
        throttle_failed_logins(auth_views.LoginView.as_view(template_name="rest_framework/login.html")),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
