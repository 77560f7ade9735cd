"""The profile page where people turn e-mail off per alert kind."""

from __future__ import annotations

from django.urls import reverse

from apps.governance.models import AlertKind
from apps.notifications.models import NotificationPreference
from apps.notifications.selectors import email_preferences

URL = "/profile/notifications/"


def test_the_page_needs_a_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(URL, {"email_topics": ["retire"]}).status_code == 302
    assert not NotificationPreference.objects.exists()


def test_everything_is_on_until_turned_off(client, product_owner):
    client.force_login(product_owner)
    page = client.get(URL).content.decode()
    assert page.count("checked") == len(AlertKind.values) + 1  # every alert kind and the weekly digest
    assert "owner@example.com" in page

    response = client.post(URL, {"email_topics": ["invest", "review", "weekly_digest"]})
    assert response.status_code == 302
    assert email_preferences(user=product_owner) == {
        "retire": False,
        "invest": True,
        "review": True,
        "stale_kpi": False,
        "orphaned": False,
        "bet_due": False,
        "debt_due": False,
        "source_failing": False,
        "weekly_digest": True,
    }
    page = client.get(URL).content.decode()
    assert page.count("checked") == 3
    assert "Your notification settings are saved." in page


def test_an_unknown_topic_is_refused_and_nothing_changes(client, product_owner):
    client.force_login(product_owner)
    response = client.post(URL, {"email_topics": ["retire", "lottery"]})
    assert response.status_code == 400
    assert "lottery" in response.content.decode()
    assert not NotificationPreference.objects.exists()
