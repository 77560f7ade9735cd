"""The maintained monthly rollup (issue 16): exact after any mix of writes, checked by `rollup_check`."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from apps.costs.models import CostCategory, CostSource
from apps.costs.services import CostInput, CostRevision, cost_record, costs_append
from apps.kpis.models import Attribution
from apps.kpis.services import (
    MeasurementInput,
    attribution_link,
    attributions_set,
    kpi_update,
    measurement_record,
    measurements_record_bulk,
)
from apps.valuation.models import MonthlyFigure, RollupChange
from apps.valuation.services.rollup import (
    domain_rollup_differences,
    monthly_figures_compute,
    monthly_rollup_differences,
    monthly_rollup_rebuild,
    monthly_rollup_refresh,
)
from meshvalue.periods import add_months
from tests import factories

pytestmark = pytest.mark.django_db

MONTHS = [date(2025, month, 1) for month in range(1, 13)]
WEEKS = [date(2025, 1, 6)] + [date.fromordinal(date(2025, 1, 6).toordinal() + 7 * n) for n in range(1, 50)]


def figures_of(product) -> dict[date, tuple[Decimal, Decimal]]:
    return {
        month: (value, cost)
        for month, value, cost in MonthlyFigure.objects.filter(data_product=product).values_list(
            "month", "value", "cost"
        )
    }


def test_a_product_is_credited_per_month_from_its_start_and_above_its_baseline():
    """Hand-computed: weekly KPI worth 2 a unit, linked with weight 0.5 from Wed 2025-03-12, baseline 100."""
    product = factories.DataProductFactory(launched_on=date(2024, 1, 1))
    kpi = factories.KPIFactory(cadence="weekly", baseline=Decimal("90"), value_per_unit=Decimal("2"))
    attribution_link(
        kpi=kpi, data_product=product, weight=Decimal("0.5"), starts_on=date(2025, 3, 12), baseline=Decimal("100")
    )
    # Weeks starting 3, 10, 17, 24, 31 March and 7 April; only periods from 12 March count.
    for week, value in [(3, 200), (10, 200), (17, 110), (24, 120), (31, 90)]:
        measurement_record(kpi=kpi, period_start=date(2025, 3, week), value=Decimal(value))
    measurement_record(kpi=kpi, period_start=date(2025, 4, 7), value=Decimal("105"))
    cost_record(data_product=product, period_start=date(2025, 3, 1), amount=Decimal("40"))
    cost_record(
        data_product=product, period_start=date(2025, 4, 1), amount=Decimal("-15"), category=CostCategory.CREDIT
    )

    monthly_rollup_refresh()

    # March: 0.5 * 2 * ((110 - 100) + (120 - 100) + (90 - 100)) = 20; April: 0.5 * 2 * (105 - 100) = 5.
    assert figures_of(product) == {
        date(2025, 3, 1): (Decimal("20"), Decimal("40")),
        date(2025, 4, 1): (Decimal("5"), Decimal("-15")),
    }
    # A correction of a week before the start changes nothing; one after it does, in its month only.
    measurement_record(kpi=kpi, period_start=date(2025, 3, 3), value=Decimal("500"))
    measurement_record(kpi=kpi, period_start=date(2025, 4, 7), value=Decimal("100"))
    refresh = monthly_rollup_refresh()
    assert refresh is not None and refresh.products == 1
    assert figures_of(product) == {
        date(2025, 3, 1): (Decimal("20"), Decimal("40")),
        date(2025, 4, 1): (Decimal("0"), Decimal("-15")),
    }
    assert not RollupChange.objects.exists()


def test_every_write_path_is_seen_even_raw_sql():
    """The triggers, not the services, record what changed: a row written by hand is refreshed too."""
    product = factories.DataProductFactory(launched_on=None)
    kpi = factories.KPIFactory(value_per_unit=Decimal("1"), baseline=Decimal("0"))
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("1"))
    monthly_rollup_refresh()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO kpis_measurement"
            " (kpi_id, period_start, value, note, source, revision, is_current, recorded_at) VALUES"
            " (%s, '2025-05-01', 7, '', 'api', 1, true, CURRENT_TIMESTAMP),"
            " (%s, '2025-06-01', 3, '', 'api', 1, true, CURRENT_TIMESTAMP)",
            [kpi.pk, kpi.pk],
        )
    monthly_rollup_refresh()
    assert figures_of(product) == {date(2025, 5, 1): (Decimal("7"), Decimal("0")), date(2025, 6, 1): (3, 0)}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM kpis_measurement WHERE kpi_id = %s AND period_start = '2025-05-01'", [kpi.pk])
    monthly_rollup_refresh()
    assert figures_of(product) == {date(2025, 6, 1): (Decimal("3"), Decimal("0"))}


def test_rollup_check_finds_a_tampered_month_and_rebuild_repairs_it(capsys):
    product = factories.DataProductFactory()
    kpi = factories.KPIFactory()
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("1"))
    measurement_record(kpi=kpi, period_start=date(2025, 2, 1), value=Decimal("120"))
    call_command("rollup_check")
    assert "matches the raw rows" in capsys.readouterr().out

    MonthlyFigure.objects.filter(data_product=product).update(value=Decimal("1"))
    with pytest.raises(SystemExit) as exit_:
        call_command("rollup_check", "--rebuild")
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    assert f"product {product.pk} 2025-02: stored value 1" in captured.out
    assert "1 product month(s) differ from the raw rows, 1 domain month(s)" in captured.err
    call_command("rollup_check")  # repaired
    assert figures_of(product) == {date(2025, 2, 1): (Decimal("200"), Decimal("0"))}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_rollup_stays_exact_after_a_random_mix_of_writes(seed, capsys):
    """Writes, corrections, bulk imports, credits, restated bills, re-links and KPI edits, with
    refreshes at random moments in between: the rollup_check command then finds no difference."""
    rng = random.Random(seed)
    products = [
        factories.DataProductFactory(launched_on=rng.choice([None, date(2024, 6, 1), date(2025, 4, 17)]))
        for _ in range(5)
    ]
    kpis = [
        factories.KPIFactory(
            cadence=rng.choice(["weekly", "monthly"]),
            direction=rng.choice(["increase", "decrease"]),
            baseline=Decimal(rng.randint(80, 120)),
            value_per_unit=Decimal(rng.randint(1, 40)) / 4,
        )
        for _ in range(4)
    ]
    for kpi in kpis:
        attributions_set(kpi=kpi, attributions=[(p, Decimal("0.3")) for p in rng.sample(products, 2)])
    bill: dict[tuple[int, date], Decimal] = {}

    def periods(kpi) -> list[date]:
        return WEEKS if kpi.cadence == "weekly" else MONTHS

    for _step in range(70):
        action = rng.choice(
            ["outcome", "outcome", "bulk", "cost", "credit", "bill", "relink", "kpi", "launch", "move", "refresh"]
        )
        kpi = rng.choice(kpis)
        product = rng.choice(products)
        if action == "outcome":  # a new period or a correction of an old one
            measurement_record(kpi=kpi, period_start=rng.choice(periods(kpi)), value=Decimal(rng.randint(50, 150)) / 2)
        elif action == "bulk":
            entries = [
                MeasurementInput(kpi=k, period_start=rng.choice(periods(k)), value=Decimal(rng.randint(60, 140)))
                for k in rng.sample(kpis, 3)
            ]
            measurements_record_bulk(entries=entries, source="api")
        elif action == "cost":
            cost_record(data_product=product, period_start=rng.choice(MONTHS), amount=Decimal(rng.randint(1, 900)))
        elif action == "credit":
            cost_record(
                data_product=product,
                period_start=rng.choice(MONTHS),
                amount=-Decimal(rng.randint(1, 300)),
                category=CostCategory.CREDIT,
            )
        elif action == "bill":  # a cloud bill, restated: same keys, new amounts, some lines gone (0)
            for month in rng.sample(MONTHS, 2):
                bill[product.pk, month] = Decimal(rng.choice([0, rng.randint(10, 500)]))
            costs_append(
                revisions=[
                    CostRevision(
                        entry=CostInput(
                            data_product=next(p for p in products if p.pk == product_id),
                            period_start=month,
                            amount=amount,
                            category=CostCategory.INFRASTRUCTURE,
                        ),
                        source_key=f"bill:{product_id}:{month:%Y-%m}",
                    )
                    for (product_id, month), amount in bill.items()
                ],
                source=CostSource.FOCUS,
            )
        elif action == "relink":
            attribution_link(
                kpi=kpi,
                data_product=product,
                weight=Decimal(rng.randint(1, 3)) / 10,
                starts_on=rng.choice([None, date(2025, 2, 12), date(2025, 7, 1)]),
                baseline=rng.choice([None, Decimal(rng.randint(70, 130))]),
            )
        elif action == "kpi":
            kpi_update(
                kpi=kpi,
                value_per_unit=Decimal(rng.randint(1, 40)) / 4,
                baseline=Decimal(rng.randint(80, 120)),
            )
        elif action == "launch":
            product.launched_on = rng.choice([None, date(2025, 3, 5), date(2024, 1, 1)])
            product.save(update_fields=["launched_on"])
        elif action == "move":  # to another domain: both domains' totals change
            product.domain = rng.choice(products).domain
            product.save(update_fields=["domain"])
        else:
            monthly_rollup_refresh()
        if rng.random() < 0.1:  # a link removed altogether
            Attribution.objects.filter(pk__in=Attribution.objects.filter(kpi=kpi).values("pk")[:1]).delete()

    assert RollupChange.objects.exists()  # something is pending: the check applies it first
    call_command("rollup_check")
    assert "matches the raw rows" in capsys.readouterr().out
    assert monthly_rollup_differences(refresh=False) == []
    assert domain_rollup_differences() == []
    # A rebuild from scratch gives the same rows as the incremental refreshes did.
    maintained = set(MonthlyFigure.objects.values_list("data_product_id", "month", "value", "cost"))
    monthly_rollup_rebuild()
    assert set(MonthlyFigure.objects.values_list("data_product_id", "month", "value", "cost")) == maintained
    assert maintained  # the mix wrote something


def test_a_recompute_over_a_span_matches_the_whole_history_in_that_span():
    product = factories.DataProductFactory(launched_on=date(2025, 1, 15))
    kpi = factories.KPIFactory(cadence="weekly")
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.5"))
    for week in WEEKS[:20]:
        measurement_record(kpi=kpi, period_start=week, value=Decimal("100") + week.day)
    everything = monthly_figures_compute()
    start, end = date(2025, 1, 1), add_months(date(2025, 1, 1), 3)
    span = monthly_figures_compute(product_ids=[product.pk], start=start, end=end)
    assert span == {key: figures for key, figures in everything.items() if start <= key[1] < end}
    assert (product.pk, date(2025, 1, 1)) in span  # the launch month, from the 15th


def test_the_portfolio_series_is_the_domains_totals_less_the_retired_products():
    from apps.catalog.models import Lifecycle
    from apps.valuation.selectors import portfolio_monthly_totals

    kept, retired, later = (factories.DataProductFactory(launched_on=None) for _ in range(3))
    for product, amount in [(kept, 100), (retired, 30), (later, 7)]:
        cost_record(data_product=product, period_start=date(2025, 3, 1), amount=Decimal(amount))
    retired.lifecycle, retired.sunset_on = Lifecycle.RETIRED, date(2025, 5, 1)
    retired.save(update_fields=["lifecycle", "sunset_on"])
    later.lifecycle, later.sunset_on = Lifecycle.RETIRED, date(2025, 12, 1)
    later.save(update_fields=["lifecycle", "sunset_on"])
    monthly_rollup_refresh()

    totals = portfolio_monthly_totals(as_of=date(2025, 6, 1), start=date(2025, 1, 1), end=date(2026, 1, 1))
    assert totals == {date(2025, 3, 1): (Decimal("0"), Decimal("107"))}  # the product retired by then is out
