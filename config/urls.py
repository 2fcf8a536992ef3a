from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import HealthView, ReadyView, RedocView, SchemaView, SwaggerView
from tasks.throttling import throttle_failed_logins

# The browsable API's log in / log out (rest_framework.urls), with the limit
# on failed logins.
session_urls = [
    path(
        "login/",
        throttle_failed_logins(auth_views.LoginView.as_view(template_name="rest_framework/login.html")),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask every host for /favicon.ico; answer with an icon we ship."""
    return redirect(static("drf_spectacular_sidecar/swagger-ui-dist/favicon-32x32.png"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("", RedirectView.as_view(url="/tasks", permanent=False)),
    path("", include("tasks.urls")),
    path("admin/", admin.site.urls),
    path("api-auth/", include((session_urls, "rest_framework"))),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("openapi.json", SchemaView.as_view(), name="openapi"),
    path("docs", SwaggerView.as_view(url_name="openapi"), name="docs"),
    path("redoc", RedocView.as_view(url_name="openapi"), name="redoc"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
