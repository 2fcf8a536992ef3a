"""A deploy is `migrate` and `collectstatic`, nothing else; readiness says when one is missing (SPEC §10)."""

from pathlib import Path

import pytest

from tests.live import (
    PASSWORD,
    USERNAME,
    fresh_database,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)

pytestmark = pytest.mark.serving


def test_readyz_is_503_until_migrate_then_logins_work_without_createcachetable(
    tmp_path: Path, static_root: Path
) -> None:
    """Serving an unmigrated database is 503 naming the migrations; after `migrate` alone, logins work."""
    with fresh_database(tmp_path) as database_url:
        env = production_env(database_url, static_root, WEB_CONCURRENCY="1", LOGIN_FAILURE_RATE="2/hour")
        manage(env, "collectstatic", "--no-input")
        server = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            before = server.request("GET", "/readyz", auth=False)
            manage(env, "migrate", "--no-input")
            manage(
                env | {"DJANGO_SUPERUSER_PASSWORD": PASSWORD},
                *("createsuperuser", "--no-input", f"--username={USERNAME}", "--email=deploy@example.com"),
            )
            after = server.request("GET", "/readyz", auth=False)
            credentials = {"username": USERNAME, "password": PASSWORD}
            login = server.request("POST", "/auth/token", credentials, auth=False)
            wrong = [
                server.request("POST", "/auth/token", {**credentials, "password": "wrong"}, auth=False).status
                for _ in range(3)
            ]
        finally:
            stop_gunicorn(server)
    assert before.status == 503, before.body
    assert before.headers["Content-Type"] == "application/problem+json"
    assert "not applied" in before.json()["detail"]
    assert "tasks.0004_derived_state" in before.json()["detail"]
    assert "'cache' of cache 'default' is missing" in before.json()["detail"]
    assert (after.status, after.json()) == (200, {"status": "ok"})
    assert login.status == 200, login.body
    assert "token" in login.json()
    # The failed-login throttle keeps its counts in the cache table that `migrate` made.
    assert wrong == [400, 400, 429]
    assert "Internal Server Error" not in server.log()
