"""`make bench-costs` at a small size, so that the benchmark cannot rot: one JSON line, its own database dropped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.workers import database_url

ROOT = Path(__file__).resolve().parents[3]

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("postgres")]


def _bench_databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE 'meshvalue_bench_costs_%%'")
        return {row[0] for row in cursor.fetchall()}


def test_bench_costs_prints_one_json_line_and_drops_its_database():
    before = _bench_databases()
    environment = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": "redis://127.0.0.1:1/0"}
    completed = subprocess.run(
        [sys.executable, "scripts/bench_costs.py", "--lines", "20000"],
        cwd=ROOT,
        env=environment,  # an unreachable broker: the benchmark must not need one
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.strip().splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert figures["lines"] == 20000
    assert figures["floor_s"] > 0 and figures["import_s"] > 0 and figures["lines_per_s"] > 0
    assert figures["peak_rss_mb"] < 400
    assert figures["revisions"] > 0
    assert _bench_databases() == before
