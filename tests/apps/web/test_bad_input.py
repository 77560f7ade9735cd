"""Bad input never crashes a page and never writes anything."""

from __future__ import annotations

import pytest

from apps.costs.models import CostEntry
from apps.governance.models import Decision
from apps.kpis.models import Measurement
from tests.apps.web.conftest import build_portfolio

HUGE = "9" * 25


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/?as_of=0001-01-01", 200),
        ("/?as_of=99999-01-01", 200),
        ("/workspace/?product=%00", 200),
        ("/workspace/?product=x%00y", 200),
        (f"/workspace/outcome/periods/?kpi={HUGE}", 200),
        ("/workspace/outcome/periods/?kpi=1&period_start=%00", 200),
        ("/inbox/?page=zz&kind=%3Cscript%3E&domain=%00&age=lol&product=%00", 200),
        ("/inbox/decisions/?page=-1", 200),
        (f"/inbox/alerts/{HUGE}/", 404),
        ("/products/%00/", 404),
    ],
)
def test_odd_query_strings_and_ids_get_a_page_not_an_error(client, admin_user, path, status):
    build_portfolio(products=1, owner=admin_user)
    client.force_login(admin_user)
    assert client.get(path).status_code == status


@pytest.mark.django_db
def test_an_as_of_before_2000_is_refused_beside_the_field(client, executive):
    client.force_login(executive)
    response = client.get("/?as_of=0001-01-01")
    assert "Choose a date from 1 January 2000 on." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/workspace/outcome/", {"kpi": HUGE, "period_start": "2026-03-01", "value": "1"}),
        ("/workspace/outcome/", {"kpi": "{kpi}", "period_start": "2026-03-01", "value": "1", "note": "a\x00b"}),
        ("/workspace/cost/", {"data_product": HUGE, "period_start": "x", "amount": "1e999999", "category": "?"}),
        ("/workspace/cost/", {"data_product": "{product}", "period_start": "2026-03-01", "amount": "1", "note": "\0"}),
        ("/inbox/alerts/{alert}/decide/", {"action": "keep", "rationale": "a\x00b"}),
        ("/inbox/alerts/{alert}/decide/", {"action": "reassign_owner", "rationale": "x", "new_owner": HUGE}),
        ("/inbox/alerts/{alert}/snooze/", {"until": "99999-99-99"}),
    ],
)
def test_bad_posts_are_refused_and_store_nothing(client, admin_user, url, data):
    portfolio = build_portfolio(products=1, owner=admin_user)
    ids = {"kpi": portfolio.kpis[0].pk, "product": portfolio.products[0].pk, "alert": portfolio.alerts[0].pk}
    counts = (Measurement.objects.count(), CostEntry.objects.count(), Decision.objects.count())
    client.force_login(admin_user)
    payload = {key: value.format(**ids) if isinstance(value, str) else value for key, value in data.items()}
    response = client.post(url.format(**ids), payload)
    assert response.status_code == 200
    assert (Measurement.objects.count(), CostEntry.objects.count(), Decision.objects.count()) == counts
    portfolio.alerts[0].refresh_from_db()
    assert portfolio.alerts[0].status == "open"
