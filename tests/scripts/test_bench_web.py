"""`make bench-web` runs at a small size, so that it cannot rot (the full size is `make bench-web`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.scripts.test_bench import _databases, _server_url

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"page", "p50_ms_1", "p95_ms_1", "p50_ms_8", "p95_ms_8", "queries", "bytes", "demo_p95_ms_1", "demo_p95_ms_8"}
KEYS |= {"ratio_1", "ratio_8"}


def _names() -> tuple[str, str]:
    """The two databases of the run: BENCH_WEB_DATABASE and BENCH_WEB_DEMO_DATABASE when set, else named
    after this run's database, so that parallel runs (and other people's) never share one."""
    own = settings.DATABASES["default"]["NAME"]
    return (
        os.environ.get("BENCH_WEB_DATABASE", f"{own}_bench_web"),
        os.environ.get("BENCH_WEB_DEMO_DATABASE", f"{own}_bench_web_demo"),
    )


@pytest.mark.slow
def test_the_web_benchmark_runs_small_prints_a_line_per_page_and_cleans_up_after_itself():
    server = _server_url()
    bench, demo = _names()
    result = subprocess.run(
        [
            sys.executable,
            "scripts/bench_web.py",
            *("--products", "200", "--weeks", "30", "--seconds", "0.3", "--requests", "5", "--clients", "2"),
            *("--workers", "2", "--database", bench, "--demo-database", demo, "--drop"),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": server},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    by_page = {line["page"]: line for line in lines}
    for page in (
        "/",
        "/inbox/",
        "/products/<slug>/",
        "/goals/<slug>/",
        "/inbox/decisions/",
        "/decision-loop/",
        "/readiness/",
        "/?sort=-value&recommendation=retire&page=2",
        "/products/?recommendation=retire&page=2",
        "/portfolio/map.json",
    ):
        assert set(by_page[page]) >= KEYS, page
        assert "floor_ratio_8" not in by_page[page]
    for endpoint in (
        "/api/v1/",
        "/api/v1/data-products/?page_size=50",
        "/api/v1/evaluations/?as_of=<latest>",
        "/api/v1/portfolio/summary/",
        "/api/v1/kpis/",
    ):
        assert KEYS | {"floor_ratio_8"} <= set(by_page[endpoint]), endpoint
    for line in lines:
        assert line["p95_ms_1"] >= line["p50_ms_1"] > 0 and line["bytes"] > 0 and line["queries"] >= 1
        if line["p95_ms_8"] is not None:  # None: a page slow enough to be timed once (none at this size)
            assert line["p95_ms_8"] >= line["p50_ms_8"] > 0
            assert line["ratio_8"] == pytest.approx(line["p95_ms_8"] / line["demo_p95_ms_8"], abs=0.01)
    assert by_page["/api/v1/"]["floor_ratio_8"] == 1.0
    remaining = _databases(server)
    assert bench not in remaining and demo not in remaining


def test_the_web_benchmark_refuses_to_drop_a_database_it_did_not_create():
    server = _server_url()
    bench, demo = _names()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{demo}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{demo}"')
    try:
        result = subprocess.run(
            [sys.executable, "scripts/bench_web.py", "--products", "10", "--database", bench, "--demo-database", demo],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": server},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode != 0
        assert "was not created by the bench; refusing to drop it" in result.stderr
        assert demo in _databases(server)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{demo}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "{bench}" WITH (FORCE)')
