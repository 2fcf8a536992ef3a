"""Sync under real concurrency: a client syncing while others write ends with exactly the server's tasks.

Writer threads create, patch and delete one user's tasks through gunicorn's
workers while syncing clients follow the cursor in small pages; after the
writers stop and each client drains, its copy must equal the server's, field
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
SYNC_LIMITS = (1, 3, 500)  # small pages lag behind the writers; large ones keep up with them


class Thread(threading.Thread):
    """A thread whose exception fails the test instead of vanishing."""

    def __init__(self, target: Any, *args: Any) -> None:
        super().__init__(target=self.guarded, args=(target, *args))
        self.error: BaseException | None = None

    def guarded(self, target: Any, *args: Any) -> None:
        try:
            target(*args)
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise self.error


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

    def __init__(self, server: Server, account: Account, limit: int) -> None:
        self.server, self.account, self.limit = server, account, limit
        self.tasks: dict[int, dict[str, Any]] = {}
        self.cursor: str | None = None
        self.pages = 0
        self.entries = 0

    def page(self) -> bool:
        """One page of changes applied; whether more are waiting."""
        path = f"/tasks/changes?limit={self.limit}" + (f"&cursor={self.cursor}" if self.cursor else "")
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

    def follow(self, done: threading.Event) -> None:
        """Sync again and again until `done`."""
        while not done.is_set():
            self.page()


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


def test_clients_syncing_while_others_write_end_with_exactly_the_servers_tasks(
    server: Server, account: Account
) -> None:
    """Each round: 4 writers, 40 random writes each, against clients syncing 1, 3 and 500 entries a page."""
    replicas = [Replica(server, account, limit) for limit in SYNC_LIMITS]
    writes = Writes(server, account)
    started = time.monotonic()
    for round_ in range(ROUNDS):
        writers = [Thread(writes.run, round_ * WRITERS + n) for n in range(WRITERS)]
        done = threading.Event()
        syncers = [Thread(replica.follow, done) for replica in replicas]
        for thread in writers + syncers:
            thread.start()
        for thread in writers:
            thread.join()
        done.set()
        for thread in syncers:
            thread.join()
        expected = server_tasks(server, account)
        for replica in replicas:
            replica.drain()
            missing = expected.keys() - replica.tasks.keys()
            extra = replica.tasks.keys() - expected.keys()
            stale = [i for i in expected.keys() & replica.tasks.keys() if replica.tasks[i] != expected[i]]
            assert (missing, extra, stale) == (set(), set(), []), f"round {round_}, limit {replica.limit}"
            assert replica.tasks == expected

    pages, entries = sum(r.pages for r in replicas), sum(r.entries for r in replicas)
    print(
        f"{ROUNDS} rounds, {sum(writes.statuses.values())} writes {dict(writes.statuses)}, "
        f"{pages} pages, {entries} changes synced by {len(replicas)} clients, "
        f"{len(expected)} tasks at the end, {time.monotonic() - started:.1f} s"
    )
    assert not [status for status in writes.statuses if status >= 500], writes.statuses
    assert set(writes.statuses) <= {201, 200, 204, 404}, writes.statuses
    assert "Traceback" not in server.log()
    assert "database is locked" not in server.log()
