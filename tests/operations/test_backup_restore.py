"""docs/operations.md's restore drill, on the real PostgreSQL: a custom-format ``pg_dump`` of a
database holding a credit ledger, restored with ``pg_restore`` into a fresh database, passes
``verify_ledger`` there; a row changed in the restored copy behind the application's back is
named. The append-only trigger comes back with the restore, so the copy refuses updates too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from creditbank import services

REPO_ROOT = Path(__file__).resolve().parents[2]


def _pg(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120, **kwargs)  # noqa: S603


def _libpq_env(dbname: str) -> dict[str, str]:
    params = connection.settings_dict
    env = {**os.environ, "PGHOST": params["HOST"] or "127.0.0.1", "PGPORT": str(params["PORT"] or 5432)}
    env["PGUSER"] = params["USER"] or "postgres"
    if params["PASSWORD"]:
        env["PGPASSWORD"] = params["PASSWORD"]
    env["PGDATABASE"] = dbname
    return env


def _manage(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "ouc_portal.settings"}
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(REPO_ROOT / "manage.py"), *args],
        capture_output=True, text=True, check=False, timeout=120, env=env, cwd=REPO_ROOT,
    )  # fmt: skip


@pytest.fixture
def restored_database(require_postgres, tmp_path):
    """A scratch database name on the test server, dropped afterwards whatever happens."""
    for tool in ("pg_dump", "pg_restore", "createdb", "dropdb", "psql"):
        assert shutil.which(tool), f"{tool} is needed for the restore drill (postgresql-client)"
    name = f"restore_drill_{uuid.uuid4().hex[:10]}"
    source = connection.settings_dict["NAME"]
    yield source, name
    _pg(["dropdb", "--if-exists", name], env=_libpq_env("postgres"))


def test_a_dump_restored_into_a_fresh_database_passes_verify_ledger(
    restored_database, world, accredited, tmp_path
):
    source, target = restored_database
    services.conversion_apply(
        outcome=accredited, enrolment=world.enrolment, course=world.cnc, rule=world.rule,
        officer=world.officer,
    )  # fmt: skip
    account = accredited.account
    assert account.entries.count() >= 2
    connection.close()  # what this test wrote is committed (transactional_db): pg_dump sees it

    dump = tmp_path / "portal.dump"
    done = _pg(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source], env=_libpq_env(source))
    assert done.returncode == 0, done.stderr
    assert _pg(["createdb", target], env=_libpq_env("postgres")).returncode == 0
    done = _pg(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)],
               env=_libpq_env(target))  # fmt: skip
    assert done.returncode == 0, done.stderr

    params = connection.settings_dict
    url = f"postgres://{params['USER'] or 'postgres'}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{target}"
    checked = _manage(url, "verify_ledger")
    assert checked.returncode == 0, checked.stderr
    assert "every ledger chain is intact" in checked.stdout
    assert _manage(url, "migrate", "--check").returncode == 0, "the restored schema is current"

    # The restored copy keeps the append-only trigger: an UPDATE is refused there too.
    refused = _pg(["psql", "-v", "ON_ERROR_STOP=1", "-c",
                   "UPDATE creditbank_ledgerentry SET amount = 99 WHERE seq = 2"], env=_libpq_env(target))  # fmt: skip
    assert refused.returncode != 0 and "append-only" in refused.stderr

    # Someone with the database's own powers changes a row anyway: verify_ledger names it.
    tamper = (
        "ALTER TABLE creditbank_ledgerentry DISABLE TRIGGER creditbank_ledger_append_only;"
        "UPDATE creditbank_ledgerentry SET amount = amount + 1 WHERE seq = 2;"
        "ALTER TABLE creditbank_ledgerentry ENABLE TRIGGER creditbank_ledger_append_only;"
    )
    assert _pg(["psql", "-v", "ON_ERROR_STOP=1", "-c", tamper], env=_libpq_env(target)).returncode == 0
    broken = _manage(url, "verify_ledger")
    assert broken.returncode != 0
    assert f"account {account.number}: entry 2:" in broken.stderr
