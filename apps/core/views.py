"""Operational endpoints."""

from __future__ import annotations

import os

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_state() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"; report it, do not crash
        return {"ok": False, "engine": connection.vendor, "error": error.__class__.__name__}
    return {"ok": True, "engine": connection.vendor}


def _broker_state() -> dict:
    import redis

    if settings.CELERY_EMBEDDED_BROKER:
        # The demo's filesystem broker: up while its folder can be written.
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        return {"ok": os.access(folder, os.W_OK), "transport": "filesystem"}

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except Exception as error:  # reported, never fatal: the demo runs without Redis
        return {"ok": False, "error": error.__class__.__name__}
    finally:
        client.close()
    return {"ok": True}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The state of the database and the broker. 200 while the database answers, else 503."""
    database = _database_state()
    broker = _broker_state()
    status = "ok" if database["ok"] and broker["ok"] else ("degraded" if database["ok"] else "down")
    return JsonResponse(
        {"status": status, "database": database, "broker": broker},
        status=200 if database["ok"] else 503,
    )
