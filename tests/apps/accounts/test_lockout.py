"""Login lockout (django-axes): the web login, the admin and the token endpoint lock a username and
address after AXES_FAILURE_LIMIT wrong passwords; an admin unlocks; every failure and lockout is logged
without the password; a made-up X-Forwarded-For does not escape the count (NUM_PROXIES=0)."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from apps.accounts.lockout import client_ip_address
from tests import factories

PASSWORD = "correct-horse-battery-staple"
WRONG = "wrong-password-0123"
LIMIT = 10  # the default of AXES_FAILURE_LIMIT


@pytest.fixture
def member(db):
    user = factories.UserFactory(username="mallory-target")
    user.set_password(PASSWORD)
    user.save()
    return user


def _web_login(client: Client, password: str, **headers: str):
    return client.post("/accounts/login/", {"username": "mallory-target", "password": password}, headers=headers)


def _token(client: APIClient, password: str, **headers: str):
    return client.post(
        "/api/v1/auth/token/", {"username": "mallory-target", "password": password}, format="json", headers=headers
    )


def test_thirty_wrong_passwords_lock_the_web_login(member):
    client = Client()
    statuses = [_web_login(client, WRONG).status_code for _ in range(30)]

    # The first failures redisplay the form; from the limit on the answer is the lockout page.
    assert statuses[: LIMIT - 1] == [200] * (LIMIT - 1)
    assert set(statuses[LIMIT:]) == {429}
    right = _web_login(client, PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    page = right.content.decode()
    assert "Login locked" in page and 'href="/accounts/login/"' in page  # says what happened, and a way back
    assert "administrator" in page
    assert right["Retry-After"] == str(30 * 60)


def test_the_lockout_is_per_username_and_address(member):
    client = Client()
    for _ in range(LIMIT):
        _web_login(client, WRONG)
    assert _web_login(client, PASSWORD).status_code == 429
    # The same user from another address is not locked out by someone else's guessing.
    elsewhere = Client(REMOTE_ADDR="192.0.2.50")
    response = _web_login(elsewhere, PASSWORD)
    assert response.status_code == 302
    assert elsewhere.session["_auth_user_id"] == str(member.pk)


def test_thirty_wrong_passwords_lock_the_token_endpoint(member):
    client = APIClient()
    statuses = [_token(client, WRONG).status_code for _ in range(30)]

    assert statuses[: LIMIT - 1] == [400] * (LIMIT - 1)
    assert set(statuses[LIMIT:]) == {429}
    right = _token(client, PASSWORD)
    assert right.status_code == 429
    assert right["Content-Type"] == "application/json"
    assert "token" not in right.json() and "locked" in right.json()["detail"]
    assert "Retry-After" in right


def test_a_made_up_forwarded_for_does_not_escape_the_lockout(member):
    client = APIClient()
    statuses = [_token(client, WRONG, X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(30)]
    assert set(statuses[LIMIT:]) == {429}
    assert _token(client, PASSWORD, X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"127.0.0.1"}

    web = Client()
    for n in range(30):
        _web_login(web, WRONG, X_FORWARDED_FOR=f"203.0.113.{n}")
    assert _web_login(web, PASSWORD, X_FORWARDED_FOR="198.51.100.8").status_code == 429


def test_the_admin_login_is_locked_too(member):
    client = Client()
    for _ in range(LIMIT):
        client.post("/admin/login/?next=/admin/", {"username": "mallory-target", "password": WRONG})
    response = client.post("/admin/login/?next=/admin/", {"username": "mallory-target", "password": PASSWORD})
    assert response.status_code == 429


def test_an_admin_unlocks_from_the_admin(member, admin_user):
    client = Client()
    for _ in range(LIMIT):
        _web_login(client, WRONG)
    assert _web_login(client, PASSWORD).status_code == 429
    attempt = AccessAttempt.objects.get(username="mallory-target")

    admin = Client(REMOTE_ADDR="192.0.2.10")
    admin.force_login(admin_user)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "mallory-target" in listing.content.decode()
    deleted = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302

    assert _web_login(client, PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(member.pk)


def test_failures_and_lockouts_are_logged_without_the_password(member, caplog):
    caplog.set_level(logging.INFO)
    client = APIClient()
    for _ in range(LIMIT + 1):
        _token(client, WRONG)
    web = Client(REMOTE_ADDR="192.0.2.99")
    for _ in range(LIMIT + 1):
        _web_login(web, WRONG)

    messages = [record.getMessage() for record in caplog.records]
    failures = [m for m in messages if "login failure" in m.lower()]
    lockouts = [m for m in messages if "locking out" in m.lower()]
    assert len(failures) >= 2 * LIMIT
    assert lockouts, messages
    assert all("mallory-target" in m for m in failures)
    assert any("127.0.0.1" in m for m in failures) and any("192.0.2.99" in m for m in failures)
    assert not [m for m in messages if WRONG in m or PASSWORD in m]


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_limit_comes_from_the_settings(member):
    client = Client()
    statuses = [_web_login(client, WRONG).status_code for _ in range(4)]
    assert statuses == [200, 200, 429, 429]


def test_a_right_password_resets_the_count(member):
    client = Client()
    for _ in range(LIMIT - 1):
        _web_login(client, WRONG)
    assert _web_login(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(LIMIT - 1):
        _web_login(client, WRONG)
    assert _web_login(client, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("num_proxies", "forwarded_for", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no trusted proxy: the header is the client's own word
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the entry the trusted proxy added
        (2, "198.51.100.1, 203.0.113.9", "198.51.100.1"),
        (1, None, "10.0.0.1"),
    ],
)
def test_the_client_address_trusts_only_the_configured_proxies(settings, num_proxies, forwarded_for, expected):
    settings.NUM_PROXIES = num_proxies
    headers = {"REMOTE_ADDR": "10.0.0.1"}
    if forwarded_for:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_ip_address(RequestFactory().get("/", **headers)) == expected
