"""SPEC §5: bearer tokens, sessions for the browsable API, throttled logins, no sign-up."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import client_for
from api.tests.helpers import problem_body
from tasks.models import Task
from tasks.tests.factories import TaskFactory

BAD_CREDENTIALS = {
    "type": "about:blank",
    "title": "Bad Request",
    "status": 400,
    "detail": "The request has invalid fields.",
    "errors": [{"pointer": "#", "detail": "Unable to log in with the provided credentials."}],
}
NOT_AUTHENTICATED = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "Authentication credentials were not provided.",
}
INVALID_TOKEN = {
    "type": "about:blank",
    "title": "Unauthorized",
    "status": 401,
    "detail": "Invalid token.",
}


def log_in(client: APIClient, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(
        reverse("auth-token"), {"username": username, "password": password}, format="json", **extra
    )


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def login_failures_3_per_minute(settings: Any) -> None:
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60


@pytest.fixture
def session_client(user: Any) -> APIClient:
    client = APIClient()
    assert client.login(username=user.username, password=PASSWORD)
    return client


# Logging in with a username and password


def test_login_returns_token_and_expiry_ten_hours_ahead(anon_client, user):
    """POST /auth/token answers 200 with a token and an RFC 3339 UTC expiry 10 hours from now."""
    before = timezone.now()
    response = log_in(anon_client, user.username)
    after = timezone.now()

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at"}
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert body["expires_at"].endswith("Z")
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert before + timedelta(hours=10) <= expires_at <= after + timedelta(hours=10)
    assert AuthToken.objects.get(user=user).expiry == expires_at


def test_login_token_authenticates_as_bearer_on_tasks(anon_client, user, other_user):
    """The returned token works as `Authorization: Bearer <token>` and acts as its user."""
    mine = TaskFactory.create(owner=user)
    TaskFactory.create(owner=other_user)
    token = log_in(anon_client, user.username).json()["token"]

    response = bearer(token).get(reverse("task-list"))

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [mine.id]


def test_bearer_scheme_name_is_case_insensitive(anon_client, user):
    """RFC 9110 auth schemes are case-insensitive: `bearer <token>` works too."""
    token = log_in(anon_client, user.username).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {token}")

    assert client.get(reverse("task-list")).status_code == 200


def test_token_is_stored_hashed(anon_client, user):
    """No column of the stored token row holds the token itself."""
    token = log_in(anon_client, user.username).json()["token"]

    row = AuthToken.objects.get(user=user)
    assert row.digest != token
    for field in AuthToken._meta.concrete_fields:
        assert token not in str(field.value_from_object(row)), field.name


def test_login_follows_configured_token_ttl(anon_client, user, settings):
    """expires_at follows REST_KNOX["TOKEN_TTL"]."""
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(seconds=90)}
    before = timezone.now()
    response = log_in(anon_client, user.username)
    after = timezone.now()

    assert response.status_code == 200
    expires_at = datetime.fromisoformat(response.json()["expires_at"])
    assert before + timedelta(seconds=90) <= expires_at <= after + timedelta(seconds=90)


def test_expired_token_returns_401(anon_client, user):
    """A token past its expiry no longer authenticates."""
    token = log_in(anon_client, user.username).json()["token"]
    AuthToken.objects.filter(user=user).update(expiry=timezone.now() - timedelta(seconds=1))

    response = bearer(token).get(reverse("task-list"))

    assert response.status_code == 401
    assert problem_body(response) == INVALID_TOKEN
    assert response["WWW-Authenticate"] == "Bearer"


def test_logging_in_deletes_the_users_expired_tokens_only(anon_client, user, other_user):
    """Expired tokens are cleaned up at the owner's next login; live ones and other users' stay."""
    expired = log_in(anon_client, user.username).json()["token"]
    live = log_in(anon_client, user.username).json()["token"]
    AuthToken.objects.filter(user=other_user).delete()
    AuthToken.objects.create(other_user, expiry=timedelta(seconds=-1))
    AuthToken.objects.filter(user=user, token_key=expired[:15]).update(
        expiry=timezone.now() - timedelta(seconds=1)
    )

    fresh = log_in(anon_client, user.username).json()["token"]

    assert set(AuthToken.objects.filter(user=user).values_list("token_key", flat=True)) == {
        live[:15],
        fresh[:15],
    }
    assert AuthToken.objects.filter(user=other_user).count() == 1
    assert bearer(live).get(reverse("task-list")).status_code == 200


def test_token_of_deactivated_user_returns_401(anon_client, user):
    """Deactivating a user shuts out the tokens they already hold."""
    token = log_in(anon_client, user.username).json()["token"]
    user.is_active = False
    user.save()

    response = bearer(token).get(reverse("task-list"))

    assert response.status_code == 401
    assert problem_body(response)["status"] == 401


def test_user_can_hold_several_tokens_at_once(anon_client, user):
    """Two logins give two different tokens that both work (one per device)."""
    first = log_in(anon_client, user.username).json()["token"]
    second = log_in(anon_client, user.username).json()["token"]

    assert first != second
    assert AuthToken.objects.filter(user=user).count() == 2
    assert bearer(first).get(reverse("task-list")).status_code == 200
    assert bearer(second).get(reverse("task-list")).status_code == 200


def test_logout_revokes_only_the_token_in_use(anon_client, user):
    """POST /auth/logout answers 204 and revokes the token sent; the user's other tokens keep working."""
    first = log_in(anon_client, user.username).json()["token"]
    second = log_in(anon_client, user.username).json()["token"]

    response = bearer(first).post(reverse("auth-logout"))

    assert response.status_code == 204
    assert response.content == b""
    assert AuthToken.objects.filter(user=user).count() == 1
    revoked = bearer(first).get(reverse("task-list"))
    assert revoked.status_code == 401
    assert problem_body(revoked) == INVALID_TOKEN
    assert bearer(second).get(reverse("task-list")).status_code == 200


