"""Sign-in landing per role, navigation per role, and who may open which page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.apps.web.conftest import build_portfolio

PAGES = ["home", "workspace", "inbox", "decision_log"]


def _login(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/workspace/", "/inbox/", "/inbox/decisions/", "/products/some-product/", "/goals/some-goal/", "/start/"],
)
def test_every_page_requires_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "landing"),
    [("executive", "/"), ("product_owner", "/workspace/"), ("governance_lead", "/inbox/"), ("admin_user", "/")],
)
def test_signing_in_lands_on_the_workspace_of_the_role(client, request, fixture, landing):
    user = request.getfixturevalue(fixture)
    response = client.post(
        reverse("login"), {"username": user.username, "password": "correct horse battery staple"}, follow=True
    )
    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_next_parameter_wins_over_the_role_landing(client, executive):
    response = client.post(
        reverse("login") + "?next=/products/x/",
        {"username": "exec", "password": "correct horse battery staple", "next": "/products/x/"},
    )
    assert response["Location"] == "/products/x/"


@pytest.mark.django_db
def test_landing_ignores_an_offsite_next(client, executive):
    _login(client, executive)
    response = client.get("/start/?next=https://evil.example/")
    assert response["Location"] == "/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "shown", "hidden"),
    [
        ("executive", ["Portfolio", "Decisions", "Products"], ["My products", "Inbox", "Admin"]),
        ("product_owner", ["My products"], ["Portfolio", "Inbox", "Decisions", "Admin"]),
        ("governance_lead", ["Portfolio", "Inbox", "Decisions"], ["My products", "Admin"]),
        ("admin_user", ["Portfolio", "My products", "Inbox", "Decisions", "Admin"], []),
    ],
)
def test_navigation_shows_only_what_the_role_may_do(client, request, fixture, shown, hidden):
    user = request.getfixturevalue(fixture)
    _login(client, user)
    response = client.get("/start/", follow=True)
    nav = response.content.decode().split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    for label in shown:
        assert f">{label}</a>" in nav
    for label in hidden:
        assert f">{label}</a>" not in nav


@pytest.mark.django_db
def test_a_product_owner_cannot_open_the_inbox_or_act_on_alerts(client, product_owner):
    portfolio = build_portfolio(products=1, owner=product_owner)
    alert = portfolio.alerts[0]
    _login(client, product_owner)
    assert client.get("/inbox/").status_code == 403
    assert client.get(f"/inbox/alerts/{alert.pk}/").status_code == 403
    assert client.get("/inbox/decisions/").status_code == 403
    assert client.post(f"/inbox/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.post(f"/inbox/alerts/{alert.pk}/snooze/", {"until": "2026-04-01"}).status_code == 403
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/",
        {"action": "retire", "rationale": "mine now", "sunset_on": "2026-06-30"},
    )
    assert response.status_code == 403
    alert.refresh_from_db()
    alert.data_product.refresh_from_db()
    assert alert.status == "open"
    assert alert.data_product.lifecycle == "active"
    assert not alert.decisions.exists()


@pytest.mark.django_db
def test_an_executive_cannot_use_the_workspace_or_the_inbox(client, executive):
    _login(client, executive)
    assert client.get("/workspace/").status_code == 403
    assert client.post("/workspace/outcome/", {}).status_code == 403
    assert client.post("/workspace/cost/", {}).status_code == 403
    assert client.get("/inbox/").status_code == 403


@pytest.mark.django_db
def test_a_product_owner_asking_for_the_dashboard_is_sent_to_the_workspace(client, product_owner):
    _login(client, product_owner)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/workspace/"


@pytest.mark.django_db
def test_a_user_without_a_role_is_told_whom_to_ask(client):
    user = factories.UserFactory(username="nobody")
    _login(client, user)
    response = client.get("/")
    assert response.status_code == 403
    assert b"Ask an administrator" in response.content
    assert client.get("/products/anything/").status_code == 403


@pytest.mark.django_db
def test_product_and_goal_pages_are_open_to_every_role(client, executive, product_owner, governance_lead):
    portfolio = build_portfolio(products=1)
    for user in (executive, product_owner, governance_lead):
        _login(client, user)
        assert client.get(f"/products/{portfolio.products[0].slug}/").status_code == 200
        assert client.get(f"/goals/{portfolio.goal.slug}/").status_code == 200
    assert client.get("/products/no-such-product/").status_code == 404
