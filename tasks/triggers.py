"""Every piece of state the database derives from the task rows, and the triggers that keep it.

One registry, one principle: derived values are kept by the database itself,
so every path that writes tasks keeps them exact — the API, the admin,
QuerySet.update(), bulk operations, cascades, raw SQL, TRUNCATE, loaddata.
tasks.derived installs these triggers after every `migrate` (a table rebuild
drops a table's triggers), checks them for readiness, and repairs the state.

To derive something new (a change log for sync, say): create its table in a
migration, then add a `Derived` here naming that migration in `after`, its
triggers for both databases, and the SQL that recomputes it from the rows.
"""

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Trigger:
    """One trigger on `table`: its whole CREATE TRIGGER statement for each database.

    None: that database needs no such trigger. On PostgreSQL the trigger
    executes `<name>()`, a plpgsql function whose body is `function`.
    """

    name: str
    table: str
    sqlite: str | None
    postgresql: str | None
    function: str = ""

    def create(self, vendor: str) -> str | None:
        statement = self.sqlite if vendor == "sqlite" else self.postgresql
        return dedent(statement).strip() if statement else None

    def body(self) -> str:
        return dedent(self.function).strip()


@dataclass(frozen=True)
class PerVendor:
    """One statement written differently for each database."""

    sqlite: str
    postgresql: str

    def sql(self, vendor: str) -> str:
        return self.sqlite if vendor == "sqlite" else self.postgresql


@dataclass(frozen=True)
class Derived:
    """State derived from rows: the triggers that keep it and the SQL that recomputes it.

    `recompute` runs (with the triggers in place) whenever a trigger was
    missing, outdated or disabled, since writes may have gone unseen. `drift`
    selects one row per wrong value (none: exact); None when no value can be
    checked against the rows (a version counter has no other source of truth).
    """

    name: str
    after: tuple[str, str]  # the migration that made the tables and columns the triggers use
    triggers: tuple[Trigger, ...]
    recompute: tuple[str | PerVendor, ...]
    drift: str | None = None
    drift_message: str = ""  # one drift row as a sentence, str.format()ted with the row's columns

    def recompute_sql(self, vendor: str) -> list[str]:
        return [s if isinstance(s, str) else s.sql(vendor) for s in self.recompute]


def _done(row: str) -> str:
    """1 for a done task, 0 otherwise, on both databases (SQLite stores booleans as integers)."""
    return f"CASE WHEN {row}.done THEN 1 ELSE 0 END"


# A version strictly grows on every UPDATE of the row: the ETag is derived
# from it. A write that already raised it (loaddata of a newer copy) keeps
# its value. SQLite cannot assign to NEW, so its trigger updates the row
# again; that nested UPDATE raises the version, so the WHEN ends the recursion.
TASK_VERSION = Derived(
    name="task versions (ETags)",
    after=("tasks", "0004_derived_state"),
    triggers=(
        Trigger(
            name="tasks_task_version",
            table="tasks_task",
            sqlite="""
                CREATE TRIGGER tasks_task_version AFTER UPDATE ON tasks_task
                WHEN NEW.version <= OLD.version BEGIN
                    UPDATE tasks_task SET version = OLD.version + 1 WHERE id = NEW.id;
                END
            """,
            postgresql="""
                CREATE TRIGGER tasks_task_version BEFORE UPDATE ON tasks_task
                FOR EACH ROW EXECUTE FUNCTION tasks_task_version()
            """,
            function="""
                BEGIN
                    IF NEW.version <= OLD.version THEN
                        NEW.version := OLD.version + 1;
                    END IF;
                    RETURN NEW;
                END
            """,
        ),
    ),
    # Writes made while the trigger was missing left versions unchanged: a new
    # version for every task makes sure no ETag handed out before matches.
    recompute=("UPDATE tasks_task SET version = version + 1",),
)

_ADD = f"""
    INSERT INTO tasks_tasktally (owner_id, total, done) VALUES (NEW.owner_id, 1, {_done("NEW")})
    ON CONFLICT (owner_id) DO UPDATE
    SET total = tasks_tasktally.total + 1, done = tasks_tasktally.done + excluded.done;
"""
_REMOVE = f"""
    UPDATE tasks_tasktally SET total = total - 1, done = done - {_done("OLD")}
    WHERE owner_id = OLD.owner_id;
"""