def test_logout_without_credentials_returns_401(anon_client, user):
    """Logging out needs credentials; it revokes nothing without them."""
    client_for(user)

    response = anon_client.post(reverse("auth-logout"))

    assert response.status_code == 401
    assert problem_body(response) == NOT_AUTHENTICATED
    assert AuthToken.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("path", ["/auth/token", "/auth/token/"])
def test_login_answers_with_and_without_trailing_slash(anon_client, user, path):
    """/auth/token and /auth/token/ both log in, with no redirect."""
    response = anon_client.post(path, {"username": user.username, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    assert set(response.json()) == {"token", "expires_at"}


# Rejected logins


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("right", "wrong password"),
        ("nobody", PASSWORD),
        ("right", PASSWORD.upper()),
        ("right", f" {PASSWORD}"),
        ("right", f"{PASSWORD}\n"),
    ],
)
def test_login_with_bad_credentials_returns_400_and_creates_no_token(anon_client, user, username, password):
    """Wrong credentials are a 400 problem document and no token is created."""
    response = log_in(anon_client, user.username if username == "right" else username, password)

    assert response.status_code == 400
    assert problem_body(response) == BAD_CREDENTIALS
    assert not AuthToken.objects.exists()


def test_login_of_inactive_user_returns_400(db, anon_client):
    """An inactive user's correct password does not log them in."""
    inactive = UserFactory.create(is_active=False)

    response = log_in(anon_client, inactive.username)

    assert response.status_code == 400
    assert problem_body(response) == BAD_CREDENTIALS
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {},
            [
                {"pointer": "#/username", "detail": "This field is required."},
                {"pointer": "#/password", "detail": "This field is required."},
            ],
        ),
        ({"username": "u"}, [{"pointer": "#/password", "detail": "This field is required."}]),
        ({"password": PASSWORD}, [{"pointer": "#/username", "detail": "This field is required."}]),
        (
            {"username": 123, "password": PASSWORD},
            [{"pointer": "#/username", "detail": "Not a valid string."}],
        ),
        (
            {"username": True, "password": PASSWORD},
            [{"pointer": "#/username", "detail": "Not a valid string."}],
        ),
        (
            {"username": ["u"], "password": PASSWORD},
            [{"pointer": "#/username", "detail": "Not a valid string."}],
        ),
        (
            {"username": "u", "password": 12345678},
            [{"pointer": "#/password", "detail": "Not a valid string."}],
        ),
        (
            {"username": "u", "password": {"a": 1}},
            [{"pointer": "#/password", "detail": "Not a valid string."}],
        ),
        (
            {"username": "u", "password": ""},
            [{"pointer": "#/password", "detail": "This field may not be blank."}],
        ),
        (
            {"username": "  ", "password": PASSWORD},
            [{"pointer": "#/username", "detail": "This field may not be blank."}],
        ),
        (
            {"username": None, "password": PASSWORD},
            [{"pointer": "#/username", "detail": "This field may not be null."}],
        ),
        (
            {"username": "u\x00v", "password": PASSWORD},
            [{"pointer": "#/username", "detail": "Null characters are not allowed."}],
        ),
    ],
)
def test_login_with_missing_or_non_string_fields_returns_400_naming_them(anon_client, user, body, errors):
    """Missing fields and values that are not JSON strings are a 400 with a pointer to each field."""
    response = anon_client.post(reverse("auth-token"), body, format="json")

    assert response.status_code == 400
    assert problem_body(response) == {
        "type": "about:blank",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }
    assert not AuthToken.objects.exists()


