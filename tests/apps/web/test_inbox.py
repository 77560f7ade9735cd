"""The governance inbox: filters, evidence, acknowledge, snooze, decide, the decision log and its median."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.governance.models import Alert, Decision
from tests import factories
from tests.apps.web.conftest import ROLLUP_REFRESH_QUERIES, TODAY, build_portfolio

# Session, user, roles; domains, count and page of alerts, counts per kind, median; the evidence of the page
# (attributions, outcomes, costs) and its decisions; the late-costs notice. The decision forms, with the owners
# offered for reassignment and the policies' revisit dates, are fetched when a card's panel opens.
# + a refresh of the monthly rollup when writes are pending (ROLLUP_REFRESH_QUERIES)
INBOX_QUERY_BUDGET = 13 + ROLLUP_REFRESH_QUERIES


@pytest.fixture
def portfolio(db):
    return build_portfolio(products=3)


@pytest.mark.django_db
def test_inbox_lists_alerts_needing_action_with_evidence(client, governance_lead, portfolio):
    snoozed, later, resolved = portfolio.alerts
    Alert.objects.filter(pk=snoozed.pk).update(status="snoozed", snoozed_until=TODAY - timedelta(days=1))
    Alert.objects.filter(pk=later.pk).update(status="snoozed", snoozed_until=TODAY + timedelta(days=5))
    Alert.objects.filter(pk=resolved.pk).update(status="resolved", resolved_at=timezone.now())
    client.force_login(governance_lead)
    response = client.get("/inbox/")
    assert response.status_code == 200
    # A snooze that has run out needs action again; a running one and a resolved one do not.
    assert [item.alert.pk for item in response.context["items"]] == [snoozed.pk]
    item = response.context["items"][0]
    assert item.chart["cost"][-3:] == [1000.0, 1000.0, 1000.0]  # December to February
    html = response.content.decode()
    assert "€6,000" in html and "2.00\u00d7" in html and snoozed.message in html
    assert response.context["todo_total"] == 1


@pytest.mark.django_db
def test_inbox_filters_by_kind_status_domain_and_age(client, governance_lead, portfolio):
    other = build_portfolio(products=1)
    first, second, third = portfolio.alerts
    Alert.objects.filter(pk=first.pk).update(kind="invest", opened_on=TODAY - timedelta(days=40))
    Alert.objects.filter(pk=second.pk).update(status="acknowledged", opened_on=TODAY - timedelta(days=10))
    Alert.objects.filter(pk__in=[third.pk, other.alerts[0].pk]).update(opened_on=TODAY - timedelta(days=2))
    client.force_login(governance_lead)

    def listed(query: str) -> set[int]:
        response = client.get(f"/inbox/?{query}")
        assert response.status_code == 200
        return {item.alert.pk for item in response.context["items"]}

    assert listed("kind=invest") == {first.pk}
    assert listed("status=acknowledged") == {second.pk}
    assert listed(f"domain={other.domain.slug}") == {other.alerts[0].pk}
    assert listed("age=month") == {first.pk}
    assert listed("age=week") == {second.pk}
    assert listed("age=new") == {third.pk, other.alerts[0].pk}
    assert listed(f"product={third.data_product.slug}&status=all") == {third.pk}
    # An unknown value drops that filter only.
    assert listed("kind=bogus&status=acknowledged") == {second.pk}


@pytest.mark.django_db
def test_acknowledge_with_htmx_redraws_the_card(client, governance_lead, portfolio):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    response = client.post(f"/inbox/alerts/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<article class="alert-card kind-border-retire" id="alert-{alert.pk}"')
    assert "Acknowledged" in html and "<html" not in html
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", governance_lead)


@pytest.mark.django_db
def test_snooze_needs_a_future_date(client, governance_lead, portfolio):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    response = client.post(f"/inbox/alerts/{alert.pk}/snooze/", {"until": TODAY.isoformat()}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Snooze until a date after today." in response.content.decode()
    alert.refresh_from_db()
    assert alert.status == "open"
    response = client.post(f"/inbox/alerts/{alert.pk}/snooze/", {"until": "2026-04-01", "next": "/inbox/?kind=retire"})
    assert response.status_code == 302 and response["Location"] == "/inbox/?kind=retire"
    alert.refresh_from_db()
    assert (alert.status, alert.snoozed_until) == ("snoozed", date(2026, 4, 1))


@pytest.mark.django_db
def test_deciding_retire_deprecates_the_product_and_resolves_the_alert(client, governance_lead, portfolio):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/",
        {"action": "retire", "rationale": "Nobody uses it; value below cost for a year.", "sunset_on": "2026-06-30"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Decided in" in response.content.decode()
    alert.refresh_from_db()
    product = alert.data_product
    product.refresh_from_db()
    assert alert.status == "resolved"
    assert (product.lifecycle, product.sunset_on) == ("deprecated", date(2026, 6, 30))
    decision = Decision.objects.get(alert=alert)
    assert (decision.action, decision.decided_by) == ("retire", governance_lead)
    page = client.get(f"/products/{product.slug}/").content.decode()
    assert "Deprecated" in page and "sunset 30 Jun 2026" in page


@pytest.mark.django_db
def test_deciding_reassign_hands_the_product_to_the_new_owner(client, governance_lead, product_owner, portfolio):
    alert = portfolio.alerts[1]
    client.force_login(governance_lead)
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/",
        {"action": "reassign_owner", "rationale": "Used by the data team only.", "new_owner": product_owner.pk},
    )
    assert response.status_code == 302
    alert.data_product.refresh_from_db()
    assert alert.data_product.owner == product_owner


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"action": "keep", "rationale": "  "}, "rationale", "a rationale is required"),
        ({"action": "retire", "rationale": "Too costly."}, "sunset_on", "A decision to retire needs a sunset date."),
        (
            {"action": "retire", "rationale": "Too costly.", "sunset_on": "2026-01-01"},
            "sunset_on",
            "The sunset date cannot be in the past.",
        ),
        ({"action": "reassign_owner", "rationale": "Orphaned."}, "new_owner", "Name the new owner."),
        ({"action": "reassign_owner", "rationale": "x", "new_owner": "999999"}, "new_owner", "Select a valid choice"),
        ({"action": "sell", "rationale": "x"}, "action", "Select a valid choice"),
        ({"rationale": "x"}, "action", "This field is required."),
    ],
)
def test_bad_decisions_are_refused_beside_their_field_and_change_nothing(
    client, governance_lead, portfolio, data, field, message
):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    response = client.post(f"/inbox/alerts/{alert.pk}/decide/", data)
    assert response.status_code == 200
    form = response.context["decide_form"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert response.context["open_panel"] == "decide"
    alert.refresh_from_db()
    alert.data_product.refresh_from_db()
    assert alert.status == "open" and alert.data_product.lifecycle == "active"
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_acting_on_a_resolved_alert_is_refused(client, governance_lead, portfolio):
    alert = portfolio.alerts[0]
    Alert.objects.filter(pk=alert.pk).update(status="resolved", resolved_at=timezone.now())
    client.force_login(governance_lead)
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/", {"action": "keep", "rationale": "Fine."}, HTTP_HX_REQUEST="true"
    )
    assert "This alert is already resolved." in response.content.decode()
    assert not Decision.objects.exists()
    assert client.post("/inbox/alerts/999999/acknowledge/").status_code == 404


@pytest.mark.django_db
def test_decision_log_shows_time_from_alert_to_decision_and_the_median(client, governance_lead, portfolio):
    now = timezone.now()
    for alert, hours in zip(portfolio.alerts, (2, 10, 30), strict=True):
        Alert.objects.filter(pk=alert.pk).update(created_at=now - timedelta(hours=hours))
        factories.DecisionFactory(alert=alert, data_product=alert.data_product, decided_by=governance_lead)
    factories.DecisionFactory(data_product=portfolio.products[0], decided_by=governance_lead)  # without an alert
    client.force_login(governance_lead)
    response = client.get("/inbox/decisions/")
    assert response.status_code == 200
    median = response.context["median_time_to_decision"]
    assert timedelta(hours=9, minutes=59) < median <= timedelta(hours=10, minutes=1)
    html = response.content.decode()
    assert "10 h" in html and "1 d 6 h" in html and "2 h" in html
    assert "10 h" in client.get("/inbox/").content.decode()


@pytest.mark.django_db
def test_inbox_query_count_does_not_grow_with_alerts(client, governance_lead):
    client.force_login(governance_lead)
    counts = []
    for size in (5, 40):
        portfolio = build_portfolio(products=size)
        for alert in portfolio.alerts[: size // 2]:
            factories.DecisionFactory(alert=alert, data_product=alert.data_product, decided_by=governance_lead)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/inbox/?status=all")
        assert response.status_code == 200
        counts.append(len(queries))
    assert len(response.context["items"]) == 20  # one page
    assert counts[0] == counts[1] <= INBOX_QUERY_BUDGET


@pytest.mark.django_db
def test_evidence_chart_follows_the_products_value_and_cost(client, governance_lead, portfolio):
    alert = portfolio.alerts[0]
    # A second line of the same month (its own key): both count.
    factories.CostEntryFactory(
        data_product=alert.data_product, period_start=date(2026, 2, 1), amount=Decimal("50"), source_key="late-invoice"
    )
    client.force_login(governance_lead)
    response = client.get(f"/inbox/alerts/{alert.pk}/")
    assert response.status_code == 200
    item = response.context["item"]
    assert len(item.months) == 12 and item.months[-1] == date(2026, 2, 1)
    # On the page the chart carries its first month and one figure per month.
    assert item.chart["start"] == "2025-03-01" and len(item.chart["cost"]) == 12
    assert item.chart["cost"][-1] == 1050.0
    assert item.chart["value"][-4:] == [0.0, 100.0, 200.0, 300.0]


@pytest.mark.django_db
def test_a_refused_decision_over_htmx_redraws_the_card_with_the_panel_open_and_the_errors(
    client, governance_lead, portfolio
):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/", {"action": "retire", "rationale": ""}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert '<details class="action-panel disclosure" open>' in html
    assert "a rationale is required" in html and "A decision to retire needs a sunset date." in html
    assert 'aria-invalid="true"' in html
    assert not Decision.objects.exists()


@pytest.mark.django_db
def test_reassign_offers_and_accepts_only_users_who_may_own_products(
    client, governance_lead, product_owner, executive, portfolio
):
    alert = portfolio.alerts[1]
    factories.UserFactory(username="staffer", is_staff=True)
    client.force_login(governance_lead)
    page = client.get(f"/inbox/alerts/{alert.pk}/")
    form = page.context["decide_form"]
    offered = {label for _, label in form.fields["new_owner"].choices if _}
    assert {"owner", "staffer"} <= offered
    assert not offered & {"exec", "gov"}
    # A hand-made post naming an executive is refused beside the field, whatever the form offered.
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/",
        {"action": "reassign_owner", "rationale": "x", "new_owner": executive.pk},
    )
    assert response.status_code == 200
    assert "new_owner" in response.context["decide_form"].errors
    alert.data_product.refresh_from_db()
    assert alert.data_product.owner != executive


@pytest.mark.django_db
def test_the_inbox_fetches_a_cards_decision_form_when_its_panel_opens(
    client, governance_lead, product_owner, portfolio
):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    html = client.get("/inbox/").content.decode()
    # No decision form on the page: each card's panel fetches its own, and links to it without JavaScript.
    assert "Record decision" not in html and 'name="rationale"' not in html
    assert f'hx-get="/inbox/alerts/{alert.pk}/decide/form/?next=/inbox/"' in html
    assert f'href="/inbox/alerts/{alert.pk}/?panel=decide"' in html
    form = client.get(f"/inbox/alerts/{alert.pk}/decide/form/?next=/inbox/%3Fkind%3Dretire", HTTP_HX_REQUEST="true")
    body = form.content.decode()
    assert form.status_code == 200 and "<html" not in body
    assert f'hx-post="/inbox/alerts/{alert.pk}/decide/"' in body and "Record decision" in body
    assert 'name="next" value="/inbox/?kind=retire"' in body
    assert "owner" in body  # the product owners offered for reassignment
    # Another host as `next` is dropped; a plain visit opens the alert's page with the form.
    elsewhere = client.get(f"/inbox/alerts/{alert.pk}/decide/form/?next=https://evil.example/", HTTP_HX_REQUEST="true")
    assert 'name="next" value="/inbox/"' in elsewhere.content.decode()
    plain = client.get(f"/inbox/alerts/{alert.pk}/decide/form/")
    assert plain.status_code == 302 and plain["Location"] == f"/inbox/alerts/{alert.pk}/?panel=decide"
    page = client.get(plain["Location"])
    assert '<details class="action-panel disclosure" open>' in page.content.decode()
    assert client.get("/inbox/alerts/999999/decide/form/", HTTP_HX_REQUEST="true").status_code == 404
    client.force_login(product_owner)
    assert client.get(f"/inbox/alerts/{alert.pk}/decide/form/", HTTP_HX_REQUEST="true").status_code == 403


@pytest.mark.django_db
def test_a_card_redrawn_after_an_action_fetches_its_form_again(client, governance_lead, portfolio):
    alert = portfolio.alerts[0]
    client.force_login(governance_lead)
    html = client.post(f"/inbox/alerts/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="/inbox/alerts/{alert.pk}/decide/form/' in html and "Record decision" not in html
