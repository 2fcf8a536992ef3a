"""SPEC §11: browser apps on the listed origins call the API with bearer tokens, never cookies."""

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

ALLOWED = "https://app.example.com"


@pytest.fixture(autouse=True)
def allowed_origin(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def preflight(origin: str, method: str = "PATCH", headers: str = "authorization, content-type") -> Any:
    return APIClient().options(
        "/auth/tokens",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_preflight_from_an_allowed_origin_allows_the_api_headers(db):
    """The preflight names the origin and allows Authorization, Content-Type and the conditional headers."""
    headers = "authorization, content-type, if-match, if-none-match, idempotency-key"
    response = preflight(ALLOWED, headers=headers)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    allowed = {name.strip().lower() for name in response["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "if-match", "if-none-match", "idempotency-key"}
    assert "DELETE" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_preflight_from_another_origin_allows_nothing(db):
    """An origin not in DJANGO_CORS_ALLOWED_ORIGINS gets no Access-Control-Allow-* header."""
    response = preflight("https://evil.example.net")

    assert not [name for name in response.headers if name.lower().startswith("access-control-allow")]


def test_request_from_an_allowed_origin_exposes_the_api_headers(api_client):
    """An actual request from an allowed origin is answered with the origin and the exposed headers."""
    response = api_client.get(reverse("auth-me"), headers={"Origin": ALLOWED})

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    exposed = {name.strip() for name in response["Access-Control-Expose-Headers"].split(",")}
    assert {"ETag", "Location", "Link", "Retry-After"} <= exposed
    assert "Access-Control-Allow-Credentials" not in response


def test_request_from_another_origin_carries_no_cors_headers(api_client):
    """The browser of a page on an unlisted origin is not allowed to read the response."""
    response = api_client.get(reverse("auth-me"), headers={"Origin": "https://evil.example.net"})

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Expose-Headers" not in response


def test_no_origin_is_allowed_by_default(db, settings):
    """Without DJANGO_CORS_ALLOWED_ORIGINS nothing is allowed (the test settings pin an empty list)."""
    settings.CORS_ALLOWED_ORIGINS = []

    assert "Access-Control-Allow-Origin" not in preflight(ALLOWED)


def test_error_responses_carry_cors_headers_for_allowed_origins(anon_client):
    """A 401 problem reaches the calling page too, so the app can read why it failed."""
    response = anon_client.get(reverse("auth-me"), headers={"Origin": ALLOWED})

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED
