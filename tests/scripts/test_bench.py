"""The benchmarks run at a small size, so that they cannot rot (the full sizes are `make bench*`)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg
from django.conf import settings

from tests.conftest import service_unavailable

ROOT = Path(__file__).resolve().parents[2]
SMALL = ("--products", "200", "--kpis", "400", "--weeks", "60", "--repeat", "1")


def _server_url() -> str:
    database = settings.DATABASES["default"]
    if not database["ENGINE"].endswith("postgresql"):
        service_unavailable("the benchmark needs PostgreSQL: set DATABASE_URL to a PostgreSQL database")
    user = database.get("USER") or "postgres"
    return f"postgres://{user}@{database.get('HOST') or '127.0.0.1'}:{database.get('PORT') or 5432}/postgres"


def _databases(server: str) -> set[str]:
    with psycopg.connect(server, autocommit=True) as admin:
        return {row[0] for row in admin.execute("SELECT datname FROM pg_database")}


def test_the_evaluation_benchmark_runs_small_and_cleans_up_after_itself():
    server = _server_url()
    name = f"test_bench_{secrets.token_hex(4)}"
    environment = {**os.environ, "DATABASE_URL": server}
    if not settings.REDIS_URL:
        service_unavailable("the chunked runs of the benchmark need Redis: set REDIS_URL")
    chunked = ("--broker-url", settings.REDIS_URL, "--chunk-size", "50")
    result = subprocess.run(
        [sys.executable, "scripts/bench.py", *SMALL, *chunked, "--database", name, "--drop"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["products"] == 200
    assert figures["evaluate_s"] > 0 and figures["sql_floor_s"] > 0
    assert quotient_of_rounded(figures["ratio"], figures["evaluate_s"], figures["sql_floor_s"])
    # Real workers evaluated the portfolio in chunks, on one and then on two of them.
    assert figures["chunks"] == 4  # ids 1..200 in chunks of 50 ids: 1-50, 51-100, 101-150, 151-200
    assert figures["chunked_1_worker_s"] > 0 and figures["chunked_2_workers_s"] > 0
    assert quotient_of_rounded(
        figures["two_workers_vs_one"], figures["chunked_2_workers_s"], figures["chunked_1_worker_s"]
    )
    assert figures["one_pass_run_s"] > 0
    assert quotient_of_rounded(
        figures["one_worker_vs_one_pass_run"], figures["chunked_1_worker_s"], figures["one_pass_run_s"]
    )
    assert name not in _databases(server)


def quotient_of_rounded(ratio: float, numerator: float, denominator: float) -> bool:
    """Whether `ratio` (printed to 2 places) is numerator / denominator, both printed to 3 places.

    At 200 products the floor is a few milliseconds, so its rounding alone moves the quotient by
    several percent: the ratio must lie between the quotients of the extremes the roundings allow.
    """
    low = (numerator - 0.0005) / (denominator + 0.0005)
    high = (numerator + 0.0005) / max(denominator - 0.0005, 1e-9)
    return low - 0.005 <= ratio <= high + 0.005


def test_the_benchmark_refuses_to_drop_a_database_it_did_not_create():
    server = _server_url()
    name = f"test_not_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        result = subprocess.run(
            [sys.executable, "scripts/bench.py", "--products", "10", "--database", name],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": server},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert "was not created by the bench; refusing to drop it" in result.stderr
        assert name in _databases(server)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
