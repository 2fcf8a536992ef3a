"""Idempotency-Key under real concurrency: racing repeats across workers create one task (SPEC §12)."""

import threading
import uuid
from collections import Counter

import pytest

from tests.live import Reply, Server

pytestmark = pytest.mark.serving

REPEATS = 8
ROUNDS = 10


def race(server: Server, body: dict[str, str], key: str) -> list[Reply]:
    """The same POST /tasks from REPEATS threads, all released at the same instant."""
    barrier = threading.Barrier(REPEATS, timeout=30)
    replies: list[Reply] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            replies.append(server.request("POST", "/tasks", body, headers={"Idempotency-Key": key}))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(REPEATS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(replies) == REPEATS
    return replies


def test_racing_repeats_of_one_key_create_exactly_one_task(server: Server) -> None:
    """Every answer is the one 201 (same body, Location, ETag) or a 409 problem; one task exists per key."""
    statuses: Counter[int] = Counter()
    for round_ in range(ROUNDS):
        title = f"idempotent {round_} {uuid.uuid4().hex}"
        key = f"race-{uuid.uuid4()}"
        replies = race(server, {"title": title}, key)
        statuses.update(reply.status for reply in replies)
        outcome = [(reply.status, reply.body[:200]) for reply in replies]

        created = [reply for reply in replies if reply.status == 201]
        assert created, outcome
        assert all(reply.status in (201, 409) for reply in replies), outcome
        first = created[0]
        for reply in created:
            assert reply.json() == first.json(), outcome
            assert reply.headers["Location"] == first.headers["Location"]
            assert reply.headers["ETag"] == first.headers["ETag"]
        for reply in replies:
            if reply.status == 409:
                assert reply.headers["Content-Type"] == "application/problem+json"
                assert reply.json()["status"] == 409

        listed = server.request("GET", f"/tasks?search={title.replace(' ', '+')}")
        assert listed.status == 200
        assert listed.json()["total"] == 1, listed.body
        # Once the first has answered, a repeat is its replay.
        again = server.request("POST", "/tasks", {"title": title}, headers={"Idempotency-Key": key})
        assert (again.status, again.json()) == (201, first.json())
        assert again.headers["ETag"] == first.headers["ETag"]

    assert not [status for status in statuses if status >= 500], statuses
    assert "database is locked" not in server.log()
    assert "Traceback" not in server.log()
