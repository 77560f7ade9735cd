"""Benchmark the decision-loop and readiness endpoints against their bare SQL, on a synthetic portfolio.

    .venv/bin/python scripts/bench_decision_loop.py [--products 10000] [--database-url postgres://host:5432/x]

Builds the portfolio in its own PostgreSQL database (`meshvalue_bench_loop` by default) on the
server `--database-url` names (or `DATABASE_URL`; only its server is used). The database is
marked with a comment when this script creates it; one that exists without that mark is never
dropped: the script stops with a message instead. Nothing is published to a broker (the broker is
an in-memory transport and no task is sent).

The rows are generated inside PostgreSQL (`INSERT ... SELECT generate_series`): per product a
monthly KPI with two years of outcomes, monthly costs, recent usage; a bet per two products
(won, lost or void, settled over the year), an alert per five products decided after 1 to 40 days,
an unresolved alert per ten, and a retire decision per twenty whose sunset fell in the period.

Then it times, warm and alternating the two sides (the best of `--repeat` runs each):

- `decision_loop_s`: `GET /api/v1/portfolio/decision-loop/` through Django and DRF, end to end;
- `decision_loop_sql_s`: the same request's SQL statements (captured from it) run bare and fetched;
- `readiness_s` and `readiness_sql_s`: the same for `GET /api/v1/portfolio/readiness/` when no
  evaluation stored it (computed on request, the heavier path);
- `readiness_record_s`: one `readiness_record` (the gather plus the bulk upsert of a pass).

and prints one JSON line with those, the ratios and the query counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARK = "created by scripts/bench_decision_loop.py"
AS_OF = "2026-12-01"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL URL; only its server is used",
    )
    parser.add_argument("--database", default="meshvalue_bench_loop", help="the bench's own database name")
    parser.add_argument("--repeat", type=int, default=3)
    return parser.parse_args(argv)


def server_url(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"--database-url must be a PostgreSQL URL, not {parts.scheme or 'empty'}")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def recreate_database(args: argparse.Namespace) -> None:
    """Drop the bench database if this script made it, then create it again (with the mark)."""
    import psycopg

    maintenance = server_url(args.database_url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(maintenance, autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if row is not None:
            if row[0] != MARK:
                raise SystemExit(
                    f'database "{args.database}" exists and was not created by this script: refusing to drop it '
                    "(choose another --database)"
                )
            admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')
        admin.execute(f"COMMENT ON DATABASE \"{args.database}\" IS '{MARK}'")


def setup_django(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = server_url(args.database_url, args.database)
    os.environ["REDIS_URL"] = "memory://"  # never a real broker: nothing here sends a task anyway
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["CONN_MAX_AGE"] = "0"
    import django

    django.setup()


def build_portfolio(products: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    domains = max(2, products // 500)
    owners = max(1, products // 100)
    statements = [
        f"""INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                is_active, date_joined, team)
            SELECT '!', n = 0, 'owner' || n, '', '', 'owner' || n || '@example.com', n = 0, true, now(), ''
            FROM generate_series(0, {owners}) n""",
        f"""INSERT INTO catalog_domain (name, slug, description, owner_id)
            SELECT 'Domain ' || n, 'domain-' || n, '', NULL FROM generate_series(1, {domains}) n""",
        """INSERT INTO catalog_businessgoal (name, slug, description, domain_id, sponsor_id, starts_on, ends_on, status)
            SELECT 'Goal ' || d.id, 'goal-' || d.id, '', d.id, (SELECT min(id) FROM accounts_user),
                   '2024-01-01', '2027-12-31', 'active'
            FROM catalog_domain d""",
        f"""INSERT INTO catalog_dataproduct (name, slug, description, domain_id, owner_id, lifecycle, launched_on,
                sunset_on, created_at, updated_at)
            SELECT 'Product ' || n, 'product-' || n, '',
                   (SELECT min(id) FROM catalog_domain) + n % {domains},
                   (SELECT min(id) FROM accounts_user) + 1 + n % {owners},
                   CASE WHEN n % 20 = 0 THEN 'retired' ELSE 'active' END, DATE '2024-06-01',
                   CASE WHEN n % 20 = 0 THEN DATE '2026-03-01' + n % 200 END, now(), now()
            FROM generate_series(0, {products - 1}) n""",
        # 9 in 10 products serve their domain's goal.
        """INSERT INTO catalog_dataproduct_goals (dataproduct_id, businessgoal_id)
            SELECT p.id, g.id FROM catalog_dataproduct p JOIN catalog_businessgoal g ON g.domain_id = p.domain_id
            WHERE p.id % 10 <> 0""",
        # A monthly KPI per product; 1 in 8 has no value per unit yet.
        """INSERT INTO kpis_kpi (goal_id, name, description, unit, direction, cadence, baseline, target, target_date,
                value_per_unit, source_query)
            SELECT g.id, 'KPI of ' || p.id, '', 'units', 'increase', 'monthly', 100, 150, NULL,
                   CASE WHEN p.id % 8 = 0 THEN 0 ELSE 10 END, ''
            FROM catalog_dataproduct p JOIN catalog_businessgoal g ON g.domain_id = p.domain_id""",
        """INSERT INTO kpis_attribution (kpi_id, data_product_id, weight)
            SELECT k.id, substring(k.name from 8)::bigint, 1 FROM kpis_kpi k""",
        # Two years of monthly outcomes; 1 in 6 KPIs stopped in the spring (stale).
        """INSERT INTO kpis_measurement (kpi_id, period_start, value, note, source, revision, is_current,
                recorded_by_id, recorded_at)
            SELECT k.id, (DATE '2024-12-01' + make_interval(months => m))::date, 100 + (k.id + m) % 40, '', 'api',
                   1, true, NULL, now()
            FROM kpis_kpi k, generate_series(0, 23) m WHERE k.id % 6 <> 0 OR m < 16""",
        # Monthly costs; 1 in 7 products has none for the last full month.
        """INSERT INTO costs_costentry (data_product_id, period_start, amount, currency, category, note,
                external_id, source, source_key, revision, is_current, recorded_by_id, recorded_at)
            SELECT p.id, (DATE '2024-12-01' + make_interval(months => m))::date, 200 + (p.id * 7 + m) % 3000, 'EUR',
                   'infrastructure', '', NULL, 'api', '', 1, true, NULL, now()
            FROM catalog_dataproduct p, generate_series(0, 23) m WHERE p.id % 7 <> 0 OR m < 23""",
        # Usage in November: a team everywhere but 1 in 9, the owner in 4 of 5.
        """INSERT INTO usage_usagerecord (data_product_id, consumer, day, count)
            SELECT p.id, c.consumer, DATE '2026-11-20', 3
            FROM catalog_dataproduct p JOIN accounts_user u ON u.id = p.owner_id,
                 LATERAL (VALUES ('analytics'), (CASE WHEN p.id % 5 = 0 THEN 'finance' ELSE u.username END))
                 AS c(consumer)
            WHERE p.id % 9 <> 0""",
        # A bet per two products, settled over the year: won, lost or void.
        """INSERT INTO bets_valuebet (hypothesis, data_product_id, goal_id, expected_value, expected_cost, opens_on,
                review_on, status, realised_value, realised_cost, settled_on, created_by_id, created_at)
            SELECT 'Bet on ' || p.id, p.id, (SELECT min(id) FROM catalog_businessgoal), 50000 + p.id % 9000,
                   20000, DATE '2025-01-01', DATE '2025-12-15' + (p.id % 330)::int,
                   (ARRAY['won', 'lost', 'lost', 'void'])[1 + p.id % 4],
                   CASE WHEN p.id % 4 = 3 THEN NULL ELSE 30000 + (p.id * 13) % 40000 END,
                   CASE WHEN p.id % 4 = 3 THEN NULL ELSE 15000 + (p.id * 7) % 10000 END,
                   DATE '2025-12-15' + (p.id % 330)::int, NULL, now()
            FROM catalog_dataproduct p WHERE p.id % 2 = 0""",
        # An alert per five products, decided 1 to 40 days after it was raised.
        """INSERT INTO governance_alert (data_product_id, kind, status, evaluation_id, message, opened_on, created_at,
                acknowledged_at, acknowledged_by_id, snoozed_until, resolved_at, resolution)
            SELECT p.id, 'review', 'resolved', NULL, 'review', DATE '2026-01-01' + (p.id % 300)::int,
                   TIMESTAMPTZ '2026-01-01 09:00+00' + make_interval(days => (p.id % 300)::int), NULL, NULL, NULL,
                   TIMESTAMPTZ '2026-01-01 09:00+00' + make_interval(days => (p.id % 300 + 1 + p.id % 40)::int),
                   'decided'
            FROM catalog_dataproduct p WHERE p.id % 5 = 0""",
        """INSERT INTO governance_decision (alert_id, data_product_id, action, rationale, sunset_on, new_owner_id,
                previous_owner_id, decided_by_id, decided_at, revisit_on)
            SELECT a.id, a.data_product_id,
                   CASE WHEN p.lifecycle = 'retired' THEN 'retire' ELSE 'keep' END, 'bench',
                   CASE WHEN p.lifecycle = 'retired' THEN p.sunset_on END, NULL, NULL,
                   (SELECT min(id) FROM accounts_user), a.resolved_at, NULL
            FROM governance_alert a JOIN catalog_dataproduct p ON p.id = a.data_product_id""",
        # Retired products not decided on an alert get a retire decision of their own.
        """INSERT INTO governance_decision (alert_id, data_product_id, action, rationale, sunset_on, new_owner_id,
                previous_owner_id, decided_by_id, decided_at, revisit_on)
            SELECT NULL, p.id, 'retire', 'bench', p.sunset_on, NULL, NULL, (SELECT min(id) FROM accounts_user),
                   p.sunset_on - 40, NULL
            FROM catalog_dataproduct p
            WHERE p.lifecycle = 'retired' AND NOT EXISTS (SELECT 1 FROM governance_decision d
                                                          WHERE d.data_product_id = p.id)""",
        # An unresolved alert per ten products, raised over the last three months.
        """INSERT INTO governance_alert (data_product_id, kind, status, evaluation_id, message, opened_on, created_at,
                acknowledged_at, acknowledged_by_id, snoozed_until, resolved_at, resolution)
            SELECT p.id, 'stale_kpi', 'open', NULL, 'stale', DATE '2026-09-01' + (p.id % 90)::int,
                   TIMESTAMPTZ '2026-09-01 09:00+00' + make_interval(days => (p.id % 90)::int), NULL, NULL, NULL,
                   NULL, ''
            FROM catalog_dataproduct p WHERE p.id % 10 = 3 AND p.lifecycle = 'active'""",
        "VACUUM ANALYZE",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _request(client, path: str) -> tuple[float, list[str]]:
    """One GET through the whole stack: its wall time and the SQL it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(path)
        seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    return seconds, [query["sql"] for query in queries.captured_queries]


