"""SPEC §11 under real concurrency: the failed-login limit is exact across gunicorn workers.

Simultaneous failures land on different worker processes; each is counted
by one upsert in the shared database, so N+1 of them at once give exactly N
tries and one 429, per client address and per username.
"""

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import (
    PASSWORD,
    Reply,
    Server,
    fresh_database,
    manage,
    production_env,
    start_gunicorn,
    stop_gunicorn,
)

pytestmark = pytest.mark.serving

PER_ADDRESS = 5
PER_USERNAME = 4
ROUNDS = 4


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, static_root: Path) -> Iterator[Server]:
    """Gunicorn with four workers behind one (simulated) proxy, with small limits and an hour's window."""
    tmp_path = tmp_path_factory.mktemp("login-limit")
    with fresh_database(tmp_path) as database_url:
        env = production_env(
            database_url,
            static_root,
            WEB_CONCURRENCY="4",
            NUM_PROXIES="1",
            LOGIN_FAILURES_PER_ADDRESS=str(PER_ADDRESS),
            LOGIN_FAILURES_PER_USERNAME=str(PER_USERNAME),
            LOGIN_FAILURE_WINDOW_SECONDS="3600",
        )
        manage(env, "migrate", "--no-input")
        manage(env, "collectstatic", "--no-input")
        manage(
            env,
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.models import User\n"
            f"for n in range({ROUNDS + 1}):\n"
            f"    User.objects.create_user(f'guessed{{n}}', password={PASSWORD!r})\n",
        )
        running = start_gunicorn(env, tmp_path / "gunicorn.log")
        try:
            yield running
        finally:
            stop_gunicorn(running)


def all_at_once(server: Server, logins: list[tuple[str, str]]) -> Counter[int]:
    """POST /auth/token for each (username, client address) from its own thread, all released together."""
    barrier = threading.Barrier(len(logins), timeout=30)
    replies: list[Reply] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send(username: str, address: str) -> None:
        try:
            barrier.wait()
            reply = server.request(
                "POST",
                "/auth/token",
                {"username": username, "password": "wrong"},
                headers={"X-Forwarded-For": address},
                auth=False,
            )
            with lock:
                replies.append(reply)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=login) for login in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for reply in replies:
        if reply.status == 429:
            assert reply.headers["Content-Type"] == "application/problem+json"
            assert int(reply.headers["Retry-After"]) > 0
    return Counter(reply.status for reply in replies)


def test_n_plus_one_simultaneous_failures_from_one_address_give_exactly_one_429(limited: Server) -> None:
    """Per address: N+1 guesses at once (each at a different username) are N 400s and one 429, every round."""
    for round_ in range(ROUNDS):
        address = f"198.51.100.{round_ + 1}"
        logins = [(f"nobody-{round_}-{n}", address) for n in range(PER_ADDRESS + 1)]

        assert all_at_once(limited, logins) == {400: PER_ADDRESS, 429: 1}

    assert "database is locked" not in limited.log()
    assert "Traceback" not in limited.log()


def test_n_plus_one_simultaneous_failures_at_one_username_give_exactly_one_429(limited: Server) -> None:
    """Per username: N+1 guesses at once from N+1 different addresses are N 400s and one 429, every round."""
    for round_ in range(ROUNDS):
        logins = [(f"guessed{round_}", f"203.0.113.{round_ * 10 + n}") for n in range(PER_USERNAME + 1)]

        assert all_at_once(limited, logins) == {400: PER_USERNAME, 429: 1}

    assert "Traceback" not in limited.log()


def test_a_burst_far_over_the_limit_still_gets_exactly_n_tries(limited: Server) -> None:
    """3N guesses at once from one IPv6 /64 (a new address each): exactly N are tried, the rest are 429."""
    logins = [(f"burst-{n}", f"2001:db8:7:7::{n + 1:x}") for n in range(3 * PER_ADDRESS)]

    assert all_at_once(limited, logins) == {400: PER_ADDRESS, 429: 2 * PER_ADDRESS}


def test_the_right_password_is_refused_once_the_username_is_locked(limited: Server) -> None:
    """After the username's limit, even its owner's right password from a fresh address is 429."""
    username = f"guessed{ROUNDS}"  # a user of this test's own: the per-username test locks the others
    for n in range(PER_USERNAME):
        limited.request(
            "POST",
            "/auth/token",
            {"username": username, "password": "wrong"},
            headers={"X-Forwarded-For": f"192.0.2.{n + 100}"},
            auth=False,
        )

    reply = limited.request(
        "POST",
        "/auth/token",
        {"username": username, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.250"},
        auth=False,
    )

    assert reply.status == 429
