"""Deployment settings, checked with the production settings module in a subprocess."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production(tmp_path: Path) -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "tasks.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_check_deploy_reports_no_issues_with_production_settings(tmp_path: Path) -> None:
    """`manage.py check --deploy` is clean with DEBUG off and the required settings given."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"])
def test_start_without_required_setting_fails_with_one_line(tmp_path: Path, missing: str) -> None:
    """With DEBUG off, a missing secret or host list stops manage.py with a one-line message."""
    env = production(tmp_path)
    del env[missing]
    result = run_manage("check", **env)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Configuration error: {missing} must be set when DJANGO_DEBUG is off."


def test_debug_defaults_to_off(tmp_path: Path) -> None:
    """Without DJANGO_DEBUG the production checks apply: no secret, no start."""
    result = run_manage("check", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_development_needs_no_configuration(tmp_path: Path) -> None:
    """DJANGO_DEBUG=true alone is enough to run the checks and migrate."""
    db = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = run_manage("migrate", "--no-input", DJANGO_DEBUG="true", DATABASE_URL=db)
    assert result.returncode == 0, result.stderr


def test_sqlite_file_uses_wal_busy_timeout_and_immediate_transactions(tmp_path: Path) -> None:
    """The SQLite connection is set up for several writer processes, and REPLACE fires delete triggers."""
    script = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    mode = c.execute('PRAGMA journal_mode').fetchone()[0]\n"
        "    sync = c.execute('PRAGMA synchronous').fetchone()[0]\n"
        "    busy = c.execute('PRAGMA busy_timeout').fetchone()[0]\n"
        "    recursive = c.execute('PRAGMA recursive_triggers').fetchone()[0]\n"
        "print(mode, sync, busy, recursive, connection.transaction_mode)\n"
    )
    result = run_manage("shell", "--no-imports", "-c", script, **production(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "1", "5000", "1", "IMMEDIATE"]


@pytest.mark.django_db
def test_models_and_migrations_agree() -> None:
    """Every model change has its migration."""
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_test_settings_pin_every_variable_the_settings_read() -> None:
    """A developer's shell cannot change a test result: every variable base.py reads is pinned."""
    from config.settings.test import PINNED_ENVIRONMENT

    source = (ROOT / "config" / "settings" / "base.py").read_text()
    read = set(re.findall(r'(?:env\.\w+|_required)\(\s*"([A-Z][A-Z0-9_]*)"', source))
    assert "TOKEN_TTL_SECONDS" in read  # the pattern finds what base.py reads
    assert read - {"DATABASE_URL"} <= set(PINNED_ENVIRONMENT)