def test_login_with_unknown_field_returns_400_naming_it(anon_client, user):
    """An unknown field is a 400 naming it, even when the credentials are right."""
    response = anon_client.post(
        reverse("auth-token"),
        {"username": user.username, "password": PASSWORD, "remember_me": True},
        format="json",
    )

    assert response.status_code == 400
    assert problem_body(response)["errors"] == [{"pointer": "#/remember_me", "detail": "Unknown field."}]
    assert not AuthToken.objects.exists()


def test_login_with_non_object_body_returns_400(anon_client, user):
    """A JSON array instead of an object is a 400, not a 500."""
    response = anon_client.post(reverse("auth-token"), [user.username, PASSWORD], format="json")

    assert response.status_code == 400
    assert problem_body(response)["status"] == 400
    assert not AuthToken.objects.exists()


# Throttling failed logins


def test_failed_logins_are_throttled_with_retry_after(anon_client, user, login_failures_3_per_minute):
    """After 3 failed logins from one address the next attempt is 429, even with the right password."""
    for _ in range(3):
        assert log_in(anon_client, user.username, "wrong").status_code == 400

    response = log_in(anon_client, user.username)

    assert response.status_code == 429
    body = problem_body(response)
    assert body["type"] == "about:blank"
    assert body["title"] == "Too Many Requests"
    assert body["status"] == 429
    assert isinstance(body["detail"], str) and body["detail"]
    assert response["Retry-After"].isdigit()
    assert 0 < int(response["Retry-After"]) <= 60
    assert not AuthToken.objects.exists()


def test_successful_logins_do_not_count_toward_the_throttle(anon_client, user, login_failures_3_per_minute):
    """Only failures count: many successful logins between failures never trip the limit early."""
    assert log_in(anon_client, user.username, "wrong").status_code == 400
    assert log_in(anon_client, user.username, "wrong").status_code == 400
    for _ in range(5):
        assert log_in(anon_client, user.username).status_code == 200

    assert log_in(anon_client, user.username, "wrong").status_code == 400
    assert log_in(anon_client, user.username).status_code == 429


def test_login_throttle_is_per_client_address(anon_client, user, login_failures_3_per_minute):
    """Another client address is not throttled by one address's failures."""
    for _ in range(3):
        log_in(anon_client, user.username, "wrong", REMOTE_ADDR="10.0.0.1")
    assert log_in(anon_client, user.username, REMOTE_ADDR="10.0.0.1").status_code == 429

    response = log_in(anon_client, user.username, REMOTE_ADDR="10.0.0.2")

    assert response.status_code == 200


def test_client_supplied_forwarded_for_does_not_escape_the_throttle(
    anon_client, user, login_failures_3_per_minute
):
    """With no trusted proxy, a new X-Forwarded-For on each attempt does not reset the limit."""
    for n in range(3):
        response = log_in(
            anon_client, user.username, "wrong", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        )
        assert response.status_code == 400

    response = log_in(anon_client, user.username, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.99")

    assert response.status_code == 429
    assert not AuthToken.objects.exists()


def test_client_supplied_forwarded_for_does_not_borrow_another_address_limit(
    anon_client, user, login_failures_3_per_minute
):
    """Naming a throttled address in X-Forwarded-For does not lock out the real client either."""
    for _ in range(3):
        log_in(anon_client, user.username, "wrong", REMOTE_ADDR="10.0.0.1")

    response = log_in(anon_client, user.username, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="10.0.0.1")

    assert response.status_code == 200


# Requests without valid credentials


@pytest.mark.parametrize(
    ("method", "detail", "body"),
    [
        ("get", False, None),
        ("post", False, {"title": "new"}),
        ("get", True, None),
        ("patch", True, {"title": "changed"}),
        ("put", True, {"title": "changed"}),
        ("delete", True, None),
    ],
)
def test_tasks_endpoints_without_credentials_return_401_with_bearer_challenge(
    anon_client, user, method, detail, body
):
    """Without credentials every /tasks endpoint is 401 with `WWW-Authenticate: Bearer`, changing nothing."""
    task = TaskFactory.create(owner=user, title="original")
    url = reverse("task-detail", args=[task.id]) if detail else reverse("task-list")

    response = getattr(anon_client, method)(url, body, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert problem_body(response) == NOT_AUTHENTICATED
    assert list(Task.objects.values_list("id", "title")) == [(task.id, "original")]


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer \xe9\xe9",
        "Bearer \xc3\xa9t\xc3\xa9",
        "Bearer \x00",
        "Bearer " + "0" * 64,
        "Bearer " + "z" * 200,
        "Token " + "0" * 64,
        "Basic dXNlcjpwYXNz",
    ],
)
def test_malformed_authorization_header_returns_401(user, authorization):
    """A malformed, unknown or non-ASCII Authorization header is a 401 problem, never a 500."""
    client_for(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get(reverse("task-list"))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert problem_body(response)["status"] == 401


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token + "0",
        lambda token: token[:-1],
        lambda token: token[:15] + "g" * (len(token) - 15),
        lambda token: token[:15] + "\xe9" * (len(token) - 15),
        lambda token: token.upper(),
    ],
)
def test_token_sharing_the_stored_key_prefix_but_not_the_secret_returns_401(anon_client, user, mangle):
    """A token that matches a stored token's lookup prefix but not its digest is rejected."""
    token = log_in(anon_client, user.username).json()["token"]

    response = bearer(mangle(token)).get(reverse("task-list"))

    assert response.status_code == 401
    assert problem_body(response) == INVALID_TOKEN


