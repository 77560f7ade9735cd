"""Benchmark ingestion of KPI outcomes through the API against psql-style COPY into the same table.

    .venv/bin/python scripts/bench_ingest.py [--rows 1000,10000] [--repeat 3] [--drop]

Builds its own database (`meshvalue_bench_ingest` by default) on the server of `--database-url`
(default: `DATABASE_URL`), so it never touches development or test data: it marks the database with
a comment when it creates it, drops only a database carrying that mark (and refuses otherwise), and
drops it at the end with `--drop`. Celery is pointed at an in-memory transport before anything runs.

It creates a product owner with a token, one data product they own and as many monthly KPIs as the
largest size (each attributed to the product), so that every row of a request names its own KPI:
the permission check, the lock and the lookups all work on as many KPIs as rows. Then for each size
and format (a JSON list to `POST /api/v1/measurements/bulk/`, a CSV file to `POST
/api/v1/measurements/import/`) it times, alternating the two sides so that both see the same load
(the best of `--repeat` runs each):

- `api_s`: one request through Django's test Client (in process: the whole middleware stack, token
  authentication, parsing, the permission check, validation, the write and the summary answer; no
  socket), with the body encoded before the clock starts, as a client would send it;
- `copy_s`: the same rows (for another month, so that both sides write new rows) sent as one
  `COPY kpis_measurement (...) FROM STDIN` text stream on a psycopg connection and committed, as
  psql's `\\copy` does: the least any ingestion into that table can cost.

Each run writes a new month, so every row is a new revision (no corrections). It prints one JSON line
per size and format: rows, format, api_s, copy_s, rows_per_s, copy_rows_per_s, ratio
(rows_per_s / copy_rows_per_s; the goal at 10,000 rows is 0.5 or more), transport.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_MARK = "meshvalue bench-ingest"
FIRST_MONTH = date(2000, 1, 1)
BOUNDARY = "meshvalueBenchBoundary"
COPY_COLUMNS = "kpi_id, period_start, value, note, source, revision, is_current, recorded_by_id, recorded_at"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="1000,10000", help="request sizes, comma-separated (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the best is reported")
    parser.add_argument("--database", default="meshvalue_bench_ingest", help="the bench's own database")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL URL naming the server to use (its database part is ignored; default: DATABASE_URL)",
    )
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end (the tests do)")
    args = parser.parse_args()
    args.sizes = [int(size) for size in args.rows.split(",") if size.strip()]
    if not args.sizes or min(args.sizes) < 1:
        parser.error("--rows takes positive sizes, such as 1000,10000")
    return args


def server_url(database_url: str) -> str:
    """The server part of a PostgreSQL URL (scheme, credentials, host and port), without the database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(
            f"bench-ingest: --database-url (or DATABASE_URL) must name a PostgreSQL server, got {parts.scheme!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def recreate_database(server: str, name: str) -> None:
    """Create the bench database afresh, dropping an older one only if this bench created it."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None:
            if not (row[0] or "").startswith(BENCH_MARK):
                raise SystemExit(
                    f"bench-ingest: database {name!r} exists and was not created by the bench; refusing to drop it"
                    " (choose another --database)"
                )
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
        # Marked at once, so that a bench interrupted while loading can still drop it next time.
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS '{BENCH_MARK}'")


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if row is not None and (row[0] or "").startswith(BENCH_MARK):
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def setup_django(server: str, name: str, max_rows: int) -> None:
    os.environ["DATABASE_URL"] = f"{server}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-ingest")
    os.environ["MESHVALUE_MAX_IMPORT_ROWS"] = str(max(max_rows, int(os.environ.get("MESHVALUE_MAX_IMPORT_ROWS", 0))))
    import django

    django.setup()
    from config.celery_app import app

    app.conf.update(broker_url="memory://", result_backend="cache+memory://", broker_transport_options={})


def build_world(kpi_count: int) -> tuple[str, int, list[int]]:
    """A product owner (their token), one product they own and `kpi_count` KPIs attributed to it."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.catalog.models import BusinessGoal, DataProduct, Domain
    from apps.core.roles import Role
    from apps.kpis.models import KPI, Attribution

    call_command("migrate", verbosity=0, interactive=False)
    owner = User.objects.create_user(username="bench-owner", password=None)
    owner.groups.add(Group.objects.get(name=Role.PRODUCT_OWNER))
    domain = Domain.objects.create(name="Bench", slug="bench")
    goal = BusinessGoal.objects.create(
        name="Bench goal",
        slug="bench-goal",
        domain=domain,
        sponsor=owner,
        starts_on=date(2000, 1, 1),
        ends_on=date(2999, 12, 31),
    )
    product = DataProduct.objects.create(
        name="Bench product", slug="bench-product", domain=domain, owner=owner, launched_on=date(2000, 1, 1)
    )
    kpis = KPI.objects.bulk_create(
        KPI(
            goal=goal,
            name=f"KPI {number}",
            unit="orders",
            cadence="monthly",
            baseline=Decimal(100),
            target=Decimal(150),
            value_per_unit=Decimal(10),
        )
        for number in range(kpi_count)
    )
    Attribution.objects.bulk_create(Attribution(kpi=kpi, data_product=product, weight=Decimal(1)) for kpi in kpis)
    token = Token.objects.create(user=owner)
    return token.key, owner.pk, [kpi.pk for kpi in kpis]


def month(number: int) -> date:
    return date(FIRST_MONTH.year + number // 12, number % 12 + 1, 1)


def sample_rows(kpi_ids: list[int], size: int) -> list[tuple[int, str]]:
    """(kpi, value) of a request of `size` rows: one row per KPI, values with 2 decimals."""
    return [(kpi_ids[index], f"{100 + index % 997}.{index % 100:02d}") for index in range(size)]


def json_body(rows: list[tuple[int, str]], period: date) -> bytes:
    start = period.isoformat()
    return json.dumps([{"kpi": kpi, "period_start": start, "value": value} for kpi, value in rows]).encode()


def csv_body(rows: list[tuple[int, str]], period: date) -> bytes:
    start = period.isoformat()
    content = "kpi,period_start,value\n" + "".join(f"{kpi},{start},{value}\n" for kpi, value in rows)
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="outcomes.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\n{content}\r\n--{BOUNDARY}--\r\n"
    ).encode()


def copy_payload(rows: list[tuple[int, str]], period: date, owner_id: int) -> bytes:
    """The rows as COPY's text format, as psql would stream them from a file."""
    start = period.isoformat()
    now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    return "".join(f"{kpi}\t{start}\t{value}\t\tcsv\t1\tt\t{owner_id}\t{now}\n" for kpi, value in rows).encode()


def time_api(client, token: str, fmt: str, body: bytes, size: int) -> float:
    if fmt == "json":
        path, content_type = "/api/v1/measurements/bulk/", "application/json"
    else:
        path, content_type = "/api/v1/measurements/import/", f"multipart/form-data; boundary={BOUNDARY}"
    started = time.perf_counter()
    response = client.post(path, data=body, content_type=content_type, HTTP_AUTHORIZATION=f"Token {token}")
    elapsed = time.perf_counter() - started
    if response.status_code != 201 or response.json()["stored"] != size:
        raise SystemExit(f"bench-ingest: {path} answered {response.status_code}: {response.content[:500]!r}")
    return elapsed


def time_copy(dsn: str, payload: bytes) -> float:
    import psycopg

    with psycopg.connect(dsn) as connection:
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY kpis_measurement ({COPY_COLUMNS}) FROM STDIN") as copy:
            copy.write(payload)
        connection.commit()
        return time.perf_counter() - started


def main() -> None:
    args = parse_args()
    server = server_url(args.database_url)
    recreate_database(server, args.database)
    try:
        setup_django(server, args.database, max(args.sizes))
        from django.db import connection
        from django.test import Client

        token, owner_id, kpi_ids = build_world(max(args.sizes))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        client = Client()
        dsn = f"{server}/{args.database}"
        months = iter(range(10_000))
        for size in args.sizes:
            rows = sample_rows(kpi_ids, size)
            for fmt in ("json", "csv"):
                encode = json_body if fmt == "json" else csv_body
                # One untimed request first: imports, caches and the connection warm, as in a running server.
                time_api(client, token, fmt, encode(rows, month(next(months))), size)
                api_runs, copy_runs = [], []
                for _ in range(args.repeat):
                    api_runs.append(time_api(client, token, fmt, encode(rows, month(next(months))), size))
                    copy_runs.append(time_copy(dsn, copy_payload(rows, month(next(months)), owner_id)))
                api_s, copy_s = min(api_runs), min(copy_runs)
                figures = {
                    "rows": size,
                    "format": fmt,
                    "api_s": round(api_s, 4),
                    "copy_s": round(copy_s, 4),
                    "rows_per_s": round(size / api_s),
                    "copy_rows_per_s": round(size / copy_s),
                    "ratio": round(copy_s / api_s, 3),
                    "transport": "django test client (in process)",
                }
                print(json.dumps(figures), flush=True)
        connection.close()
    finally:
        if args.drop:
            drop_database(server, args.database)


if __name__ == "__main__":
    main()
