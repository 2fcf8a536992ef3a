"""Operating the accounts: the purge command, the proxy check, the browsable API's account links."""

import time
from datetime import timedelta
from io import StringIO
from typing import Any

from django.core.checks import run_checks
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import LoginFailureCount, TokenDetail
from accounts.services import token_issue


def test_purge_deletes_expired_tokens_and_past_failure_counts_only(user, settings):
    """purge_expired removes expired tokens (with their details) and counts of finished windows."""
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 60
    live, _ = token_issue(user=user, user_agent="live")
    expired, _ = token_issue(user=user, user_agent="expired")
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    now_ms = int(time.time() * 1000)
    LoginFailureCount.objects.create(key="address:192.0.2.1", window_start=now_ms - 61_000, count=4)
    LoginFailureCount.objects.create(key="address:192.0.2.2", window_start=now_ms - 1_000, count=4)
    out = StringIO()

    call_command("purge_expired", stdout=out)

    assert list(AuthToken.objects.values_list("pk", flat=True)) == [live.pk]
    assert list(TokenDetail.objects.values_list("pk", flat=True)) == [live.pk]
    assert list(LoginFailureCount.objects.values_list("key", flat=True)) == ["address:192.0.2.2"]
    assert out.getvalue().strip() == "Purged 1 expired token(s) and 1 failed-login count(s)."


def test_purge_twice_is_harmless(db):
    """Run again (or from two hosts' crons at once) it simply finds nothing."""
    out = StringIO()
    call_command("purge_expired", stdout=out)
    call_command("purge_expired", stdout=out)

    assert out.getvalue().splitlines()[-1] == "Purged 0 expired token(s) and 0 failed-login count(s)."


def deploy_warnings() -> set[str]:
    return {message.id for message in run_checks(include_deployment_checks=True) if message.id}


def test_deploy_check_warns_behind_a_proxy_with_no_proxy_counted(settings):
    """Trusting X-Forwarded-Proto with NUM_PROXIES=0 is flagged: every client would be the proxy."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}

    assert "accounts.W001" in deploy_warnings()


def test_deploy_check_is_quiet_when_the_proxy_is_counted(settings):
    """NUM_PROXIES=1 behind the proxy is the production setup: no warning."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    assert "accounts.W001" not in deploy_warnings()


def test_deploy_check_is_quiet_without_a_proxy(settings):
    """Serving directly (no X-Forwarded-Proto trusted), REMOTE_ADDR is the client: nothing to warn about."""
    settings.SECURE_PROXY_SSL_HEADER = None
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}

    assert "accounts.W001" not in deploy_warnings()


def test_browsable_api_shows_who_is_logged_in_and_links_to_the_tokens(user: Any):
    """Every browsable API page names the session's user and links to their token list."""
    client = APIClient()
    client.force_login(user)

    page = client.get(reverse("auth-me"), headers={"Accept": "text/html"})

    assert page.status_code == 200
    html = page.content.decode()
    assert f"Logged in as {user.username}" in html
    assert f'href="{reverse("auth-tokens")}"' in html