# Sessions and the browsable API


def test_session_user_gets_browsable_api_with_log_out_form(session_client, user):
    """A browser logged in with a session sees the task list as HTML with a log-out form."""
    response = session_client.get(reverse("task-list"), headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f'action="{reverse("rest_framework:logout")}' in html
    assert 'method="post"' in html
    assert user.username in html


def test_browsable_api_log_out_works_under_the_content_security_policy(session_client):
    """The log-out control needs no inline script, which the CSP (script-src 'self') blocks."""
    response = session_client.get(reverse("task-list"), headers={"Accept": "text/html"})

    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "onclick" not in response.content.decode().lower()


def test_anonymous_browser_gets_401_page_with_log_in_link(anon_client):
    """An anonymous HTML request for /tasks is a 401 page that links to the session login."""
    response = anon_client.get(reverse("task-list"), headers={"Accept": "text/html"})

    assert response.status_code == 401
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert f"href='{reverse('rest_framework:login')}?next=/tasks'" in html
    assert ">Log in<" in html


def test_session_login_page_renders_for_anonymous_browser(anon_client):
    """GET /api-auth/login/ shows a username/password form to an anonymous browser."""
    response = anon_client.get(reverse("rest_framework:login"), headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_session_login_form_with_csrf_logs_browser_in(user):
    """Posting the login form with its CSRF token starts a session that can use the browsable API."""
    client = APIClient(enforce_csrf_checks=True)
    login_url = reverse("rest_framework:login")
    client.get(login_url)
    csrf_token = client.cookies["csrftoken"].value

    response = client.post(
        login_url,
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token},
    )

    assert response.status_code == 302
    assert response["Location"] == "/tasks"
    assert int(client.session[SESSION_KEY]) == user.pk
    page = client.get(reverse("task-list"), headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'id="logoutForm"' in page.content.decode()


def test_session_login_form_without_csrf_token_is_refused(user):
    """The login form is CSRF-protected: without the token no session starts."""
    client = APIClient(enforce_csrf_checks=True)

    response = client.post(reverse("rest_framework:login"), {"username": user.username, "password": PASSWORD})

    assert response.status_code == 403
    assert SESSION_KEY not in client.session


def test_session_user_can_create_task_through_browsable_api_form(session_client, user):
    """The browsable API's HTML form posts work for a session user (checkbox values for done)."""
    response = session_client.post(reverse("task-list"), {"title": "from the form", "done": "on"})

    assert response.status_code == 201
    task = Task.objects.get()
    assert (task.owner_id, task.title, task.done) == (user.id, "from the form", True)


def test_logout_with_session_ends_the_session(session_client):
    """POST /auth/logout from a session logs the browser out."""
    response = session_client.post(reverse("auth-logout"))

    assert response.status_code == 204
    assert SESSION_KEY not in session_client.session
    after = session_client.get(reverse("task-list"))
    assert after.status_code == 401
    assert problem_body(after) == NOT_AUTHENTICATED


def test_session_writes_without_csrf_token_are_refused(user):
    """A session-authenticated POST without a CSRF token is 403 and changes nothing."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username=user.username, password=PASSWORD)

    create = client.post(reverse("task-list"), {"title": "forged"}, format="json")
    logout = client.post(reverse("auth-logout"))

    assert create.status_code == 403
    assert problem_body(create)["status"] == 403
    assert not Task.objects.exists()
    assert logout.status_code == 403
    assert int(client.session[SESSION_KEY]) == user.pk


# No public sign-up


@pytest.mark.parametrize(
    "path", ["/auth/register", "/auth/register/", "/auth/signup", "/users", "/users/", "/signup", "/register"]
)
def test_there_is_no_public_sign_up(db, anon_client, path):
    """No URL creates a user: sign-up style paths are 404 and no user appears."""
    response = anon_client.post(path, {"username": "mallory", "password": "s3cret-pass!"}, format="json")

    assert response.status_code == 404
    assert problem_body(response)["status"] == 404
    assert not get_user_model().objects.filter(username="mallory").exists()
