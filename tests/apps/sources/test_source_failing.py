"""`source_failing`: a failed pull opens the alert on each product the KPI is attributed to, through the
evaluation's alert pass; the next successful pull resolves it at the following evaluation."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.governance.models import Alert, AlertKind, AlertStatus
from apps.sources.models import PullStatus
from apps.sources.services import kpi_pull
from apps.valuation.services import portfolio_evaluate
from tests import factories

pytestmark = pytest.mark.django_db

DAY = date(2026, 2, 2)  # a Monday
GOOD = "SELECT month, revenue FROM kpi_monthly ORDER BY month"


def pull_on(day: date, kpi_id: int):
    with time_machine.travel(timezone.make_aware(datetime(day.year, day.month, day.day, 1, 45)), tick=False):
        return kpi_pull(kpi_id=kpi_id)


@pytest.fixture
def sourced(duck_source):
    products = [factories.DataProductFactory(launched_on=date(2024, 1, 1)) for _ in range(2)]
    kpi = factories.KPIFactory(cadence="monthly", name="Lake revenue", source=duck_source, source_query=GOOD)
    for product in products:
        factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.5"))
    return kpi, products


def failing_alerts():
    return Alert.objects.filter(kind=AlertKind.SOURCE_FAILING)


def test_a_failed_pull_opens_source_failing_and_a_good_one_resolves_it(sourced, duckdb_file):
    kpi, products = sourced
    assert pull_on(DAY - timedelta(days=7), kpi.pk).status == PullStatus.SUCCEEDED
    portfolio_evaluate(as_of=DAY - timedelta(days=7))
    assert not failing_alerts().exists()

    kpi.source_query = "SELECT month, revenue FROM kpi_monthyl"
    kpi.save()
    assert pull_on(DAY, kpi.pk).status == PullStatus.FAILED
    portfolio_evaluate(as_of=DAY)
    alerts = list(failing_alerts().filter(status=AlertStatus.OPEN).order_by("data_product_id"))
    assert [alert.data_product_id for alert in alerts] == [product.pk for product in products]
    message = alerts[0].message
    assert "Lake revenue" in message and "lake" in message and "kpi_monthyl" in message
    assert duckdb_file not in message and "\n" not in message
    portfolio_evaluate(as_of=DAY)  # re-running the date opens nothing twice
    assert failing_alerts().count() == 2

    kpi.source_query = GOOD
    kpi.save()
    assert pull_on(DAY + timedelta(days=1), kpi.pk).status == PullStatus.SUCCEEDED
    portfolio_evaluate(as_of=DAY + timedelta(days=1))
    assert not failing_alerts().exclude(status=AlertStatus.RESOLVED).exists()
    assert all(alert.resolution for alert in failing_alerts())
