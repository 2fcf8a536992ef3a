from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config.views import HealthView, ReadyView

urlpatterns = [
    path("", RedirectView.as_view(url="/tasks", permanent=False)),
    path("", include("tasks.urls")),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
