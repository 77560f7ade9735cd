"""The demo's secret key is generated once and shared by every process; the cache is shared too.

A fresh key per process logged users out on half their requests with two workers; a per-process
cache let each worker count throttled attempts on its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.SECRET_KEY); print(settings.CACHES['default']['BACKEND'])"
)


def _python(code: str, **env: str | None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "REDIS_URL"}}
    environment["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_without_secret_key_one_is_generated_once_and_reused(tmp_path):
    key_file = tmp_path / "secret"
    first = _python(PRINT_SETTINGS, SECRET_KEY_FILE=str(key_file))
    second = _python(PRINT_SETTINGS, SECRET_KEY_FILE=str(key_file))
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    key = first.stdout.splitlines()[0]
    assert len(key) >= 50
    assert second.stdout.splitlines()[0] == key  # a second worker uses the same key
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_a_secret_key_from_the_environment_wins_and_writes_no_file(tmp_path):
    key_file = tmp_path / "secret"
    result = _python(PRINT_SETTINGS, SECRET_KEY_FILE=str(key_file), SECRET_KEY="k" * 60)
    assert result.stdout.splitlines()[0] == "k" * 60
    assert not key_file.exists()


def test_the_default_key_file_is_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", ".secret_key"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "add .secret_key to .gitignore"


def test_the_cache_is_redis_with_redis_url_and_the_database_without(tmp_path):
    with_redis = _python(PRINT_SETTINGS, SECRET_KEY="k" * 60, REDIS_URL="redis://127.0.0.1:6379/9")
    assert with_redis.stdout.splitlines()[1] == "django.core.cache.backends.redis.RedisCache"
    without = _python(PRINT_SETTINGS, SECRET_KEY="k" * 60, REDIS_URL=None)
    assert without.stdout.splitlines()[1] == "django.core.cache.backends.db.DatabaseCache"


def test_migrate_creates_the_database_cache_table_of_the_demo(tmp_path):
    """`make demo` on SQLite without Redis: `migrate` alone makes the cache (and so throttles) work."""
    env = {
        "SECRET_KEY": "k" * 60,
        "REDIS_URL": None,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
    }
    migrate = _python(
        "import django, sys; sys.argv = ['manage.py', 'migrate', '--noinput', '-v0']; "
        "from django.core.management import execute_from_command_line; execute_from_command_line(sys.argv)",
        **env,
    )
    assert migrate.returncode == 0, migrate.stderr
    use = _python(
        "import django; django.setup(); from django.core.cache import cache; "
        "cache.set('probe', 42); print(cache.get('probe'))",
        **env,
    )
    assert use.returncode == 0, use.stderr
    assert use.stdout.strip() == "42"