# How many tasks, and how many done, each owner has: a list's `total` without
# COUNT(*). INSERT OR REPLACE on SQLite deletes without firing the delete
# trigger unless recursive_triggers is on (config/settings/base.py sets it).
TASK_TALLY = Derived(
    name="task tallies (list totals)",
    after=("tasks", "0004_derived_state"),
    triggers=(
        Trigger(
            name="tasks_tally_insert",
            table="tasks_task",
            sqlite=f"CREATE TRIGGER tasks_tally_insert AFTER INSERT ON tasks_task BEGIN {_ADD} END",
            postgresql="""
                CREATE TRIGGER tasks_tally_insert AFTER INSERT ON tasks_task
                FOR EACH ROW EXECUTE FUNCTION tasks_tally_insert()
            """,
            function=f"BEGIN {_ADD} RETURN NULL; END",
        ),
        Trigger(
            name="tasks_tally_delete",
            table="tasks_task",
            sqlite=f"CREATE TRIGGER tasks_tally_delete AFTER DELETE ON tasks_task BEGIN {_REMOVE} END",
            postgresql="""
                CREATE TRIGGER tasks_tally_delete AFTER DELETE ON tasks_task
                FOR EACH ROW EXECUTE FUNCTION tasks_tally_delete()
            """,
            function=f"BEGIN {_REMOVE} RETURN NULL; END",
        ),
        Trigger(
            name="tasks_tally_update",
            table="tasks_task",
            sqlite=f"""
                CREATE TRIGGER tasks_tally_update AFTER UPDATE OF owner_id, done ON tasks_task
                WHEN OLD.owner_id IS NOT NEW.owner_id OR OLD.done IS NOT NEW.done
                BEGIN {_REMOVE} {_ADD} END
            """,
            postgresql="""
                CREATE TRIGGER tasks_tally_update AFTER UPDATE OF owner_id, done ON tasks_task
                FOR EACH ROW
                WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id OR OLD.done IS DISTINCT FROM NEW.done)
                EXECUTE FUNCTION tasks_tally_update()
            """,
            function=f"BEGIN {_REMOVE} {_ADD} RETURN NULL; END",
        ),
        # TRUNCATE fires no row triggers. SQLite has no TRUNCATE: its
        # DELETE without WHERE runs the row triggers when there are any.
        Trigger(
            name="tasks_tally_truncate",
            table="tasks_task",
            sqlite=None,
            postgresql="""
                CREATE TRIGGER tasks_tally_truncate AFTER TRUNCATE ON tasks_task
                FOR EACH STATEMENT EXECUTE FUNCTION tasks_tally_truncate()
            """,
            function="BEGIN DELETE FROM tasks_tasktally; RETURN NULL; END",
        ),
    ),
    recompute=(
        "DELETE FROM tasks_tasktally",
        f"""
        INSERT INTO tasks_tasktally (owner_id, total, done)
        SELECT owner_id, COUNT(*), SUM({_done("tasks_task")}) FROM tasks_task GROUP BY owner_id
        """,
    ),
    drift=f"""
        SELECT counted.owner_id, counted.total, counted.done, tally.total, tally.done
        FROM (
            SELECT owner_id, COUNT(*) AS total, SUM({_done("tasks_task")}) AS done
            FROM tasks_task GROUP BY owner_id
        ) counted
        LEFT JOIN tasks_tasktally tally ON tally.owner_id = counted.owner_id
        WHERE tally.owner_id IS NULL OR tally.total <> counted.total OR tally.done <> counted.done
        UNION ALL
        SELECT tally.owner_id, 0, 0, tally.total, tally.done FROM tasks_tasktally tally
        WHERE (tally.total <> 0 OR tally.done <> 0)
        AND NOT EXISTS (SELECT 1 FROM tasks_task WHERE tasks_task.owner_id = tally.owner_id)
    """,
    drift_message="Owner {0} has {1} tasks ({2} done); the tally says {3} ({4} done).",
)

# The change log for sync (tasks/sync.py): an entry per (owner, task) with the
# number of the task's latest change, or saying the task is gone. The number
# is the owner's counter, raised by an upsert that holds the counter row's
# lock until commit (SQLite lets one writer in at a time anyway): one owner's
# changes commit in the order of their numbers, so a reader that sees number n
# sees every lower one too. AFTER triggers take the lock once the statement
# has locked all its rows, so a multi-row UPDATE cannot deadlock with a
# single-row one. None writes tasks_task, so the version trigger stays quiet.
SYNCED_COLUMNS = ("id", "owner_id", "title", "done", "created_at", "updated_at")  # all but version
_EPOCH = PerVendor(sqlite="random()", postgresql="(random() * 9.2e18)::bigint")
_NOW = PerVendor(sqlite="strftime('%Y-%m-%d %H:%M:%f', 'now')", postgresql="now()")


def _log(vendor: str, row: str, *, deleted: bool) -> str:
    """Number the change to task `row` (NEW or OLD) and make it the task's entry in the log."""
    return dedent(f"""
        INSERT INTO tasks_changecounter (owner_id, seq, purged_seq, epoch)
        VALUES ({row}.owner_id, 1, 0, {_EPOCH.sql(vendor)})
        ON CONFLICT (owner_id) DO UPDATE SET seq = tasks_changecounter.seq + 1;
        INSERT INTO tasks_taskchange (owner_id, task_id, seq, deleted, changed_at)
        SELECT owner_id, {row}.id, seq, {str(deleted).lower()}, {_NOW.sql(vendor)}
        FROM tasks_changecounter WHERE owner_id = {row}.owner_id
        ON CONFLICT (owner_id, task_id) DO UPDATE
        SET seq = excluded.seq, deleted = excluded.deleted, changed_at = excluded.changed_at;
    """).strip()


