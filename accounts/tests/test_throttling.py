"""SPEC §11: failed logins counted atomically per client network and per username."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import LoginFailureCount
from accounts.tests.factories import PASSWORD
from api.tests.helpers import assert_problem


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    settings.LOGIN_FAILURES_PER_USERNAME = 5
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60
    return settings


@pytest.fixture
def behind_proxy(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


def log_in(username: str, password: str = PASSWORD, address: str = "127.0.0.1", **headers: str) -> Any:
    body = {"username": username, "password": password}
    return APIClient().post(reverse("auth-token"), body, format="json", REMOTE_ADDR=address, headers=headers)


def test_one_username_is_limited_across_many_client_addresses(user, limits, behind_proxy):
    """Guesses at one username from ever-new addresses (X-Forwarded-For) stop at the username limit."""
    for n in range(5):
        response = log_in(user.username, "wrong", **{"X-Forwarded-For": f"203.0.113.{n}"})
        assert response.status_code == 400

    refused = log_in(user.username, **{"X-Forwarded-For": "203.0.113.99"})

    assert_problem(refused, 429)
    assert 0 < int(refused["Retry-After"]) <= 60
    assert not AuthToken.objects.exists()


def test_the_username_limit_leaves_other_usernames_alone(user, other_user, limits, behind_proxy):
    """Another user logs in from a fresh address while one username is locked."""
    for n in range(5):
        log_in(user.username, "wrong", **{"X-Forwarded-For": f"203.0.113.{n}"})

    assert log_in(other_user.username, **{"X-Forwarded-For": "198.51.100.1"}).status_code == 200


def test_many_usernames_from_one_address_are_limited_by_the_address(user, limits):
    """One address guessing a different username each time stops at the address limit."""
    for n in range(3):
        assert log_in(f"nobody{n}", "wrong", address="192.0.2.1").status_code == 400

    assert_problem(log_in(user.username, address="192.0.2.1"), 429)
    assert log_in(user.username, address="192.0.2.2").status_code == 200


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", True),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:192.0.2.7", "192.0.2.7", True),
        ("192.0.2.7", "192.0.2.8", False),
    ],
)
def test_ipv6_addresses_share_a_limit_per_64_network(user, limits, first, second, shared):
    """Addresses in one IPv6 /64 count as one client; IPv4 (mapped or not) count per address."""
    for _ in range(3):
        log_in(user.username, "wrong", address=first)

    response = log_in(user.username, address=second)

    assert response.status_code == (429 if shared else 200)


def test_the_limit_lifts_when_the_window_has_passed(user, limits):
    """Counts belong to a window: once it is over, the address may try again."""
    for _ in range(3):
        log_in(user.username, "wrong", address="192.0.2.1")
    assert log_in(user.username, address="192.0.2.1").status_code == 429

    LoginFailureCount.objects.update(window_start=0)

    assert log_in(user.username, address="192.0.2.1").status_code == 200


def test_counts_are_rows_in_the_database_not_the_cache(user, limits):
    """The counts live in a table every worker shares; a username is kept only as a keyed hash."""
    log_in(user.username, "wrong", address="192.0.2.1")

    keys = dict(LoginFailureCount.objects.values_list("key", "count"))
    assert keys.pop("address:192.0.2.1") == 1
    ((key, count),) = keys.items()
    assert key.startswith("username:") and user.username not in key and count == 1


def test_refused_and_successful_attempts_leave_the_counts_unchanged(user, limits):
    """Only failures stay counted: a success or a 429 gives its count back."""
    for _ in range(2):
        log_in(user.username, "wrong", address="192.0.2.1")
    assert log_in(user.username, address="192.0.2.1").status_code == 200
    log_in(user.username, "wrong", address="192.0.2.1")
    assert log_in(user.username, address="192.0.2.1").status_code == 429

    assert set(LoginFailureCount.objects.values_list("count", flat=True)) == {3}


def test_malformed_login_bodies_are_not_counted(user, limits):
    """A 400 for the body's shape checked no password: it is not a failed login."""
    for _ in range(5):
        response = APIClient().post(reverse("auth-token"), {"username": user.username}, format="json")
        assert response.status_code == 400

    assert not LoginFailureCount.objects.exists()
    assert log_in(user.username).status_code == 200


def test_admin_and_browsable_api_logins_share_the_username_limit(user, limits, behind_proxy):
    """The admin's and the browsable API's forms count towards the same per-username limit."""
    for n, path in enumerate(["/admin/login/", "/api-auth/login/"] * 2):
        response = Client().post(
            path, {"username": user.username, "password": "wrong"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )
        assert response.status_code == 200
    assert log_in(user.username, "wrong", **{"X-Forwarded-For": "203.0.113.50"}).status_code == 400

    refused = Client().post(
        "/admin/login/", {"username": user.username, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )

    assert_problem(refused, 429)
    assert int(refused["Retry-After"]) > 0


def test_login_attempt_costs_one_upsert_and_a_refund_on_success(user, limits, django_assert_num_queries):
    """Counting is one statement for both counters, and a success gives each back in one more.

    The other seven: the user, the expired tokens to delete, the new token and
    its details (in a savepoint), and last_login.
    """
    with django_assert_num_queries(10) as captured:
        assert log_in(user.username).status_code == 200
    throttle = [q["sql"] for q in captured.captured_queries if "loginfailurecount" in q["sql"].lower()]
    assert len(throttle) == 3
    assert "ON CONFLICT" in throttle[0]
    assert "'address:127.0.0.1'" in throttle[1] and throttle[1].startswith("UPDATE")
    assert "'username:" in throttle[2] and throttle[2].startswith("UPDATE")
