"""Every HTML response carries the Content-Security-Policy (the browser test checks it is obeyed)."""

from __future__ import annotations

import pytest

from tests.e2e.test_csp import main_pages
from tests.factories import AlertFactory, BusinessGoalFactory, DataProductFactory, KPIFactory

REQUIRED = ("default-src 'self'", "script-src 'self'", "object-src 'none'", "frame-ancestors 'none'")


def _html_responses(client, paths):
    for path in paths:
        response = client.get(path)
        if response.get("Content-Type", "").startswith("text/html"):
            yield path, response


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "executive", "product_owner", "governance_lead", "admin_user"])
def test_every_html_response_carries_the_csp(client, request, who):
    product = DataProductFactory()
    goal = BusinessGoalFactory()
    demo = type("Demo", (), {"alert": AlertFactory(data_product=product), "product": product, "goal": goal})
    demo.kpi = KPIFactory(goal=goal)
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    paths = [*main_pages(demo).values(), "/accounts/login/", "/no-such-page/", "/admin/", "/start/"]
    seen = 0
    for path, response in _html_responses(client, paths):
        seen += 1
        policy = response["Content-Security-Policy"]
        for directive in REQUIRED:
            assert directive in policy, (path, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)
    assert seen >= 4


@pytest.mark.django_db
def test_only_the_api_docs_allow_data_images(client, admin_user):
    client.force_login(admin_user)
    assert "img-src 'self' data:" in client.get("/api/docs/")["Content-Security-Policy"]
    assert "data:" not in client.get("/inbox/")["Content-Security-Policy"]
