"""SPEC §11: changing a password revokes every other token and session; so does staff setting one."""

from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, make_staff
from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem

NEW_PASSWORD = "a much longer passphrase"


def change_password(client: APIClient, old: Any = PASSWORD, new: Any = NEW_PASSWORD, **extra: Any) -> Any:
    body = {"old_password": old, "new_password": new, **extra}
    return client.post(reverse("auth-password"), body, format="json")


def can_log_in(user: Any, password: str) -> bool:
    body = {"username": user.username, "password": password}
    return APIClient().post(reverse("auth-token"), body, format="json").status_code == 200


def session_for(user: Any) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_password_change_returns_204_and_the_new_password_works(user):
    """POST /auth/password answers 204; the new password logs in, the old one no longer does."""
    response = change_password(client_for(user))

    assert response.status_code == 204
    assert response.content == b""
    assert can_log_in(user, NEW_PASSWORD)
    assert not can_log_in(user, PASSWORD)


def test_password_change_revokes_every_other_token_but_not_the_current_one(user, other_user):
    """The token that changed the password keeps working; the user's others are 401; others' users' stay."""
    current = client_for(user)
    others = [client_for(user) for _ in range(2)]
    someone_else = client_for(other_user)

    assert change_password(current).status_code == 204

    assert current.get(reverse("auth-me")).status_code == 200
    for client in others:
        assert_problem(client.get(reverse("auth-me")), 401)
    assert someone_else.get(reverse("auth-me")).status_code == 200
    assert AuthToken.objects.filter(user=user).count() == 1


def test_password_change_ends_the_users_sessions(user):
    """A browser session of the user is logged out by a password change made with a token."""
    browser = session_for(user)
    assert browser.get(reverse("auth-me")).status_code == 200

    assert change_password(client_for(user)).status_code == 204

    assert_problem(browser.get(reverse("auth-me")), 401)


def test_password_change_from_a_session_keeps_that_session_only(user):
    """Changing the password in a browser keeps that browser logged in; other sessions and all tokens end."""
    browser = session_for(user)
    other_browser = session_for(user)
    token_client = client_for(user)

    assert change_password(browser).status_code == 204

    assert browser.get(reverse("auth-me")).status_code == 200
    assert_problem(other_browser.get(reverse("auth-me")), 401)
    assert_problem(token_client.get(reverse("auth-me")), 401)


@pytest.mark.parametrize("weak", ["short", "12345678901234", "password123", "user-name-1"])
def test_weak_new_password_returns_400_naming_new_password_and_changes_nothing(user, weak):
    """Django's password validators apply: a weak password is a 400 pointing at #/new_password."""
    user.username = "user-name-1"
    user.save()
    client = client_for(user)
    other = client_for(user)

    body = assert_problem(change_password(client, new=weak), 400)

    assert body["errors"]
    assert {error["pointer"] for error in body["errors"]} == {"#/new_password"}
    assert can_log_in(user, PASSWORD)
    assert other.get(reverse("auth-me")).status_code == 200


def test_wrong_old_password_returns_400_naming_old_password_and_changes_nothing(user):
    """A wrong old password is a 400 pointing at #/old_password; no password or token changes."""
    other = client_for(user)

    body = assert_problem(change_password(client_for(user), old="not my password"), 400)

    assert body["errors"] == [{"pointer": "#/old_password", "detail": "The password is not correct."}]
    assert can_log_in(user, PASSWORD)
    assert other.get(reverse("auth-me")).status_code == 200


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({}, {"#/old_password", "#/new_password"}),
        ({"old_password": PASSWORD}, {"#/new_password"}),
        ({"old_password": PASSWORD, "new_password": 12345678}, {"#/new_password"}),
        ({"old_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD}, {"#/confirm"}),
    ],
)
def test_password_change_with_missing_unknown_or_non_string_fields_returns_400(user, body, pointers):
    """Fields are required JSON strings and unknown ones are named, as everywhere in the API."""
    response = client_for(user).post(reverse("auth-password"), body, format="json")

    problem = assert_problem(response, 400)
    assert {error["pointer"] for error in problem["errors"]} == pointers
    assert can_log_in(user, PASSWORD)


def test_password_change_without_credentials_returns_401(anon_client, user):
    """Only an authenticated caller can change its password."""
    response = change_password(anon_client)

    assert_problem(response, 401)
    assert can_log_in(user, PASSWORD)


def test_wrong_old_passwords_count_as_failed_logins(user, settings):
    """Whoever holds a stolen token cannot guess the password without limit: 429 after the limit."""
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    client = client_for(user)
    for _ in range(2):
        assert change_password(client, old="guess").status_code == 400

    response = change_password(client)

    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
    assert not can_log_in(user, NEW_PASSWORD)


def test_password_change_runs_a_constant_number_of_queries(user, django_assert_num_queries):
    """However many tokens the user holds, a password change costs the same queries."""
    for _ in range(5):
        client_for(user)
    client = client_for(user)

    # authentication; the failure counts up (one upsert) and back down (two
    # updates); the password; the other tokens' keys, their details' delete,
    # their delete; savepoint and release
    with django_assert_num_queries(10):
        assert change_password(client).status_code == 204


# Staff setting a password in the admin


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(make_staff())
    return client


def test_admin_password_change_revokes_all_the_users_tokens(admin_client, user, other_user):
    """Staff setting a user's password (after a compromise, say) shuts out every token that user held."""
    tokens = [client_for(user) for _ in range(2)]
    theirs = client_for(other_user)
    url = reverse("admin:auth_user_password_change", args=[user.pk])

    response = admin_client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response.status_code == 302
    for client in tokens:
        assert_problem(client.get(reverse("auth-me")), 401)
    assert theirs.get(reverse("auth-me")).status_code == 200
    assert can_log_in(user, NEW_PASSWORD)


def test_rejected_admin_password_change_revokes_nothing(admin_client, user):
    """A form the admin refuses (passwords differ) changes neither the password nor the tokens."""
    token = client_for(user)
    url = reverse("admin:auth_user_password_change", args=[user.pk])

    response = admin_client.post(url, {"password1": NEW_PASSWORD, "password2": "something else"})

    assert response.status_code == 200
    assert token.get(reverse("auth-me")).status_code == 200
    assert can_log_in(user, PASSWORD)


def test_staff_changing_their_own_password_in_the_admin_stay_logged_in(db):
    """The admin keeps the staff member's own session (Django's update_session_auth_hash)."""
    staff = make_staff()
    client = Client()
    client.force_login(staff)

    url = reverse("admin:auth_user_password_change", args=[staff.pk])
    client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert int(client.session[SESSION_KEY]) == staff.pk
    assert client.get("/admin/").status_code == 200
