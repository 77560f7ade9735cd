"""The ingestion benchmark runs at a small size, so that it cannot rot (the full sizes are `make bench-ingest`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.scripts.test_bench import _databases, _server_url

ROOT = Path(__file__).resolve().parents[2]
# The bench's own database name: the suite may only create databases of its own names.
BENCH_DATABASE = "meshvalue_bench_ingest"


def _run(*arguments: str, server: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/bench_ingest.py", *arguments],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": server},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_ingestion_benchmark_runs_small_and_cleans_up_after_itself():
    server = _server_url()
    result = _run("--rows", "50,200", "--repeat", "1", "--database", BENCH_DATABASE, "--drop", server=server)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.strip().splitlines() if line.startswith("{")]
    assert [(line["rows"], line["format"]) for line in lines] == [
        (50, "json"),
        (50, "csv"),
        (200, "json"),
        (200, "csv"),
    ]
    for line in lines:
        assert {"rows_per_s", "copy_rows_per_s", "ratio", "api_s", "copy_s", "transport"} <= set(line)
        assert line["rows_per_s"] > 0 and line["copy_rows_per_s"] > 0
        assert line["ratio"] == pytest.approx(line["rows_per_s"] / line["copy_rows_per_s"], rel=0.05)
    assert BENCH_DATABASE not in _databases(server)


def test_the_ingestion_benchmark_refuses_to_drop_a_database_it_did_not_create():
    server = _server_url()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')  # no bench mark on it
    try:
        result = _run("--rows", "10", "--database", BENCH_DATABASE, server=server)
        assert result.returncode != 0
        assert "was not created by the bench; refusing to drop it" in result.stderr
        assert BENCH_DATABASE in _databases(server)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
