"""scripts/bench_decision_loop.py at a small size: one JSON line, and it never drops a database it did not make."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_decision_loop.py"


def _server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        service_unavailable("the bench needs PostgreSQL (DATABASE_URL)")
    return url


def _bench_database() -> str:
    return f"{os.environ.get('DATABASE_URL', '').rsplit('/', 1)[-1] or 'meshvalue'}_bench_loop_test"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--database-url", _server(), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


def _admin() -> psycopg.Connection:
    base = _server().rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1)
    return psycopg.connect(f"{base}/postgres", autocommit=True)


@pytest.mark.slow
def test_small_run_prints_one_json_line():
    database = _bench_database()
    result = _run("--products", "200", "--repeat", "1", "--database", database)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert figures["products"] == 200
    assert figures["settled_bets"] > 0 and figures["decisions"] > 0 and figures["retirements"] > 0
    assert figures["decision_loop_queries"] <= 8
    assert figures["readiness_queries"] <= 8
    for key in ("decision_loop_ratio", "readiness_ratio"):
        assert figures[key] > 0
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def test_refuses_to_drop_a_database_it_did_not_create():
    database = _bench_database() + "_foreign"
    with _admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        result = _run("--products", "10", "--database", database)
        assert result.returncode != 0
        assert "was not created by this script: refusing to drop it" in result.stderr
        with _admin() as admin:
            assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}"')
