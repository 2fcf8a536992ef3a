from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts.urls import session_urlpatterns

urlpatterns = [
    path("", RedirectView.as_view(url="/tasks", permanent=False)),
    path("", include("tasks.urls")),
    path("", include("accounts.urls")),
    path("", include("api.urls")),
    path("admin/", admin.site.urls),
    path("api-auth/", include((session_urlpatterns, "rest_framework"))),
]

handler400 = "api.views.bad_request"
handler403 = "api.views.permission_denied"
handler404 = "api.views.page_not_found"
handler500 = "api.views.server_error"