def _bare(statements: list[str]) -> float:
    """The same statements, run and fetched with a plain cursor."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            if cursor.description is not None:
                cursor.fetchall()
    return time.perf_counter() - started


def measure(path: str, client, repeat: int) -> dict[str, float | int]:
    _request(client, path)  # warm up
    api_s = sql_s = float("inf")
    statements: list[str] = []
    for _ in range(repeat):
        seconds, statements = _request(client, path)
        api_s = min(api_s, seconds)
        sql_s = min(sql_s, _bare(statements))
    return {"api_s": api_s, "sql_s": sql_s, "queries": len(statements)}


def run(args: argparse.Namespace) -> dict[str, object]:
    recreate_database(args)
    setup_django(args)
    load_started = time.perf_counter()
    build_portfolio(args.products)
    load_s = time.perf_counter() - load_started

    from datetime import date

    from rest_framework.test import APIClient

    from apps.accounts.models import User
    from apps.catalog.models import DataProduct
    from apps.valuation.models import DomainReadiness
    from apps.valuation.services import readiness_record

    client = APIClient()
    client.force_authenticate(User.objects.filter(is_staff=True).first())
    loop = measure(f"/api/v1/portfolio/decision-loop/?to={AS_OF}", client, args.repeat)
    DomainReadiness.objects.all().delete()
    readiness = measure(f"/api/v1/portfolio/readiness/?as_of={AS_OF}", client, args.repeat)
    record_started = time.perf_counter()
    rows = readiness_record(as_of=date.fromisoformat(AS_OF))
    record_s = time.perf_counter() - record_started
    body = client.get(f"/api/v1/portfolio/decision-loop/?to={AS_OF}").json()["totals"]
    return {
        "products": DataProduct.objects.count(),
        "decision_loop_s": round(loop["api_s"], 4),
        "decision_loop_sql_s": round(loop["sql_s"], 4),
        "decision_loop_ratio": round(loop["api_s"] / loop["sql_s"], 2),
        "decision_loop_queries": loop["queries"],
        "readiness_s": round(readiness["api_s"], 4),
        "readiness_sql_s": round(readiness["sql_s"], 4),
        "readiness_ratio": round(readiness["api_s"] / readiness["sql_s"], 2),
        "readiness_queries": readiness["queries"],
        "readiness_record_s": round(record_s, 4),
        "readiness_domains": len(rows),
        "settled_bets": body["settled_bets"],
        "decisions": body["decisions"],
        "retirements": body["retirements"],
        "alerts_past_sla": body["alerts_past_sla"],
        "load_s": round(load_s, 1),
    }


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(run(parse_args(argv))))


if __name__ == "__main__":
    main()
