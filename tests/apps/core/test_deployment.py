"""Production settings, the deploy checks, and docker-compose kept in step with the settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import Group

ROOT = Path(__file__).resolve().parents[3]


def _run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Only what production would have: the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for themselves.
    dropped = {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_its_secrets():
    result = _run_manage("check", DJANGO_SETTINGS_MODULE="config.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY, DATABASE_URL, ALLOWED_HOSTS" in result.stderr


def test_production_passes_the_deploy_checks():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="a-long-random-production-secret-" + "x" * 40,
        DATABASE_URL="sqlite:////tmp/meshvalue-deploy-check.sqlite3",
        ALLOWED_HOSTS="meshvalue.example.com",
        # Production requires it; `check` never connects (the suite may run without Redis).
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_runs_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    workers = {"worker", "worker-evaluations", "worker-imports", "worker-notifications"}
    assert set(services) == {"postgres", "redis", "web", "beat", *workers}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "noeviction" in services["redis"]["command"]
    assert "gunicorn" in services["web"]["command"] and "migrate" in services["web"]["command"]
    for name in workers:
        assert services[name]["command"][:4] == ["celery", "-A", "config", "worker"], name
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("postgres", "redis", "web", *workers):
        assert "healthcheck" in services[name], name
    for name in ("web", "beat", *workers):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:6379")
    assert "postgres-data" in compose["volumes"]


def _consumed_queues(command: list[str]) -> set[str]:
    """The queues a `celery worker` command line consumes (-Q/--queues; none given: every configured queue)."""
    for index, word in enumerate(command):
        if word in ("-Q", "--queues"):
            return set(command[index + 1].split(","))
        if word.startswith("--queues="):
            return set(word.removeprefix("--queues=").split(","))
    return {queue.name for queue in settings.CELERY_TASK_QUEUES}


def test_every_routed_queue_has_a_worker_in_docker_compose():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    consumed = set()
    for service in compose["services"].values():
        command = service.get("command")
        if isinstance(command, list) and command[:4] == ["celery", "-A", "config", "worker"]:
            consumed |= _consumed_queues(command)
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed
    assert consumed <= {queue.name for queue in settings.CELERY_TASK_QUEUES}  # no worker waits on a typo


def test_makefile_worker_consumes_every_queue():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nworker:", 1)[1].split("\n\n", 1)[0]
    command = recipe.strip().splitlines()[-1].split()
    assert _consumed_queues(command) == {queue.name for queue in settings.CELERY_TASK_QUEUES}


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("apps.valuation.tasks.evaluation_run_execute", "evaluations"),
        ("apps.valuation.tasks.evaluation_chunk_evaluate", "evaluations"),
        ("apps.valuation.tasks.portfolio_evaluate_scheduled", "evaluations"),
        ("apps.notifications.tasks.delivery_send", "notifications"),
        ("apps.notifications.tasks.deliveries_sweep", "notifications"),
        # Tasks of apps still being built land in their queue as soon as they exist.
        ("apps.costs.tasks.cost_import_run", "imports"),
        ("apps.kpis.tasks.pull_kpis_scheduled", "imports"),
        ("apps.kpis.tasks.pull_kpi", "imports"),
        ("apps.sources.tasks.source_query_run", "imports"),
        ("apps.kpis.tasks.something_else", "default"),
        ("apps.bets.tasks.bets_settle_due_scheduled", "default"),
    ],
)
def test_tasks_are_routed_to_their_queue(task_name, queue):
    from config.celery_app import app

    assert app.amqp.router.route({}, task_name)["queue"].name == queue


def test_every_registered_task_goes_to_a_configured_queue():
    from config.celery_app import app

    app.loader.import_default_modules()
    configured = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    for name in app.tasks:
        if name.startswith("apps."):
            assert app.amqp.router.route({}, name)["queue"].name in configured, name


def test_env_example_lists_every_variable_the_settings_read():
    import re

    settings_source = "".join(p.read_text() for p in (ROOT / "config" / "settings").glob("*.py"))
    read = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_source))
    read |= set(re.findall(r'_crontab_from_env\(\s*"([A-Z_]+)"', settings_source))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert read - listed == set()


def test_role_groups_exist(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"executive", "product_owner", "governance_lead"}


def test_production_refuses_a_short_secret_key():
    result = _run_manage(
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="too-short-" + "x" * 30,
        DATABASE_URL="sqlite:////tmp/meshvalue-deploy-check.sqlite3",
        ALLOWED_HOSTS="meshvalue.example.com",
        # Production requires it; `check` never connects (the suite may run without Redis).
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr
