"""Benchmark the portfolio evaluation on a synthetic portfolio in PostgreSQL.

    .venv/bin/python scripts/bench.py [--products 10000] [--kpis 20000] [--weeks 104] [--revisions 0]

Builds the portfolio in its own database (`meshvalue_bench` by default) on the server of
`--database-url` (default: `DATABASE_URL`), so it never touches development or test data: it drops a
database only if the bench created it (it marks its databases with a comment) and refuses otherwise,
and it never publishes to a broker (Celery is pointed at an in-memory transport before anything runs).
A fifth of the attributions start inside the policy window (a product linked late to its KPI, from
the level the KPI had then), so the v2 rules (DESIGN.md, credited_from) are part of what is timed. The
rows are generated inside PostgreSQL (`INSERT ... SELECT generate_series`, faster than COPY from
Python), then the script times, warm, in the same session and alternating the two sides so that both
see the same load (the best of `--repeat` runs each):

- `evaluate_s`: one full evaluation (`portfolio_chunk_evaluate` over every product, one
  transaction): the set-based reads, the rules in Python, the upsert of one evaluation per
  product and the alert pass, for a new date (the daily job's shape);
- `sql_floor_s`: the bare SQL aggregates over the same raw rows (current measurements per KPI
  over the window, costs per product over the window, the attributions, usage per product over
  90 days), fetched by the client: the least any evaluation must read.

and prints one JSON line: products, measurements, evaluate_s, sql_floor_s, ratio, queries,
peak_rss_mb (plus the sizes and the load time).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_WEEK = date(2024, 7, 1)  # a Monday


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--kpis", type=int, default=20_000)
    parser.add_argument("--weeks", type=int, default=104, help="weekly measurements per KPI (default 2 years)")
    parser.add_argument(
        "--revisions", type=int, default=0, help="extra superseded revisions per measurement (history rows)"
    )
    parser.add_argument("--database", default="meshvalue_bench", help="the bench's own database (default %(default)s)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL URL naming the server to use (its database part is ignored; default: DATABASE_URL)",
    )
    parser.add_argument("--reuse", action="store_true", help="keep the database if it holds the same portfolio")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each side; the best is reported")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end (the tests do)")
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("BENCH_BROKER_URL", ""),
        help="a Redis URL for the chunked runs on real Celery workers (default: BENCH_BROKER_URL; none: skipped)."
        " Its evaluation and notification queues are purged before and after.",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=2000,
        help="products per chunk in the chunked runs (default %(default)s, as the setting)",
    )
    return parser.parse_args()


def server_url(database_url: str) -> str:
    """The server part of a PostgreSQL URL (scheme, credentials, host and port), without the database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"bench: --database-url (or DATABASE_URL) must name a PostgreSQL server, got {parts.scheme!r}")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


BENCH_MARK = "meshvalue bench"


def setup_django(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = f"{args.server}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["CONN_MAX_AGE"] = "0"
    import django

    django.setup()
    # Never publish to a broker: the evaluation's notification hook queues its tasks in memory here.
    from config.celery_app import app

    app.conf.update(broker_url="memory://", result_backend="cache+memory://", broker_transport_options={})


def recreate_database(args: argparse.Namespace, size_tag: str) -> bool:
    """(Re)create the bench database; True when an existing one of the same size is kept."""
    import psycopg

    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if row is not None:
            comment = row[0] or ""
            if not comment.startswith(BENCH_MARK):
                raise SystemExit(
                    f"bench: database {args.database!r} exists and was not created by the bench; refusing to drop it"
                    " (choose another --database)"
                )
            if args.reuse and comment == size_tag:
                return True
            admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.database}"')
        # Marked at once, so that a bench interrupted while loading can still drop it next time.
        admin.execute(f"COMMENT ON DATABASE \"{args.database}\" IS '{BENCH_MARK} (loading)'")
    return False


