import pytest
from django.test import override_settings


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(client, redis_url):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"] == {"ok": True}
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_healthz_reports_a_broker_that_is_down_without_failing(client):
    # Port 1 on loopback refuses connections: the broker is down, the app still answers.
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_EMBEDDED_BROKER=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"]["ok"] is False
    assert response.json()["status"] == "degraded"


def test_healthz_needs_no_login_and_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405
