"""SPEC §11: the caller, its tokens and their revocation, through real URLs."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import TokenDetail
from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem


def log_in(user: Any, user_agent: str) -> tuple[APIClient, str]:
    """A client holding a token from POST /auth/token, and that token."""
    client = APIClient()
    response = client.post(
        reverse("auth-token"),
        {"username": user.username, "password": PASSWORD},
        format="json",
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200
    secret = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client, secret


def listed(client: APIClient) -> list[dict[str, Any]]:
    response = client.get(reverse("auth-tokens"))
    assert response.status_code == 200
    return list(response.json())


# GET /auth/me


def test_me_returns_the_callers_id_username_and_staff_flag(db):
    """GET /auth/me answers the caller's id, username and is_staff, nothing more."""
    staff: Any = UserFactory(is_staff=True)

    response = client_for(staff).get(reverse("auth-me"))

    assert response.status_code == 200
    assert response.json() == {"id": staff.id, "username": staff.username, "is_staff": True}
    assert response["Cache-Control"] == "no-store"


def test_me_works_for_a_browser_session(user):
    """A session caller is described too: the browsable API uses the same endpoint."""
    client = APIClient()
    client.force_login(user)

    response = client.get("/auth/me/")

    assert response.json() == {"id": user.id, "username": user.username, "is_staff": False}


@pytest.mark.parametrize("name", ["auth-me", "auth-tokens"])
def test_reading_account_endpoints_without_credentials_returns_401(anon_client, name):
    """Without credentials the account endpoints are 401 problems with a Bearer challenge."""
    response = anon_client.get(reverse(name))

    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"


def test_me_authenticates_and_answers_in_one_query(user, django_assert_num_queries):
    """The token lookup joins the user and the token's details: one indexed query per request."""
    client = client_for(user)

    with django_assert_num_queries(1) as captured:
        assert client.get(reverse("auth-me")).status_code == 200
    assert "knox_authtoken" in captured.captured_queries[0]["sql"]


# GET /auth/tokens


def test_token_list_shows_each_live_token_newest_first_without_the_secret(user, other_user):
    """Each token: an id that is not the secret, its times, its User-Agent and whether it is current."""
    _, first = log_in(user, "phone/1.0")
    client, second = log_in(user, "laptop/2.0")
    log_in(other_user, "someone else")
    before = timezone.now()

    tokens = listed(client)

    assert [token["user_agent"] for token in tokens] == ["laptop/2.0", "phone/1.0"]
    assert [token["current"] for token in tokens] == [True, False]
    for token, secret in zip(tokens, [second, first], strict=True):
        assert set(token) == {"id", "created_at", "expires_at", "last_used_at", "user_agent", "current"}
        assert token["id"] and token["id"] != secret and token["id"] in secret
        created = datetime.fromisoformat(token["created_at"])
        expires = datetime.fromisoformat(token["expires_at"])
        last_used = datetime.fromisoformat(token["last_used_at"])
        assert abs(expires - created - timedelta(hours=10)) < timedelta(seconds=1)
        assert created <= last_used <= before
        assert token["created_at"].endswith("Z")


def test_token_list_is_not_cacheable(api_client):
    """A list of the caller's tokens says Cache-Control: no-store."""
    response = api_client.get(reverse("auth-tokens"))

    assert response["Cache-Control"] == "no-store"


def test_token_list_leaves_out_expired_tokens(user):
    """An expired token no longer authenticates, so it is not listed."""
    client, _ = log_in(user, "current")
    _, stale = log_in(user, "stale")
    AuthToken.objects.filter(token_key=stale[:15]).update(expiry=timezone.now() - timedelta(seconds=1))

    assert [token["user_agent"] for token in listed(client)] == ["current"]


def test_token_list_for_a_session_marks_no_token_current(user):
    """A browser session holds no token: every listed token has current false."""
    log_in(user, "phone")
    client = APIClient()
    client.force_login(user)

    assert [token["current"] for token in listed(client)] == [False]


def test_last_used_is_written_at_most_once_a_minute(user):
    """A request more than a minute after the last recorded use moves last_used_at; one within does not."""
    client, secret = log_in(user, "phone")
    detail = TokenDetail.objects.get(token__token_key=secret[:15])
    two_minutes_ago = timezone.now() - timedelta(minutes=2)
    TokenDetail.objects.filter(pk=detail.pk).update(last_used_at=two_minutes_ago)

    before = timezone.now()
    (token,) = listed(client)
    assert datetime.fromisoformat(token["last_used_at"]) >= before

    detail.refresh_from_db()
    written = detail.last_used_at
    listed(client)
    detail.refresh_from_db()
    assert detail.last_used_at == written


def test_a_stale_last_use_costs_one_conditional_update(user, django_assert_num_queries):
    """Once a minute a request adds one UPDATE guarded by the old value; otherwise nothing."""
    client, _ = log_in(user, "phone")
    TokenDetail.objects.update(last_used_at=timezone.now() - timedelta(minutes=5))

    with django_assert_num_queries(2) as captured:
        client.get(reverse("auth-me"))
    update = captured.captured_queries[1]["sql"]
    assert update.startswith("UPDATE") and "last_used_at" in update.split("WHERE")[1]


def test_a_token_issued_outside_the_login_endpoint_gets_its_details_on_first_use(user):
    """A knox token without a detail row still authenticates, and is then listed with one."""
    _, secret = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    (token,) = listed(client)

    assert token["current"] is True
    assert token["user_agent"] == ""
    assert TokenDetail.objects.filter(token__token_key=secret[:15]).exists()


