from django.urls import path

from api.views import HealthView, MetricsView, ReadyView, RedocView, SchemaView, SwaggerView, favicon

urlpatterns = [
    path("favicon.ico", favicon),
    path("healthz", HealthView.as_view(), name="healthz"),
    path("readyz", ReadyView.as_view(), name="readyz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("openapi.json", SchemaView.as_view(), name="openapi"),
    path("docs", SwaggerView.as_view(url_name="openapi"), name="docs"),
    path("redoc", RedocView.as_view(url_name="openapi"), name="redoc"),
]
