from django.urls import path, re_path

from api.views import HealthView, MetricsView, ReadyView, RedocView, SchemaView, SwaggerView, favicon

# Like the API's own paths, these answer with and without a trailing slash.
urlpatterns = [
    path("favicon.ico", favicon),
    re_path(r"^healthz/?$", HealthView.as_view(), name="healthz"),
    re_path(r"^readyz/?$", ReadyView.as_view(), name="readyz"),
    re_path(r"^metrics/?$", MetricsView.as_view(), name="metrics"),
    re_path(r"^openapi\.json/?$", SchemaView.as_view(), name="openapi"),
    re_path(r"^docs/?$", SwaggerView.as_view(url_name="openapi"), name="docs"),
    re_path(r"^redoc/?$", RedocView.as_view(url_name="openapi"), name="redoc"),
]
