"""Sync under real concurrency: a client syncing while others write ends with exactly the server's tasks.

Writer threads create, patch and delete one user's tasks through gunicorn's
workers while a syncing client follows the cursor in small pages; after the
writers stop and the client drains, its copy must equal the server's, field
by field (SPEC section 12: no change is ever skipped, however transactions
interleave).
"""

import random
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.live import Server
from tests.serving.conftest import Account

pytestmark = pytest.mark.serving

ROUNDS = 4
WRITERS = 4
WRITES_PER_WRITER = 40
LIMIT = 3


class Writes:
    """Random writes to one user's tasks from several threads; the ids alive are shared."""

    def __init__(self, server: Server, account: Account) -> None:
        self.server, self.account = server, account
        self.alive: list[int] = []
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()

    def send(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.server.request(method, path, body, headers=self.account.auth)
        with self.lock:
            self.statuses[reply.status] += 1
        return reply

    def run(self, seed: int) -> None:
        rng = random.Random(seed)
        for n in range(WRITES_PER_WRITER):
            with self.lock:
                target = rng.choice(self.alive) if self.alive else None
            roll = rng.random()
            if target is None or roll < 0.4:
                reply = self.send("POST", "/tasks", {"title": f"w{seed}-{n}", "done": rng.random() < 0.5})
                if reply.status == 201:
                    with self.lock:
                        self.alive.append(reply.json()["id"])
            elif roll < 0.8:
                change = rng.choice([{"title": f"w{seed}-{n} changed"}, {"done": rng.random() < 0.5}])
                self.send("PATCH", f"/tasks/{target}", change)  # 404 when another writer deleted it
            elif self.send("DELETE", f"/tasks/{target}").status == 204:
                with self.lock:
                    self.alive.remove(target)


class Replica:
    """A client's local copy: stores `tasks`, removes `deleted`, follows `cursor`."""

    def __init__(self, server: Server, account: Account) -> None:
        self.server, self.account = server, account
        self.tasks: dict[int, dict[str, Any]] = {}
        self.cursor: str | None = None
        self.pages = 0
        self.entries = 0

    def page(self) -> bool:
        """One page of changes applied; whether more are waiting."""
        path = f"/tasks/changes?limit={LIMIT}" + (f"&cursor={self.cursor}" if self.cursor else "")
        reply = self.server.request("GET", path, headers=self.account.auth)
        assert reply.status == 200, reply.body
        body = reply.json()
        ids = [task["id"] for task in body["tasks"]] + body["deleted"]
        assert len(ids) == len(set(ids)), f"an id twice in one page: {ids}"
        for task in body["tasks"]:
            self.tasks[task["id"]] = task
        for task_id in body["deleted"]:
            self.tasks.pop(task_id, None)
        self.cursor = body["cursor"]
        self.pages += 1
        self.entries += len(ids)
        return bool(body["more"])

    def drain(self) -> None:
        while self.page():
            pass


def server_tasks(server: Server, account: Account) -> dict[int, dict[str, Any]]:
    """Every task of the account, read through the list's pages."""
    tasks: dict[int, dict[str, Any]] = {}
    path: str | None = "/tasks?limit=100"
    while path is not None:
        reply = server.request("GET", path, headers=account.auth)
        assert reply.status == 200, reply.body
        body = reply.json()
        tasks.update((task["id"], task) for task in body["items"])
        path = body["next"] and "{0.path}?{0.query}".format(urlsplit(body["next"]))
    return tasks


def test_a_client_syncing_while_others_write_ends_with_exactly_the_servers_tasks(
    server: Server, account: Account
) -> None:
    """Each round: 4 writers, 40 random writes each, against a client syncing 3 changes a page."""
    replica, writes = Replica(server, account), Writes(server, account)
    started = time.monotonic()
    for round_ in range(ROUNDS):
        writers = [threading.Thread(target=writes.run, args=(round_ * WRITERS + n,)) for n in range(WRITERS)]
        for thread in writers:
            thread.start()
        while any(thread.is_alive() for thread in writers):
            replica.page()
        for thread in writers:
            thread.join()
        replica.drain()

        expected = server_tasks(server, account)
        missing = expected.keys() - replica.tasks.keys()
        extra = replica.tasks.keys() - expected.keys()
        stale = [i for i in expected.keys() & replica.tasks.keys() if replica.tasks[i] != expected[i]]
        assert (missing, extra, stale) == (set(), set(), []), f"round {round_}"
        assert replica.tasks == expected

    print(
        f"{ROUNDS} rounds, {sum(writes.statuses.values())} writes {dict(writes.statuses)}, "
        f"{replica.pages} pages, {replica.entries} changes synced, {len(replica.tasks)} tasks at the end, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert not [status for status in writes.statuses if status >= 500], writes.statuses
    assert set(writes.statuses) <= {201, 200, 204, 404}, writes.statuses
    assert "Traceback" not in server.log()
    assert "database is locked" not in server.log()
