"""Weekly digests: executives get the portfolio, governance leads their backlog; once per week."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from apps.accounts.roles import Role
from apps.bets.models import BetStatus
from apps.catalog.models import Lifecycle
from apps.governance.models import Alert, AlertKind
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
    with django_assert_max_num_queries(25):
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
