"""Production settings, the deploy checks, and docker-compose kept in step with the settings."""

import os
import subprocess
import sys
from pathlib import Path

import yaml
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
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_runs_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "noeviction" in services["redis"]["command"]
    assert "gunicorn" in services["web"]["command"] and "migrate" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:6379")
    assert "postgres-data" in compose["volumes"]


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
    )
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr
