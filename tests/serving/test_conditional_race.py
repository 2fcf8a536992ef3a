"""If-Match under real concurrency: of writers holding the same ETag, exactly one wins (SPEC §4)."""

import threading
from collections import Counter

import pytest

from tests.live import Reply, Server

pytestmark = pytest.mark.serving

WRITERS = 8
ROUNDS = 10


def race(
    server: Server, requests: list[tuple[str, str, dict[str, str] | None, dict[str, str]]]
) -> list[Reply]:
    """Send every request from its own thread, all released at the same instant; replies in request order."""
    barrier = threading.Barrier(len(requests), timeout=30)
    replies: list[Reply | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def send(index: int) -> None:
        method, path, body, headers = requests[index]
        try:
            barrier.wait()
            replies[index] = server.request(method, path, body, headers=headers)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(reply is not None for reply in replies)
    return [reply for reply in replies if reply is not None]


def create_task(server: Server, title: str) -> tuple[str, str]:
    """A new task's path and the ETag a GET of it gives."""
    created = server.request("POST", "/tasks", {"title": title})
    assert created.status == 201, created.body
    path = created.headers["Location"]
    fetched = server.request("GET", path)
    assert fetched.status == 200, fetched.body
    assert fetched.headers["ETag"] == created.headers["ETag"]
    return path, fetched.headers["ETag"]


def assert_no_server_errors(server: Server, statuses: Counter[int]) -> None:
    assert not [status for status in statuses if status >= 500], statuses
    assert "database is locked" not in server.log()
    assert "Traceback" not in server.log()


def test_concurrent_patches_with_the_same_if_match_let_exactly_one_win(server: Server) -> None:
    """N workers PATCH with one ETag at once: one 200, the rest 412, and the stored title is the winner's."""
    statuses: Counter[int] = Counter()
    for round_ in range(ROUNDS):
        path, etag = create_task(server, f"race {round_}")
        titles = [f"round {round_} writer {writer}" for writer in range(WRITERS)]
        replies = race(server, [("PATCH", path, {"title": title}, {"If-Match": etag}) for title in titles])
        statuses.update(reply.status for reply in replies)

        assert sorted(reply.status for reply in replies) == [200] + [412] * (WRITERS - 1), [
            (reply.status, reply.body[:200]) for reply in replies
        ]
        winner = next(reply for reply in replies if reply.status == 200)
        assert winner.json()["title"] in titles
        for loser in (reply for reply in replies if reply.status == 412):
            assert loser.headers["Content-Type"] == "application/problem+json"
            assert loser.json()["status"] == 412

        final = server.request("GET", path)
        assert final.status == 200
        assert final.json()["title"] == winner.json()["title"]
        assert final.headers["ETag"] == winner.headers["ETag"] != etag
    assert_no_server_errors(server, statuses)


def test_concurrent_delete_and_patches_with_the_same_if_match_let_exactly_one_win(server: Server) -> None:
    """DELETEs and PATCHes race with one ETag: exactly one succeeds, and the others see its outcome."""
    statuses: Counter[int] = Counter()
    for round_ in range(ROUNDS):
        path, etag = create_task(server, f"delete race {round_}")
        requests: list[tuple[str, str, dict[str, str] | None, dict[str, str]]] = [
            ("DELETE", path, None, {"If-Match": etag})
            if writer % 2 == 0
            else ("PATCH", path, {"title": f"round {round_} writer {writer}"}, {"If-Match": etag})
            for writer in range(WRITERS)
        ]
        replies = race(server, requests)
        statuses.update(reply.status for reply in replies)
        methods = [method for method, *_ in requests]
        outcome = [(m, reply.status, reply.body[:200]) for m, reply in zip(methods, replies, strict=True)]

        winners = [
            (m, reply) for m, reply in zip(methods, replies, strict=True) if reply.status in (200, 204)
        ]
        assert len(winners) == 1, outcome
        method, winner = winners[0]
        losers = [reply.status for reply in replies if reply is not winner]
        final = server.request("GET", path)
        if method == "DELETE":
            assert winner.status == 204 and winner.body == b"", outcome
            # Once the task is gone every later request is 404: the task no longer exists for anyone.
            assert losers == [404] * (WRITERS - 1), outcome
            assert final.status == 404
        else:
            assert winner.status == 200, outcome
            assert losers == [412] * (WRITERS - 1), outcome
            assert final.status == 200
            assert final.json()["title"] == winner.json()["title"]
            assert final.headers["ETag"] == winner.headers["ETag"] != etag
    assert_no_server_errors(server, statuses)