def _on_sqlite(name: str, event: str, body: str, when: str = "") -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON tasks_task{when and f' WHEN {when}'}\nBEGIN\n{body}\nEND"


def _on_postgresql(name: str, event: str) -> str:
    return f"CREATE TRIGGER {name} AFTER {event} ON tasks_task FOR EACH ROW EXECUTE FUNCTION {name}()"


def _logging(name: str, event: str, row: str, *, deleted: bool) -> Trigger:
    """The trigger `name` logs the change to task `row` on `event` (INSERT or DELETE)."""
    sqlite = _on_sqlite(name, event, _log("sqlite", row, deleted=deleted))
    body = f"BEGIN\n{_log('postgresql', row, deleted=deleted)}\nRETURN NULL;\nEND"
    return Trigger(name, "tasks_task", sqlite=sqlite, postgresql=_on_postgresql(name, event), function=body)


_NEW_COUNTERS = """
    INSERT INTO tasks_changecounter (owner_id, seq, purged_seq, epoch)
    SELECT owner_id, MAX(id), 0, {epoch} FROM tasks_task GROUP BY owner_id
"""
# Ids and owners are never null, so <> says whether they changed.
_MOVED = "OLD.owner_id <> NEW.owner_id OR OLD.id <> NEW.id"

CHANGE_LOG = Derived(
    name="change log (sync)",
    after=("tasks", "0006_change_log"),
    triggers=(
        _logging("tasks_change_insert", "INSERT", "NEW", deleted=False),
        _logging("tasks_change_delete", "DELETE", "OLD", deleted=True),
        # On SQLite, any write of a column the client sees (QuerySet.update()
        # names some, save() all), but not the version trigger's own UPDATE.
        # PostgreSQL's version trigger changes the row in place, and naming
        # columns there would forbid altering their type: every UPDATE counts.
        # A task given to another owner (or renumbered) is gone for the first.
        Trigger(
            name="tasks_change_update",
            table="tasks_task",
            sqlite=_on_sqlite(
                "tasks_change_update",
                f"UPDATE OF {', '.join(SYNCED_COLUMNS)}",
                _log("sqlite", "NEW", deleted=False),
            ),
            postgresql=_on_postgresql("tasks_change_update", "UPDATE"),
            function=f"BEGIN\nIF {_MOVED} THEN\n{_log('postgresql', 'OLD', deleted=True)}\nEND IF;\n"
            f"{_log('postgresql', 'NEW', deleted=False)}\nRETURN NULL;\nEND",
        ),
        Trigger(
            name="tasks_change_move",
            table="tasks_task",
            sqlite=_on_sqlite(
                "tasks_change_move",
                "UPDATE OF id, owner_id",
                _log("sqlite", "OLD", deleted=True),
                when=_MOVED,
            ),
            postgresql=None,  # in tasks_change_update
        ),
        # TRUNCATE fires no row trigger: a new epoch for every owner refuses
        # every cursor (410), and clients sync again from the beginning.
        Trigger(
            name="tasks_change_truncate",
            table="tasks_task",
            sqlite=None,
            postgresql="""
                CREATE TRIGGER tasks_change_truncate AFTER TRUNCATE ON tasks_task
                FOR EACH STATEMENT EXECUTE FUNCTION tasks_change_truncate()
            """,
            function="BEGIN DELETE FROM tasks_taskchange; DELETE FROM tasks_changecounter; RETURN NULL; END",
        ),
    ),
    # Writes made while a trigger was missing went unlogged, deletions
    # included: start a new epoch for every owner (every cursor is refused,
    # 410) with a log of the tasks as they are. Task ids are unique, so they
    # number each owner's entries.
    recompute=(
        "DELETE FROM tasks_taskchange",
        "DELETE FROM tasks_changecounter",
        PerVendor(*(_NEW_COUNTERS.format(epoch=_EPOCH.sql(vendor)) for vendor in ("sqlite", "postgresql"))),
        """
        INSERT INTO tasks_taskchange (owner_id, task_id, seq, deleted, changed_at)
        SELECT owner_id, id, id, false, updated_at FROM tasks_task
        """,
    ),
    drift="""
        SELECT t.owner_id, t.id, 'is missing from the change log' FROM tasks_task t
        LEFT JOIN tasks_taskchange c ON c.owner_id = t.owner_id AND c.task_id = t.id AND NOT c.deleted
        WHERE c.id IS NULL
        UNION ALL
        SELECT c.owner_id, c.task_id, 'is logged as deleted but exists' FROM tasks_taskchange c
        JOIN tasks_task t ON t.id = c.task_id AND t.owner_id = c.owner_id WHERE c.deleted
        UNION ALL
        SELECT c.owner_id, c.task_id, 'is numbered beyond the owner''s counter' FROM tasks_taskchange c
        LEFT JOIN tasks_changecounter k ON k.owner_id = c.owner_id WHERE k.owner_id IS NULL OR c.seq > k.seq
    """,
    drift_message="Task {1} of owner {0} {2}.",
)

REGISTRY: tuple[Derived, ...] = (TASK_VERSION, TASK_TALLY, CHANGE_LOG)
