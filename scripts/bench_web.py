"""Time the web pages and the API under gunicorn, on the bench portfolio against the demo.

    .venv/bin/python scripts/bench_web.py [--products 10000] [--seconds 5] [--reuse] [--drop]

Two portfolios, each in a PostgreSQL database of its own on the server of `--database-url`
(default: `DATABASE_URL`):

- the bench portfolio (`--database`, default `meshvalue_bench_web`), built by `scripts/bench.py`
  (`--products N`, twice as many KPIs; `--reuse` keeps one of the same size);
- the demo portfolio (`--demo-database`, default `meshvalue_bench_web_demo`): `migrate`, `seed_demo`
  and `demo_history`, as `make demo` loads it.

Both carry a COMMENT saying the bench made them; a database without it is never dropped (the script
refuses and stops). For each portfolio it creates a user with the executive and governance-lead
roles, measures once per page and endpoint the queries it costs (Django's test client with
CaptureQueriesContext against the same database, in a child process), then starts gunicorn
(`config.wsgi`, `--workers`, a free port; no Redis, so no broker but the embedded one in a
temporary folder: a GET publishes nothing anyway), signs in (a session for pages, a token for the
API) and times every page and endpoint with one client, then with `--clients` (8) concurrent
clients, each for `--seconds` or `--requests`, whichever ends first.

It prints one JSON line per page or endpoint: the bench's p50 and p95 with 1 and 8 clients,
queries, bytes, the demo's p95 with 1 and 8 clients, the ratios bench/demo and, for API endpoints,
`floor_ratio_8`: the p95 at 8 clients over the API root's in the same run (the floor: token,
roles, a rendered answer, no data).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.bench import BENCH_MARK, server_url  # noqa: E402  (after the path is set)

DEMO_MARK = f"{BENCH_MARK} web demo"
# A page whose first request takes this long is timed once, without the loaded run (seconds).
SLOW_S = 5.0
REQUEST_TIMEOUT_S = 600
USERNAME = "bench-web"
PASSWORD = "bench-web-password"  # noqa: S105  (a throwaway user of the bench's own databases)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL URL naming the server to use (its database part is ignored; default: DATABASE_URL)",
    )
    parser.add_argument("--database", default="meshvalue_bench_web", help="the bench portfolio's database")
    parser.add_argument("--demo-database", default="meshvalue_bench_web_demo", help="the demo portfolio's database")
    parser.add_argument("--products", type=int, default=10_000, help="bench portfolio size (KPIs: twice as many)")
    parser.add_argument("--weeks", type=int, default=104, help="weekly measurements per KPI in the bench portfolio")
    parser.add_argument("--reuse", action="store_true", help="keep both databases if they hold the same portfolios")
    parser.add_argument("--drop", action="store_true", help="drop both databases at the end (the tests do)")
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per client, page and run")
    parser.add_argument("--requests", type=int, default=300, help="at most this many requests per client and run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the loaded run")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    # Internal: the child process that prepares one database (user, token, paths, query counts).
    parser.add_argument("--prepare", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the databases ------------------------------------------------------------------------------


def database_comment(server: str, name: str) -> str | None:
    """The database's comment ('' when it has none), or None when there is no such database."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
    return None if row is None else (row[0] or "")


def refuse_unless_ours(server: str, name: str) -> str | None:
    """The comment of `name` if the bench made it (None if absent); stop if someone else's database."""
    comment = database_comment(server, name)
    if comment is not None and not comment.startswith(BENCH_MARK):
        raise SystemExit(
            f"bench_web: database {name!r} exists and was not created by the bench; refusing to drop it"
            " (choose another --database or --demo-database)"
        )
    return comment


