"""SPEC §11 in the admin: tokens listed per user without their secret, and revocable."""

import re
from typing import Any

import pytest
from django.test import Client
from knox.models import AuthToken

from accounts.services import token_issue
from accounts.tests.factories import make_staff

TOKENS = "/admin/knox/authtoken/"


@pytest.fixture
def admin_client(db: Any) -> Client:
    client = Client()
    client.force_login(make_staff())
    return client


def test_token_list_shows_key_owner_and_user_agent_never_digest_or_secret(admin_client, user):
    """The token changelist names tokens by their key prefix; neither digest nor secret appears."""
    token, secret = token_issue(user=user, user_agent="Tasks/1.0 (Android)")

    response = admin_client.get(TOKENS)

    assert response.status_code == 200
    assert token.token_key in response.text
    assert "Tasks/1.0 (Android)" in response.text
    assert user.username in response.text
    assert secret not in response.text
    # The digest (a hash, not the secret) is only in the selection checkbox, as its value.
    page = re.sub(r'<input type="checkbox" name="_selected_action"[^>]*>', "", response.text)
    assert token.digest not in page


def test_token_list_can_be_narrowed_to_one_user(admin_client, user, other_user):
    """Searching by username lists that user's tokens only."""
    mine, _ = token_issue(user=user, user_agent="mine")
    theirs, _ = token_issue(user=other_user, user_agent="theirs")

    response = admin_client.get(TOKENS, {"q": user.username})

    assert mine.token_key in response.text
    assert theirs.token_key not in response.text


def test_user_page_lists_the_users_tokens_and_links_to_revoke_them(admin_client, user, other_user):
    """A user's change page shows their tokens (no digest, no secret) and links to their token list."""
    token, secret = token_issue(user=user, user_agent="Tasks/1.0 (Android)")
    theirs, _ = token_issue(user=other_user, user_agent="theirs")

    response = admin_client.get(f"/admin/auth/user/{user.pk}/change/")

    assert response.status_code == 200
    assert token.token_key in response.text
    assert "Tasks/1.0 (Android)" in response.text
    assert theirs.token_key not in response.text
    assert token.digest not in response.text and secret not in response.text
    link = f"/admin/knox/authtoken/?user__id__exact={user.pk}"
    assert f'href="{link}"' in response.text
    listed = admin_client.get(link)
    assert token.token_key in listed.text and theirs.token_key not in listed.text


def test_revoke_action_deletes_the_selected_tokens_only(admin_client, user):
    """The "revoke" action ends the chosen tokens; the others keep working."""
    revoked, _ = token_issue(user=user, user_agent="lost")
    kept, _ = token_issue(user=user, user_agent="kept")

    response = admin_client.post(TOKENS, {"action": "revoke", "_selected_action": [revoked.pk]})

    assert response.status_code == 302
    assert list(AuthToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_staff_cannot_mint_or_edit_tokens_in_the_admin(admin_client, user):
    """Tokens come from POST /auth/token only: the admin has no add form and no change form."""
    token, _ = token_issue(user=user, user_agent="x")

    assert admin_client.get(f"{TOKENS}add/").status_code == 403
    change = admin_client.post(f"{TOKENS}{token.pk}/change/", {"expiry": ""})
    assert change.status_code in {302, 403}
    token.refresh_from_db()
    assert token.expiry is not None
