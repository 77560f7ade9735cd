"""The KPIs' running totals (issue 16): a pass that reads them sums exactly what the raw rows give."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from apps.kpis.models import Measurement
from apps.kpis.services import attribution_link, measurement_record
from apps.valuation.models import KpiMonthTotal
from apps.valuation.selectors import policies_by_domain
from apps.valuation.services import gather
from apps.valuation.services.kpi_totals import kpi_totals_current, kpi_totals_differences
from apps.valuation.services.rollup import monthly_rollup_refresh
from tests import factories

pytestmark = pytest.mark.django_db

WEEKS = [date(2024, 1, 1) + timedelta(days=7 * n) for n in range(110)]
MONTHS = [date(2024 + n // 12, n % 12 + 1, 1) for n in range(26)]
# Dates that put a window's edge at a month's start or end, mid-month, before any outcome and after all of them.
AS_OF = [
    date(2023, 12, 15),
    date(2024, 3, 1),
    date(2024, 9, 17),
    date(2025, 1, 1),
    date(2025, 5, 31),
    date(2025, 6, 1),
    date(2025, 11, 12),
    date(2026, 2, 28),
    date(2026, 8, 9),
    date(2027, 6, 1),
]


def figures_both_ways(as_of: date, scope: gather.Scope | None = None) -> tuple[list, list]:
    """The per-product KPI figures of a pass from the raw rows and from the running totals."""
    default, by_domain = policies_by_domain()
    policies = [default, *by_domain.values()]
    lengths, horizon = gather._windows(as_of, policies)
    query = gather._kpi_figures_sql(scope or gather.Scope(as_of), lengths, horizon, policies)
    results = []
    with connection.cursor() as cursor:
        for sql in (query.raw, query.from_totals):
            cursor.execute(sql, query.params)
            # Names come in no set order (the core sorts them).
            results.append(sorted((*row[:-2], sorted(row[-2] or []), row[-1]) for row in cursor.fetchall()))
    return results[0], results[1]


def portfolio(rng: random.Random):
    products = [
        factories.DataProductFactory(launched_on=rng.choice([None, date(2024, 2, 10), date(2025, 3, 5)]))
        for _ in range(6)
    ]
    kpis = [
        factories.KPIFactory(
            cadence=rng.choice(["weekly", "monthly"]),
            direction=rng.choice(["increase", "decrease"]),
            baseline=Decimal(rng.randint(80, 120)),
        )
        for _ in range(6)
    ]
    for kpi in kpis:
        for product in rng.sample(products, 2):
            attribution_link(
                kpi=kpi,
                data_product=product,
                weight=Decimal("0.4"),
                starts_on=rng.choice([None, date(2025, 2, 12), date(2025, 7, 1), date(2026, 1, 20)]),
                baseline=rng.choice([None, Decimal(rng.randint(70, 130))]),
            )
    return products, kpis


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_pass_reads_from_the_totals_exactly_what_the_raw_rows_give(postgres, seed):
    """Outcomes with gaps, corrections, deletions and periods after the date, refreshed at random moments."""
    rng = random.Random(seed)
    products, kpis = portfolio(rng)
    silent = kpis[-1]  # its outcomes all go again: no totals at all
    for _step in range(120):
        kpi = rng.choice(kpis)
        periods = WEEKS if kpi.cadence == "weekly" else MONTHS
        action = rng.random()
        if action < 0.75:  # a new period, or a correction of one
            measurement_record(kpi=kpi, period_start=rng.choice(periods), value=Decimal(rng.randint(40, 160)) / 4)
        elif action < 0.85:
            Measurement.objects.filter(pk__in=Measurement.objects.filter(kpi=kpi).values("pk")[:2]).delete()
        else:
            monthly_rollup_refresh()
    Measurement.objects.filter(kpi=silent).delete()
    monthly_rollup_refresh()

    assert KpiMonthTotal.objects.exists()
    assert kpi_totals_differences() == []
    chunk = gather.Scope(date(2025, 6, 1), products[2].pk, products[4].pk)  # two of the six
    for as_of in AS_OF:
        raw, from_totals = figures_both_ways(as_of)
        assert from_totals == raw, as_of
        raw, from_totals = figures_both_ways(as_of, gather.Scope(as_of, chunk.first_id, chunk.last_id))
        assert from_totals == raw, (as_of, "chunk")
    # Some products were credited something somewhere: the comparison compared figures.
    assert any(row[2] for as_of in AS_OF for row in figures_both_ways(as_of)[0])


def test_an_outcome_written_since_the_last_refresh_sends_the_pass_to_the_raw_rows(postgres):
    product = factories.DataProductFactory(launched_on=date(2024, 1, 1))
    kpi = factories.KPIFactory(cadence="monthly", baseline=Decimal("100"), value_per_unit=Decimal("1"))
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("1"))
    measurement_record(kpi=kpi, period_start=date(2025, 1, 1), value=Decimal("110"))
    monthly_rollup_refresh()
    as_of = date(2025, 6, 1)
    with connection.cursor() as cursor:
        assert kpi_totals_current(cursor)
    measurement_record(kpi=kpi, period_start=date(2025, 2, 1), value=Decimal("130"))  # not refreshed
    with connection.cursor() as cursor:
        assert not kpi_totals_current(cursor)
    default, by_domain = policies_by_domain()
    policies = [default, *by_domain.values()]
    lengths, horizon = gather._windows(as_of, policies)
    figures = gather._kpi_figures_summed(gather.Scope(as_of), lengths, horizon, policies)
    assert figures[product.pk].values[lengths.index(365)] == Decimal("40")  # 10 + 30: both outcomes


def test_rollup_check_reports_a_tampered_running_total(postgres, capsys):
    kpi = factories.KPIFactory()
    measurement_record(kpi=kpi, period_start=date(2025, 1, 1), value=Decimal("110"))
    measurement_record(kpi=kpi, period_start=date(2025, 3, 1), value=Decimal("120"))
    monthly_rollup_refresh()
    assert KpiMonthTotal.objects.filter(kpi_id=kpi.pk).count() == 3  # February too, empty
    KpiMonthTotal.objects.filter(kpi_id=kpi.pk, month=date(2025, 2, 1)).update(sum_before=Decimal("1"))
    with pytest.raises(SystemExit):
        call_command("rollup_check")
    assert f"KPI {kpi.pk} running totals (month, 2025-02)" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # it reports what it found, then repairs it
        call_command("rollup_check", "--rebuild")
    capsys.readouterr()
    call_command("rollup_check")
    assert "matches the raw rows" in capsys.readouterr().out