def child_environment(server: str, database: str) -> dict[str, str]:
    """The environment of a process of the app against `database`: no Redis, no broker, no warehouse."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "MESHVALUE_SOURCE_DEMO_WAREHOUSE_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(
        DATABASE_URL=f"{server}/{database}",
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DEBUG="false",
        SECRET_KEY=environment.get("SECRET_KEY") or "bench-web-" + "x" * 50,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        CELERY_EMBEDDED_FOLDER=str(Path(tempfile.gettempdir()) / f"meshvalue-bench-web-{database}"),
        # Connections are kept, as in production: the figures should not time a connect per request.
        CONN_MAX_AGE="60",
    )
    return environment


def manage(server: str, database: str, *arguments: str) -> None:
    subprocess.run(  # noqa: S603 - fixed commands
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=child_environment(server, database),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def build_bench(args: argparse.Namespace) -> None:
    """The bench portfolio, by scripts/bench.py (which marks, reuses or rebuilds its database)."""
    refuse_unless_ours(args.server, args.database)
    command = [
        sys.executable,
        "scripts/bench.py",
        "--database-url",
        args.server,
        "--database",
        args.database,
        "--products",
        str(args.products),
        "--kpis",
        str(2 * args.products),
        "--weeks",
        str(args.weeks),
        "--repeat",
        "1",
    ]
    if args.reuse:
        command.append("--reuse")
    environment = child_environment(args.server, args.database)
    subprocess.run(command, cwd=ROOT, env=environment, check=True, stdout=sys.stderr)  # noqa: S603 - fixed commands
    manage(args.server, args.database, "migrate", "--noinput")  # a reused database may predate a migration
    manage(args.server, args.database, "rollup_refresh")  # the monthly charts' rollup, before any page


def build_demo(args: argparse.Namespace) -> None:
    """The demo portfolio in a database of its own, marked as the bench's."""
    import psycopg

    today = time.strftime("%Y-%m-%d")
    tag = f"{DEMO_MARK} {today}"
    comment = refuse_unless_ours(args.server, args.demo_database)
    if comment == tag and args.reuse:
        manage(args.server, args.demo_database, "migrate", "--noinput")
        return
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        if comment is not None:
            admin.execute(f'DROP DATABASE "{args.demo_database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{args.demo_database}"')
        # Marked at once, so that a run interrupted while loading can still drop it next time.
        admin.execute(f"COMMENT ON DATABASE \"{args.demo_database}\" IS '{DEMO_MARK} (loading)'")
    manage(args.server, args.demo_database, "migrate", "--noinput")
    manage(args.server, args.demo_database, "seed_demo")
    manage(args.server, args.demo_database, "demo_history")
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f"COMMENT ON DATABASE \"{args.demo_database}\" IS '{tag}'")


def vacuum_analyze(server: str, name: str) -> None:
    """What autovacuum does on a server where it runs (the default), before any page is timed.

    Building leaves tables without statistics for their new rows (the evaluations of the last
    dates, the rollup's taken marks), and on a server with autovacuum off the planner then
    chose a nested loop over 10,000 evaluations for a page of 25 (60 ms instead of 1 ms).
    """
    import psycopg

    refuse_unless_ours(server, name)
    with psycopg.connect(f"{server}/{name}", autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def drop_database(server: str, name: str) -> None:
    """Drop `name` if it carries the bench's mark (never otherwise)."""
    import psycopg

    comment = database_comment(server, name)
    if comment is not None and comment.startswith(BENCH_MARK):
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


# --- the child: user, paths and queries of one database -------------------------------------------


def prepare(database_url: str) -> dict[str, Any]:
    """In a process of its own against one database: the user, its token, the paths and their queries."""
    import django

    django.setup()
    from config.celery_app import app

    app.conf.update(broker_url="memory://", result_backend="cache+memory://", broker_transport_options={})

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from apps.accounts.models import User
    from apps.catalog.models import BusinessGoal, DataProduct
    from apps.core.roles import Role
    from apps.valuation.models import DomainReadiness
    from apps.valuation.selectors import evaluation_latest_date
    from apps.valuation.services import readiness_record

    user, _ = User.objects.get_or_create(username=USERNAME, defaults={"email": f"{USERNAME}@example.com"})
    user.set_password(PASSWORD)
    user.save()
    user.groups.set(Group.objects.filter(name__in=[Role.EXECUTIVE, Role.GOVERNANCE_LEAD]))
    token, _ = Token.objects.get_or_create(user=user)

    # The product and goal with the most KPIs behind them: the heaviest pages of their kind.
    product = DataProduct.objects.filter(lifecycle="active").order_by("id").first()
    goal = BusinessGoal.objects.order_by("id").first()
    latest = evaluation_latest_date()
    if latest is not None and not DomainReadiness.objects.filter(as_of=latest).exists():
        # What the daily run stores beside its evaluations (scripts/bench.py evaluates without a run).
        readiness_record(as_of=latest)
    pages = [
        "/",
        "/inbox/",
        f"/products/{product.slug}/",
        f"/goals/{goal.slug}/",
        "/inbox/decisions/",
        "/decision-loop/",
        "/readiness/",
        # The all-products tables, sorted, filtered and paged by the server, and the map's data
        # (every product by design: it grows with the portfolio, compact columns of numbers).
        "/?sort=-value&recommendation=retire&page=2",
        "/products/?recommendation=retire&page=2",
        "/portfolio/map.json",
    ]
    api = [
        "/api/v1/",
        "/api/v1/data-products/?page_size=50",
        f"/api/v1/evaluations/?as_of={latest}",
        "/api/v1/portfolio/summary/",
        "/api/v1/domains/",
        "/api/v1/goals/",
        "/api/v1/kpis/",
        "/api/v1/measurements/",
        "/api/v1/costs/",
        "/api/v1/bets/",
        "/api/v1/usage/",
        "/api/v1/evaluation-runs/",
        "/api/v1/policies/",
        "/api/v1/alerts/",
        "/api/v1/decisions/",
        "/api/v1/users/",
        "/api/v1/portfolio/decision-loop/",
        "/api/v1/portfolio/readiness/",
    ]
    browser = Client()
    browser.force_login(user)
    api_client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    queries: dict[str, int] = {}
    for path in pages + api:
        client = api_client if path.startswith("/api/") else browser
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if time.perf_counter() - began < SLOW_S:
            # Counted again warm: the first request of a process fills caches the others reuse.
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"bench_web: {path} answered {response.status_code} in {database_url}")
        queries[path] = len(captured)
    return {"token": token.key, "pages": pages, "api": api, "queries": queries}


