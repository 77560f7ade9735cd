"""Weekly digests: executives get the portfolio, governance leads their backlog; once per week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from apps.accounts.roles import Role
from apps.bets.models import BetStatus
from apps.catalog.models import Lifecycle
from apps.governance.models import Alert, AlertKind, Decision
from apps.notifications.models import Delivery, Event
from apps.notifications.services.preferences import notification_preferences_set
from apps.notifications.tasks import weekly_digests_send
from tests import factories
from tests.apps.notifications.conftest import send_pending
from tests.apps.notifications.helpers import evaluation_for

MONDAY = date(2026, 11, 16)


@pytest.fixture
def portfolio(people):
    executive = factories.UserFactory(username="ceo", email="ceo@example.com")
    executive.groups.add(Group.objects.get(name=Role.EXECUTIVE.value))
    product = people["product"]
    # Last week's and this week's evaluations: net went from -4600 to -4000.
    evaluation_for(product, as_of=MONDAY - timedelta(days=8))
    current = evaluation_for(product, as_of=MONDAY - timedelta(days=1))
    current.value, current.net = Decimal("6000.00"), Decimal("-4000.00")
    current.save()
    factories.ValueBetFactory(
        data_product=product,
        goal=factories.BusinessGoalFactory(domain=people["domain"]),
        status=BetStatus.LOST,
        realised_value=Decimal("1200.00"),
        settled_on=MONDAY - timedelta(days=2),
    )
    # Sales: one fresh alert, one open for 20 days; Finance: one alert its own lead sees.
    Alert.objects.create(
        data_product=product, kind=AlertKind.RETIRE, message="ratio low", opened_on=MONDAY - timedelta(days=3)
    )
    Alert.objects.create(
        data_product=product, kind=AlertKind.STALE_KPI, message="stale", opened_on=MONDAY - timedelta(days=20)
    )
    finance_product = factories.DataProductFactory(name="Ledger", domain=people["other_domain"])
    Alert.objects.create(data_product=finance_product, kind=AlertKind.REVIEW, message="no KPI", opened_on=MONDAY)
    sunsetting = factories.DataProductFactory(
        name="Old cube",
        slug="old-cube",
        domain=people["domain"],
        lifecycle=Lifecycle.DEPRECATED,
        sunset_on=MONDAY + timedelta(days=10),
    )
    factories.CostEntryFactory(data_product=sunsetting, period_start=date(2026, 12, 1), amount=Decimal("75.00"))
    return {"executive": executive, **people}


def test_weekly_digests_for_executives_and_governance_leads(portfolio, settings):
    settings.NOTIFICATION_DECISION_OVERDUE_DAYS = 14
    assert weekly_digests_send(MONDAY.isoformat()) == 3  # ceo, lead, other-lead
    send_pending()
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"ceo@example.com", "lead@example.com", "other-lead@example.com"}

    ceo = by_recipient["ceo@example.com"]
    # Money as the pages print it (apps.web.templatetags.meshvalue_format), with a real minus sign.
    assert ceo.subject == "[meshvalue] Portfolio this week: net \u2212€4,000"
    assert "Value: €6,000 (+€600 since 2026-11-09)" in ceo.body
    assert "Net:   \u2212€4,000 (+€600)" in ceo.body
    assert "Alerts opened this week: retire 1" in ceo.body
    assert "Churn features: lost (expected €50,000, realised €1,200)" in ceo.body

    lead = by_recipient["lead@example.com"]
    assert lead.subject == "[meshvalue] Governance this week: 2 open alerts, 1 awaiting a decision"
    assert "Stale KPI on Churn features, opened 2026-10-27 (20 days)" in lead.body
    assert "Old cube (Sales, owner" in lead.body and "retires on 2026-11-26" in lead.body
    assert "Old cube: €75.00 in 1 entry after 2026-11-26" in lead.body
    assert "Ledger" not in lead.body  # another domain's business

    other = by_recipient["other-lead@example.com"]
    assert "Open alerts: 1" in other.body and "Review on Ledger" in other.body

    # The same week again: nothing new, even from another day of it.
    assert weekly_digests_send((MONDAY + timedelta(days=2)).isoformat()) == 0
    assert weekly_digests_send((MONDAY + timedelta(days=7)).isoformat()) == 3


def test_digests_carry_the_decision_loop(portfolio):
    # A retirement decided in August (300 a month before it), sunset on 1 September: 2 full months saved by
    # 15 November, the digest's last full day.
    retired = factories.DataProductFactory(domain=portfolio["domain"], lifecycle=Lifecycle.RETIRED)
    for month in (5, 6, 7):
        factories.CostEntryFactory(data_product=retired, period_start=date(2026, month, 1), amount=Decimal("300.00"))
    factories.DecisionFactory(data_product=retired, action="retire", sunset_on=date(2026, 9, 1))
    Decision.objects.filter(data_product=retired).update(decided_at=datetime(2026, 8, 10, tzinfo=UTC))
    assert weekly_digests_send(MONDAY.isoformat()) == 3
    send_pending()
    by_recipient = {message.to[0]: message for message in mail.outbox}

    ceo = by_recipient["ceo@example.com"]
    payload = Delivery.objects.get(event=Event.EXECUTIVE_DIGEST).payload["decision_loop"]
    assert (payload["from"], payload["to"]) == ("2025-11-16", "2026-11-15")
    assert payload["win_rate"] == "0.0000"  # one bet, lost
    assert payload["avoided_cost"] == "600.00"
    assert payload["alerts_past_sla_count"] == 1  # the stale KPI alert, 19 days old on 15 Nov (SLA 14)
    assert "Win rate: 0% (0 won, 1 lost)" in ceo.body
    assert "Avoided cost: 600.00 EUR (1 retirement)" in ceo.body
    assert "Alerts open past the SLA: 1" in ceo.body
    assert "Stale KPI" not in ceo.body or "stale_kpi on Churn features (Sales), open 19 days (SLA 14)" in ceo.body

    lead = by_recipient["lead@example.com"]
    assert "Past your domains' decision SLA: 1" in lead.body
    assert "stale_kpi on Churn features (Sales), raised 2026-10-27, open 19 days, SLA 14" in lead.body
    assert "Past your domains' decision SLA: 0" in by_recipient["other-lead@example.com"].body


def test_users_who_turned_the_digest_off_get_none(portfolio):
    notification_preferences_set(user=portfolio["executive"], email_topics=[])
    assert weekly_digests_send(MONDAY.isoformat()) == 2
    assert not Delivery.objects.filter(event=Event.EXECUTIVE_DIGEST).exists()


def test_digests_cost_a_fixed_number_of_queries(portfolio, django_assert_max_num_queries):
    for index in range(20):
        product = factories.DataProductFactory(domain=portfolio["domain"])
        Alert.objects.create(data_product=product, kind=AlertKind.RETIRE, message="m", opened_on=MONDAY)
        lead = factories.UserFactory(username=f"lead-{index}")
        lead.groups.add(Group.objects.get(name=Role.GOVERNANCE_LEAD.value))
    # The decision loop of the year adds its seven reads, once for every digest.
    with django_assert_max_num_queries(32):
        weekly_digests_send(MONDAY.isoformat())


def test_the_digest_counts_decisions_by_the_moment_they_were_taken(portfolio, settings):
    """Three decisions on the digest's own morning count for the week (they were reported as none)."""
    from datetime import UTC, datetime

    import time_machine

    product = portfolio["product"]
    with time_machine.travel(datetime(2026, 11, 16, 6, 30, tzinfo=UTC), tick=False):
        for action in ("keep", "keep", "invest"):
            factories.DecisionFactory(data_product=product, action=action)
    from apps.notifications.selectors import executive_digest_data

    assert executive_digest_data(as_of=MONDAY)["decisions"] == {"keep": 2, "invest": 1}