def test_token_list_runs_one_query_whatever_the_number_of_tokens(user, django_assert_num_queries):
    """The details come joined to the tokens (no query per token), after the one authentication query."""
    client, _ = log_in(user, "phone")
    for n in range(5):
        log_in(user, f"device {n}")

    with django_assert_num_queries(2):
        assert len(client.get(reverse("auth-tokens")).json()) == 6


# DELETE /auth/tokens/{id}


def test_revoking_a_token_by_id_returns_204_and_shuts_it_out(user):
    """DELETE /auth/tokens/{id} revokes that token; the caller's own keeps working."""
    client, _ = log_in(user, "laptop")
    other_client, _ = log_in(user, "lost phone")
    (lost,) = [token for token in listed(client) if not token["current"]]

    response = client.delete(reverse("auth-token-detail", args=[lost["id"]]))

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(other_client.get(reverse("auth-me")), 401)
    assert client.get(reverse("auth-me")).status_code == 200


def test_revoking_the_current_token_by_id_logs_it_out(user):
    """The token in use may revoke itself: the next request with it is 401."""
    client, _ = log_in(user, "laptop")
    (token,) = listed(client)

    assert client.delete(f"/auth/tokens/{token['id']}").status_code == 204
    assert_problem(client.get(reverse("auth-me")), 401)


def test_revoking_someone_elses_token_returns_404_and_revokes_nothing(user, other_user):
    """Another user's token id is 404, as if it did not exist, and that token keeps working."""
    client, _ = log_in(user, "mine")
    theirs_client, _ = log_in(other_user, "theirs")
    (theirs,) = listed(theirs_client)

    response = client.delete(reverse("auth-token-detail", args=[theirs["id"]]))

    assert_problem(response, 404)
    assert theirs_client.get(reverse("auth-me")).status_code == 200


@pytest.mark.parametrize("token_id", ["0123456789abcde", "zz", "x" * 64])
def test_revoking_an_unknown_token_returns_404(api_client, token_id):
    """An id naming no token of the caller's is a 404 problem document."""
    assert_problem(api_client.delete(reverse("auth-token-detail", args=[token_id])), 404)


def test_revoking_an_expired_token_returns_404(user):
    """An expired token is no longer live: revoking it is 404 like an unknown one."""
    client, _ = log_in(user, "current")
    _, stale = log_in(user, "stale")
    AuthToken.objects.filter(token_key=stale[:15]).update(expiry=timezone.now() - timedelta(seconds=1))

    assert_problem(client.delete(reverse("auth-token-detail", args=[stale[:15]])), 404)


def test_revoking_a_token_runs_a_constant_number_of_queries(user, django_assert_num_queries):
    """Authenticate, then one DELETE of the details and one of the token: no query per related row."""
    client, _ = log_in(user, "laptop")
    log_in(user, "phone")
    (other,) = [token for token in listed(client) if not token["current"]]

    with django_assert_num_queries(4):
        # authentication, the token's primary key, the details' delete, the token's delete
        assert client.delete(reverse("auth-token-detail", args=[other["id"]])).status_code == 204


# DELETE /auth/tokens


def test_revoking_other_tokens_keeps_only_the_current_one(user, other_user):
    """DELETE /auth/tokens revokes every token of the caller but the one in use; others' stay."""
    client, _ = log_in(user, "laptop")
    phones = [log_in(user, f"phone {n}")[0] for n in range(2)]
    theirs, _ = log_in(other_user, "theirs")

    response = client.delete(reverse("auth-tokens"))

    assert response.status_code == 204
    assert response.content == b""
    assert [token["user_agent"] for token in listed(client)] == ["laptop"]
    for phone in phones:
        assert_problem(phone.get(reverse("auth-me")), 401)
    assert theirs.get(reverse("auth-me")).status_code == 200


def test_revoking_other_tokens_from_a_session_revokes_every_token(user):
    """A browser session holds no token, so all of the user's tokens go and the session stays."""
    phone, _ = log_in(user, "phone")
    browser = APIClient()
    browser.force_login(user)

    assert browser.delete("/auth/tokens/").status_code == 204
    assert_problem(phone.get(reverse("auth-me")), 401)
    assert browser.get(reverse("auth-me")).status_code == 200


def test_revoking_other_tokens_runs_a_constant_number_of_queries(user, django_assert_num_queries):
    """However many tokens go, the revocation costs the same few queries."""
    client, _ = log_in(user, "laptop")
    for n in range(5):
        log_in(user, f"phone {n}")

    with django_assert_num_queries(4):
        # authentication, the tokens' primary keys, the details' delete, the tokens' delete
        assert client.delete(reverse("auth-tokens")).status_code == 204


# POST /auth/token (what SPEC §11 adds to it)


def test_login_response_is_not_cacheable(user):
    """The response carrying a new secret says Cache-Control: no-store."""
    response = APIClient().post(
        reverse("auth-token"), {"username": user.username, "password": PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_token_login_updates_last_login(user):
    """Logging in for a token records last_login, as a session login does."""
    assert user.last_login is None
    before = timezone.now()

    log_in(user, "phone")

    user.refresh_from_db()
    assert user.last_login is not None and user.last_login >= before


def test_login_stores_the_user_agent_of_the_client(user):
    """The User-Agent of the logging-in client is kept with the token (the secret never is)."""
    _, secret = log_in(user, "Tasks/3.1 (iPhone)")

    detail = TokenDetail.objects.get(token__token_key=secret[:15])
    assert detail.user_agent == "Tasks/3.1 (iPhone)"
    assert secret not in detail.user_agent