def prepared(server: str, database: str) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - fixed commands
        [sys.executable, __file__, "--prepare", database],
        cwd=ROOT,
        env=child_environment(server, database),
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- gunicorn and the load -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str


def start_gunicorn(server: str, database: str, workers: int) -> Server:
    import requests

    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed commands
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "config.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            # A slow page under 8 clients may take longer than gunicorn's default 30 s: time it, don't kill it.
            "--timeout",
            "600",
        ],
        cwd=ROOT,
        env=child_environment(server, database),
    )
    started = Server(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"bench_web: gunicorn exited with {process.returncode}")
            try:
                if requests.get(f"{started.base_url}/healthz", timeout=10).status_code < 500:
                    return started
            except requests.RequestException:  # not listening yet, or no worker booted yet
                pass
            time.sleep(0.2)
        raise SystemExit("bench_web: gunicorn did not answer within 120 s")
    except BaseException:
        stop_gunicorn(started)
        raise


def stop_gunicorn(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def signed_in(base_url: str) -> Any:
    """A requests session signed in through the login form, as a browser would."""
    import requests

    session = requests.Session()
    session.get(f"{base_url}/accounts/login/", timeout=30)
    response = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": USERNAME,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""),
        },
        headers={"Referer": f"{base_url}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if response.status_code != 302 or "sessionid" not in session.cookies:
        raise SystemExit(f"bench_web: signing in failed ({response.status_code})")
    return session


def warm_workers(base_url: str, token: str, workers: int) -> None:
    """A few concurrent requests per worker, so that each has loaded its URLconf, connection and caches."""
    import requests

    def warm() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Token {token}"
            for _ in range(5):
                session.get(f"{base_url}/api/v1/", timeout=REQUEST_TIMEOUT_S).raise_for_status()

    threads = [threading.Thread(target=warm) for _ in range(2 * workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@dataclass
class Timings:
    seconds: list[float] = field(default_factory=list)
    bytes: int = 0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.seconds)
        if len(ordered) == 1:
            return round(ordered[0] * 1000, 1)
        # The nearest-rank percentile: the smallest time at least `fraction` of the requests took.
        rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
        return round(ordered[rank - 1] * 1000, 1)

    def median_ms(self) -> float:
        return round(statistics.median(self.seconds) * 1000, 1)


def load(make_session, url: str, clients: int, seconds: float, requests_per_client: int) -> Timings:
    """`clients` threads, each with its own session, requesting `url` for `seconds` or `requests_per_client`.

    Untimed warm-up: the caller's run with one client (and `warm_workers` at start) warmed the workers.
    """
    timings = Timings()
    lock = threading.Lock()
    sessions = [make_session() for _ in range(clients)]
    start = threading.Barrier(clients)

    def client(session) -> None:
        mine: list[float] = []
        size = 0
        start.wait()
        deadline = time.perf_counter() + seconds
        while len(mine) < requests_per_client and time.perf_counter() < deadline:
            began = time.perf_counter()
            response = session.get(url, timeout=REQUEST_TIMEOUT_S)
            mine.append(time.perf_counter() - began)
            response.raise_for_status()
            size = len(response.content)
        with lock:
            timings.seconds.extend(mine)
            timings.bytes = size

    threads = [threading.Thread(target=client, args=(session,)) for session in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return timings


def measure(args: argparse.Namespace, database: str) -> dict[str, dict[str, Any]]:
    """Every page and endpoint of one portfolio: p50 and p95 with 1 and `--clients` clients, queries, bytes."""
    import requests

    plan = prepared(args.server, database)
    server = start_gunicorn(args.server, database, args.workers)
    figures: dict[str, dict[str, Any]] = {}
    try:
        warm_workers(server.base_url, plan["token"], args.workers)
        login = signed_in(server.base_url)
        cookies = login.cookies.get_dict()

        def browser():
            session = requests.Session()
            session.cookies.update(cookies)
            return session

        def api_client():
            session = requests.Session()
            session.headers["Authorization"] = f"Token {plan['token']}"
            return session

        for path in plan["pages"] + plan["api"]:
            make_session = api_client if path.startswith("/api/") else browser
            url = f"{server.base_url}{path}"
            print(f"bench_web: {database} {path}", file=sys.stderr, flush=True)
            began = time.perf_counter()
            first = make_session().get(url, timeout=REQUEST_TIMEOUT_S)
            first.raise_for_status()
            first_s = time.perf_counter() - began
            if first_s >= SLOW_S:
                # A page this slow is timed once, and not under load: 8 clients would take minutes each
                # and say nothing more than that it is slow.
                alone, loaded = Timings([first_s], len(first.content)), None
            else:
                alone = load(make_session, url, 1, args.seconds, args.requests)
                loaded = load(make_session, url, args.clients, args.seconds, args.requests)
            figures[label(path)] = {
                "p50_ms_1": alone.median_ms(),
                "p95_ms_1": alone.percentile_ms(0.95),
                "p50_ms_8": loaded.median_ms() if loaded else None,
                "p95_ms_8": loaded.percentile_ms(0.95) if loaded else None,
                "queries": plan["queries"][path],
                "bytes": alone.bytes,
                "api": path.startswith("/api/"),
            }
    finally:
        stop_gunicorn(server)
    return figures


def label(path: str) -> str:
    """A path without its portfolio-specific parts (the product, goal and date differ between the two)."""
    if path.startswith("/products/") and not path.startswith("/products/?"):
        return "/products/<slug>/"
    if path.startswith("/goals/"):
        return "/goals/<slug>/"
    if path.startswith("/api/v1/evaluations/?as_of="):
        return "/api/v1/evaluations/?as_of=<latest>"
    return path


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator to 2 places; None when either was not measured (a page timed once)."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def main() -> None:
    args = parse_args()
    if args.prepare:
        print(json.dumps(prepare(args.prepare)))
        return
    args.server = server_url(args.database_url or "postgres://postgres@127.0.0.1:5432")
    for name in (args.database, args.demo_database):  # before anything is built
        refuse_unless_ours(args.server, name)
    build_bench(args)
    build_demo(args)
    # DEBUG is off, as in production: pages need the hashed static files (git-ignored staticfiles/).
    manage(args.server, args.database, "collectstatic", "--noinput")
    for name in (args.database, args.demo_database):
        vacuum_analyze(args.server, name)
    try:
        bench = measure(args, args.database)
        demo = measure(args, args.demo_database)
    finally:
        if args.drop:
            drop_database(args.server, args.database)
            drop_database(args.server, args.demo_database)
    floor_8, demo_floor_8 = bench["/api/v1/"]["p95_ms_8"], demo["/api/v1/"]["p95_ms_8"]
    for page, figures in bench.items():
        baseline = demo[page]

        line = {
            "page": page,
            **{key: figures[key] for key in ("p50_ms_1", "p95_ms_1", "p50_ms_8", "p95_ms_8", "queries", "bytes")},
            "demo_p95_ms_1": baseline["p95_ms_1"],
            "demo_p95_ms_8": baseline["p95_ms_8"],
            "demo_queries": baseline["queries"],
            "ratio_1": ratio(figures["p95_ms_1"], baseline["p95_ms_1"]),
            "ratio_8": ratio(figures["p95_ms_8"], baseline["p95_ms_8"]),
        }
        if figures["api"]:
            line["floor_ratio_8"] = ratio(figures["p95_ms_8"], floor_8)
            line["demo_floor_ratio_8"] = ratio(baseline["p95_ms_8"], demo_floor_8)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
