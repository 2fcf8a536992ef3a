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
    recompute: tuple[str, ...]
    drift: str | None = None
    drift_message: str = ""  # one drift row as a sentence, str.format()ted with the row's columns


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

REGISTRY: tuple[Derived, ...] = (TASK_VERSION, TASK_TALLY)
