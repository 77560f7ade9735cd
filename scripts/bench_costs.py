"""Benchmark a FOCUS import against DuckDB alone on the same file; prints one JSON line.

    .venv/bin/python scripts/bench_costs.py [--lines 1000000] [--database-url postgres://user@host:5432/any]

1. Generates a synthetic FOCUS csv.gz of `--lines` lines (scripts/focus_generate.py; not timed).
2. Creates a database of its own on the server of `--database-url` (default: DATABASE_URL) with a
   name of its own (`meshvalue_bench_costs_<pid>_<random>`), migrates it, and adds products,
   allocation rules (by the `application` tag) and the month's exchange rates.
3. Times, in the same run, DuckDB's own `read_csv` + `GROUP BY` of the file (the floor), then the
   whole import (`cost_import_run`: read, allocation, the stored sums, the cost revisions, one
   transaction), after a `VACUUM ANALYZE` (autovacuum may be off).
4. Drops the database it created, and only that one (it refuses to drop a name it did not make).

It never publishes to a broker: the import service runs in this process, and the Celery broker is
set to an in-memory transport before Django starts. Output: lines, floor_s, import_s, ratio
(goal <= 1.5), lines_per_s, peak_rss_mb (ru_maxrss; goal < 400), groups, revisions.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RATIO_GOAL = 1.5
RSS_GOAL_MB = 400


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="any database on the server to use; the benchmark creates and drops its own beside it",
    )
    return parser.parse_args()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def create_database(url: str) -> str:
    name = f"meshvalue_bench_costs_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin_connection(url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(url: str, name: str, created: set[str]) -> None:
    if name not in created or not name.startswith("meshvalue_bench_costs_"):
        raise SystemExit(f"refusing to drop {name}: this run did not create it")
    from django.db import connections

    connections.close_all()
    with _admin_connection(url) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = "memory://"  # no broker: nothing can be published anywhere
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["CONN_MAX_AGE"] = "0"
    import django

    django.setup()


def populate(months: int) -> None:
    from datetime import date
    from decimal import Decimal

    from apps.accounts.models import User
    from apps.catalog.models import DataProduct, Domain
    from apps.costs.models import AllocationRule, AllocationTarget, ExchangeRate
    from scripts.focus_generate import APPLICATIONS, _months

    owner = User.objects.create(username="bench-owner")
    domain = Domain.objects.create(name="Bench", slug="bench")
    for position, application in enumerate(APPLICATIONS, start=1):
        product = DataProduct.objects.create(name=application, slug=application, domain=domain, owner=owner)
        rule = AllocationRule.objects.create(
            name=application, position=position, tag_key="application", tag_value=application
        )
        AllocationTarget.objects.create(rule=rule, data_product=product)
    for month in _months(date(2026, 1, 1), months):
        ExchangeRate.objects.create(currency="USD", month=month, rate=Decimal("0.9213"))


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in ("costs_costentry", "costs_costimportaggregate", "costs_costimport", "catalog_dataproduct"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def main() -> None:
    args = parse_args()
    from scripts.focus_generate import generate

    created: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="bench-costs-") as scratch:
        bill = generate(Path(scratch) / "focus.csv.gz", lines=args.lines, months=args.months)
        name = create_database(args.database_url)
        created.add(name)
        try:
            setup_django(_with_database(args.database_url, name))
            from django.core.management import call_command

            call_command("migrate", verbosity=0, interactive=False)
            populate(args.months)
            vacuum()

            from apps.costs.focus import timed_floor
            from apps.costs.imports import cost_import_create, cost_import_run

            floor_s, groups = timed_floor(bill)
            started = time.perf_counter()
            cost_import = cost_import_create(file_name=bill.name, file_path=bill, dispatch=False)
            cost_import = cost_import_run(import_id=cost_import.pk, remove_file=False)
            import_s = time.perf_counter() - started
            assert cost_import is not None and cost_import.status == "succeeded", cost_import and cost_import.errors
            peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            ratio = import_s / floor_s
            print(
                json.dumps(
                    {
                        "lines": cost_import.rows_read,
                        "floor_s": round(floor_s, 3),
                        "import_s": round(import_s, 3),
                        "ratio": round(ratio, 3),
                        "ratio_goal": RATIO_GOAL,
                        "lines_per_s": round(cost_import.rows_read / import_s),
                        "peak_rss_mb": round(peak_rss_mb, 1),
                        "rss_goal_mb": RSS_GOAL_MB,
                        "groups": groups,
                        "revisions": cost_import.result.get("revisions_created"),
                        "unallocated": str(cost_import.unallocated),
                        "ok": ratio <= RATIO_GOAL and peak_rss_mb < RSS_GOAL_MB,
                    }
                )
            )
        finally:
            drop_database(args.database_url, name, created)


if __name__ == "__main__":
    main()