def build_portfolio(args: argparse.Namespace, size_tag: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    products, kpis, weeks, revisions = args.products, args.kpis, args.weeks, args.revisions
    owners = max(1, products // 100)
    months = (weeks * 7) // 30 + 1
    statements = [
        # People, one domain per 500 products, one goal per domain.
        f"""INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                is_active, date_joined, team)
            SELECT '!', false, 'owner' || n, '', '', 'owner' || n || '@example.com', false, true, now(),
                   'team' || n % 20
            FROM generate_series(1, {owners}) n""",
        f"""INSERT INTO catalog_domain (name, slug, description, owner_id)
            SELECT 'Domain ' || n, 'domain-' || n, '', NULL FROM generate_series(1, {max(1, products // 500)}) n""",
        """INSERT INTO catalog_businessgoal (name, slug, description, domain_id, sponsor_id, starts_on, ends_on, status)
            SELECT 'Goal ' || d.id, 'goal-' || d.id, '', d.id, (SELECT min(id) FROM accounts_user),
                   '2024-01-01', '2027-12-31', 'active'
            FROM catalog_domain d""",
        # Products: 5% launched recently (incubating), the rest two years ago.
        f"""INSERT INTO catalog_dataproduct (name, slug, description, domain_id, owner_id, lifecycle, launched_on,
                sunset_on, created_at, updated_at)
            SELECT 'Product ' || n, 'product-' || n, '',
                   (SELECT min(id) FROM catalog_domain) + (n % {max(1, products // 500)}),
                   (SELECT min(id) FROM accounts_user) + (n % {owners}),
                   'active', CASE WHEN n % 20 = 0 THEN DATE '{FIRST_WEEK}' + {weeks * 7 - 30}
                                  ELSE DATE '{FIRST_WEEK}' END,
                   NULL, now(), now()
            FROM generate_series(0, {products - 1}) n""",
        # KPIs: weekly, a mix of directions, worth 1 to 200 a unit.
        f"""INSERT INTO kpis_kpi (goal_id, name, description, unit, direction, cadence, baseline, target, target_date,
                value_per_unit, source_query)
            SELECT (SELECT min(id) FROM catalog_businessgoal), 'KPI ' || n, '', 'units',
                   CASE WHEN n % 4 = 0 THEN 'decrease' ELSE 'increase' END, 'weekly', 100, 150, NULL, 1 + n % 200, ''
            FROM generate_series(0, {kpis - 1}) n""",
        # Each KPI serves one product (weight 0.6); a third also serve a second one (0.4).
        f"""INSERT INTO kpis_attribution (kpi_id, data_product_id, weight)
            SELECT k.id, p.id, 0.6
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM kpis_kpi) k
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM catalog_dataproduct) p
              ON p.n = k.n % {products}""",
        f"""INSERT INTO kpis_attribution (kpi_id, data_product_id, weight)
            SELECT k.id, p.id, 0.4
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM kpis_kpi) k
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM catalog_dataproduct) p
              ON p.n = (k.n * 7 + 3) % {products}
            WHERE k.n % 3 = 0 AND (k.n * 7 + 3) % {products} <> k.n % {products}""",
        # A fifth of the attributions start inside the window, from the level the KPI had then.
        f"""UPDATE kpis_attribution SET starts_on = DATE '{FIRST_WEEK}' + ({weeks * 7} - 7 * (4 + id % 40))::int,
                baseline = 100 + id % 9
            WHERE id % 5 = 0""",
        # Weekly measurements: around the baseline, some KPIs better than it, some worse.
        f"""INSERT INTO kpis_measurement (kpi_id, period_start, value, note, source, revision, is_current,
                recorded_by_id, recorded_at)
            SELECT k.id, DATE '{FIRST_WEEK}' + 7 * w, 100 + (abs(hashint8(k.id * 1000 + w)) % 41) - 18 + k.id % 7,
                   '', 'api', r, r = {revisions + 1}, NULL, now()
            FROM kpis_kpi k, generate_series(0, {weeks - 1}) w, generate_series(1, {revisions + 1}) r""",
        # Monthly costs per product.
        f"""INSERT INTO costs_costentry (data_product_id, period_start, amount, currency, category, note,
                external_id, recorded_by_id, recorded_at, source, source_key, revision, is_current, cost_import_id)
            SELECT p.id, (DATE '{FIRST_WEEK.replace(day=1)}' + make_interval(months => m))::date,
                   200 + abs(hashint8(p.id * 100 + m)) % 3000, 'EUR', 'infrastructure', '', NULL, NULL, now(),
                   'api', '', 1, true, NULL
            FROM catalog_dataproduct p, generate_series(0, {months - 1}) m""",
        # Usage in the last weeks: 4 in 5 products used by their owner, all by a team.
        f"""INSERT INTO usage_usagerecord (data_product_id, consumer, day, count)
            SELECT p.id, c.consumer, DATE '{FIRST_WEEK}' + {weeks * 7 - 10}, 3
            FROM catalog_dataproduct p JOIN accounts_user u ON u.id = p.owner_id,
                 LATERAL (VALUES ('analytics'), (CASE WHEN p.id % 5 = 0 THEN 'finance' ELSE u.username END))
                 AS c(consumer)""",
        # One bet per 10 products, half of them due.
        f"""INSERT INTO bets_valuebet (hypothesis, data_product_id, goal_id, expected_value, expected_cost, opens_on,
                review_on, status, realised_value, realised_cost, settled_on, created_by_id, created_at)
            SELECT 'Bet on ' || p.name, p.id, (SELECT min(id) FROM catalog_businessgoal), 50000, 20000,
                   DATE '{FIRST_WEEK}', DATE '{FIRST_WEEK}' + CASE WHEN p.id % 20 = 0 THEN 300 ELSE 900 END,
                   'open', NULL, NULL, NULL, NULL, now()
            FROM catalog_dataproduct p WHERE p.id % 10 = 0""",
        "VACUUM ANALYZE",
        f"COMMENT ON DATABASE \"{connection.settings_dict['NAME']}\" IS '{size_tag}'",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def timed(function, repeat: int, setup=None) -> tuple[float, object]:
    """The best wall time of `repeat` calls of `function` (after an untimed `setup` each) and its last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def forget_evaluations(as_of: date) -> None:
    """Delete the evaluations of `as_of` and vacuum their table (untimed, before a timed run evaluates it).

    The daily job never deletes evaluations; the bench deletes 10,000 before each of its runs, and
    their dead rows and index entries slowed the next upserts by half once a few runs had left them.
    It also vacuums the runs' shared figures (each run writes and deletes a row per product), which
    autovacuum does on a server where it runs: on one where it is off, 150 runs had left 1.5 million
    dead rows there, and the sweep of stale figures at each run's start took 43 ms instead of 1.
    """
    from django.db import connection

    from apps.valuation.models import Evaluation
    from apps.valuation.services.gather import RUN_FIGURES_TABLE

    Evaluation.objects.filter(as_of=as_of).delete()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute(f"VACUUM {Evaluation._meta.db_table}")
        cursor.execute(f"VACUUM {RUN_FIGURES_TABLE}")


def analyze_tables() -> None:
    """Statistics for the rows the warm-up wrote (evaluations, alerts), untimed.

    What autovacuum does after a daily run on a server where it runs (the default); this one may
    run with it off, and the planner would then plan the alert pass for tables it thinks empty.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def sql_floor(as_of: date, window_days: int) -> None:
    """The bare aggregates over the same raw rows, tuned like the evaluation."""
    from django.db import connection, transaction

    from apps.valuation.services.locks import evaluation_session_tune

    since = as_of - timedelta(days=window_days)
    with transaction.atomic(), connection.cursor() as cursor:
        evaluation_session_tune()
        cursor.execute(
            "SELECT kpi_id, count(*), sum(value) FROM kpis_measurement "
            "WHERE is_current AND period_start >= %s AND period_start < %s GROUP BY kpi_id",
            [since, as_of],
        )
        cursor.fetchall()
        cursor.execute(
            "SELECT data_product_id, sum(amount) FROM costs_costentry "
            "WHERE period_start >= %s AND period_start < %s GROUP BY data_product_id",
            [since, as_of],
        )
        cursor.fetchall()
        cursor.execute("SELECT data_product_id, kpi_id, weight FROM kpis_attribution")
        cursor.fetchall()
        cursor.execute(
            "SELECT data_product_id, sum(count) FROM usage_usagerecord WHERE day >= %s AND day < %s "
            "GROUP BY data_product_id",
            [as_of - timedelta(days=90), as_of],
        )
        cursor.fetchall()


def main() -> None:
    args = parse_args()
    args.server = server_url(args.database_url or "postgres://postgres@127.0.0.1:5432")
    size_tag = f"meshvalue bench v2 {args.products}/{args.kpis}/{args.weeks}/{args.revisions}"
    load_started = time.perf_counter()
    kept = recreate_database(args, size_tag)
    setup_django(args)
    if not kept:
        build_portfolio(args, size_tag)
    else:  # a portfolio kept from an older version of the schema
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    load_s = time.perf_counter() - load_started

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.kpis.models import Measurement
    from apps.valuation.models import Evaluation
    from apps.valuation.selectors import policies_by_domain
    from apps.valuation.services import portfolio_chunk_evaluate, portfolio_evaluate
    from apps.valuation.services.rollup import monthly_rollup_refresh

    as_of = FIRST_WEEK + timedelta(days=7 * args.weeks)
    window_days = policies_by_domain()[0].window_days
    measurements = Measurement.objects.count()

    # Warm up: the day before (this also opens the alerts, as the previous daily run would have).
    # Dates evaluated by an earlier run of the bench are forgotten first. The rollup and the KPIs'
    # running totals take in the new portfolio first, as a daily run does when it begins (timed in
    # the runs below, not in evaluate_s).
    monthly_rollup_refresh()
    Evaluation.objects.filter(as_of__gte=as_of - timedelta(days=1)).delete()
    portfolio_chunk_evaluate(as_of=as_of - timedelta(days=1))
    analyze_tables()

    def evaluate_new_date():
        with CaptureQueriesContext(connection) as queries:
            summary = portfolio_chunk_evaluate(as_of=as_of)
        return summary, len(queries.captured_queries)

    # The two sides alternate, so that both see the same load on a shared machine.
    floor_s = evaluate_s = float("inf")
    for _ in range(args.repeat):
        floor_s = min(floor_s, timed(lambda: sql_floor(as_of, window_days), 1)[0])
        # Untimed: each timed run evaluates the date for the first time, as the daily job does.
        forget_evaluations(as_of)
        seconds, (summary, queries) = timed(evaluate_new_date, 1)
        evaluate_s = min(evaluate_s, seconds)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def one_pass_run() -> float:
        """The same work as a run, in one pass and one process: the rollup refresh, the evaluation
        and the readiness part (a run in chunks does all three; evaluate_s is the evaluation only)."""
        forget_evaluations(as_of)
        return timed(lambda: portfolio_evaluate(as_of=as_of, chunk_size=2**40), 1)[0]

    chunked = chunked_runs(args, as_of, one_pass_run) if args.broker_url else {"chunked": "skipped: no --broker-url"}
    if "chunked_1_worker_s" in chunked:
        chunked["one_worker_vs_one_pass"] = round(chunked["chunked_1_worker_s"] / evaluate_s, 2)
    if args.drop:
        drop_database(args)
    print(
        json.dumps(
            {
                "products": summary.products_evaluated,
                "measurements": measurements,
                "evaluate_s": round(evaluate_s, 3),
                "sql_floor_s": round(floor_s, 3),
                "ratio": round(evaluate_s / floor_s, 2),
                "queries": queries,
                "peak_rss_mb": round(peak_rss_mb, 1),
                "kpis": args.kpis,
                "recommendations": summary.recommendations,
                "load_s": round(load_s, 1),
                **chunked,
            }
        )
    )


def chunked_runs(args: argparse.Namespace, as_of: date, one_pass_run: Callable[[], float]) -> dict:
    """Time evaluation runs of `as_of` in chunks on one and on two real Celery workers, and `one_pass_run`.

    Each timed run starts like the daily job (a run queued on the broker) and ends when the run
    is recorded as succeeded; the workers are started and ready before the clock starts. The three
    kinds of run take turns, `--repeat` rounds of one each (the best of each is reported), so that
    all three see the same load: on a shared machine whose speed drifts over minutes, timing each
    kind in a block of its own moved the ratios by a fifth between runs of the bench. The second
    worker stops consuming (Celery's `cancel_consumer`) for the runs on one. Also gives the ratios
    the issue asks for: two workers against one, one worker against the one-pass run.
    """
    import subprocess

    from django.db import connections

    from apps.valuation.models import EvaluationRun, RunStatus
    from apps.valuation.services import evaluation_run_start
    from config.celery_app import app

    app.conf.update(broker_url=args.broker_url, result_backend=None, broker_transport_options={})
    # The one-pass runs above queued their notifications on the in-memory broker: drop those
    # connections, or the pools would keep publishing (and pinging) there.
    app._pool = None
    app.amqp._producer_pool = None
    queues = ["evaluations", "notifications"]

    def purge() -> None:
        with app.connection_for_write() as connection:
            for queue in queues:
                connection.default_channel.queue_purge(queue)

    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": args.broker_url,
        "CONN_MAX_AGE": "60",
        "MESHVALUE_EVALUATION_CHUNK_SIZE": str(args.chunk_size),
    }

    logs = Path(tempfile.gettempdir())

    def start_worker(name: str) -> subprocess.Popen:
        log = open(logs / f"meshvalue-bench-{name}.log", "wb")  # noqa: SIM115 (the worker keeps it open)
        return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "evaluations"),
                *("--without-mingle", "--without-gossip", "--loglevel=WARNING", f"--hostname={name}@bench"),
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(names: list[str]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            answered = {next(iter(reply)) for reply in app.control.ping(timeout=0.5) or []}
            if all(f"{name}@bench" in answered for name in names):
                return
        raise SystemExit(
            f"bench: the Celery workers {names} did not answer within 60 s (logs: {logs}/meshvalue-bench-*.log)"
        )

    def one_run() -> float:
        """Seconds from the run's row being created (then queued) to its last part recorded, by the run's
        own timestamps: `created_at` from this process, `finished_at` from the worker that recorded
        the last part, both on this host's clock (the bench starts its workers here).

        Timed by the run's row rather than by a client that polls: polling every 10 ms took CPU
        from the run on a 2-core machine (0.05-0.1 s of a 1.4 s run), and a slower poll would
        round the figure up to its interval.
        """
        forget_evaluations(as_of)
        connections.close_all()
        run = evaluation_run_start(as_of=as_of, trigger="command")
        deadline = time.perf_counter() + 600
        while time.perf_counter() < deadline:
            time.sleep(0.2)
            status, created_at, finished_at = (
                EvaluationRun.objects.filter(pk=run.pk).values_list("status", "created_at", "finished_at").get()
            )
            if status == RunStatus.SUCCEEDED:
                return (finished_at - created_at).total_seconds()
            if status == RunStatus.FAILED:
                raise SystemExit(f"bench: chunked run {run.pk} failed: {EvaluationRun.objects.get(pk=run.pk).error}")
        raise SystemExit(f"bench: chunked run {run.pk} did not finish within 600 s")

    def second_worker_consumes(consumes: bool) -> None:
        control = app.control.add_consumer if consumes else app.control.cancel_consumer
        replies = control("evaluations", destination=["bench2@bench"], reply=True, timeout=10)
        if not replies:
            raise SystemExit(f"bench: the second Celery worker did not answer (logs: {logs}/meshvalue-bench-*.log)")

    purge()
    workers: list[subprocess.Popen] = []
    best = {"chunked_1_worker_s": float("inf"), "chunked_2_workers_s": float("inf"), "one_pass_run_s": float("inf")}
    try:
        workers = [start_worker("bench1"), start_worker("bench2")]
        wait_ready(["bench1", "bench2"])
        one_run()  # untimed: the workers' first runs warm their connections and imports
        one_run()
        for _ in range(args.repeat):
            second_worker_consumes(False)
            best["chunked_1_worker_s"] = min(best["chunked_1_worker_s"], one_run())
            second_worker_consumes(True)
            best["chunked_2_workers_s"] = min(best["chunked_2_workers_s"], one_run())
            best["one_pass_run_s"] = min(best["one_pass_run_s"], one_pass_run())
    finally:
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=30)
        purge()
    # A run's parts are its chunks of products and the readiness part.
    parts = EvaluationRun.objects.order_by("-pk").values_list("chunks_total", flat=True).first() or 0
    figures: dict[str, object] = {name: round(seconds, 3) for name, seconds in best.items()}
    figures["chunks"] = max(parts - 1, 0)
    figures["two_workers_vs_one"] = round(best["chunked_2_workers_s"] / best["chunked_1_worker_s"], 2)
    figures["one_worker_vs_one_pass_run"] = round(best["chunked_1_worker_s"] / best["one_pass_run_s"], 2)
    return figures


def drop_database(args: argparse.Namespace) -> None:
    """Drop the bench's own database (it carries the bench's mark: `recreate_database` checked it)."""
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        comment = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if comment and (comment[0] or "").startswith(BENCH_MARK):
            admin.execute(f'DROP DATABASE "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
