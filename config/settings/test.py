"""Test settings: real PostgreSQL and Redis wherever they are reachable.

`DATABASE_URL` and `REDIS_URL` point the suite at the services (`.ci/run` sets both).
Without `DATABASE_URL`, a PostgreSQL on 127.0.0.1:5432 is used when one answers;
otherwise the suite falls back to SQLite and the tests that need PostgreSQL are skipped
(tests/conftest.py makes that a failure when `CI=true`). Likewise without `REDIS_URL`, a
Redis on 127.0.0.1:6379 when one answers, else none.
"""

import os
import socket

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("EMAIL_URL", "memorymail://")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _reachable("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/meshvalue"
# The suite runs on Redis, a local one when one answers. Without it (a fresh machine), the cache is
# the database's table and the broker the embedded one, as in the demo; the tests that need
# Redis are skipped (failed when CI=true). An empty REDIS_URL means no Redis, reachable or not.
if "REDIS_URL" not in os.environ and _reachable("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"

from .base import *  # noqa: E402,F403
from .base import STORAGES  # noqa: E402

ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# whitenoise's manifest storage needs collectstatic; plain storage keeps tests independent of it.
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Throttling stays on but generous so the suite does not trip it by accident.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"token": "1000/minute"}  # noqa: F405
# Tests run tasks by calling them or through a real worker; never eager for the whole suite.
CELERY_TASK_ALWAYS_EAGER = False
# Tests deliver webhooks to receivers on loopback; production refuses such targets.
WEBHOOK_ALLOW_PRIVATE_TARGETS = True
