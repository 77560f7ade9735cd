"""The portfolio's summed figures are cached, and never read stale after a write that changes them.

PostgreSQL only (the change log's triggers); each check makes the cache hold the figures first,
then writes through a different path and reads again.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import DataProduct, Lifecycle
from apps.valuation.models import Evaluation
from apps.valuation.portfolio import (
    latest_evaluations,
    latest_evaluations_counted,
    latest_evaluations_of,
    latest_evaluations_recommending,
    latest_figures_by_domain,
    portfolio_summary,
    products_recommended,
)
from tests.factories import DataProductFactory, DomainFactory, EvaluationFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 2, 1)


@pytest.fixture
def portfolio(postgres):
    domain = DomainFactory(name="Sales")
    products = [DataProductFactory(domain=domain) for _ in range(3)]
    for product in products:
        EvaluationFactory(data_product=product, as_of=date(2026, 1, 1), value=Decimal("5000.00"))
    return products


def summed(as_of: date = AS_OF) -> tuple[int, Decimal]:
    totals = portfolio_summary(as_of=as_of).totals
    return totals.products, totals.value


def figures_queries() -> int:
    """How many queries one read of the figures runs (1: the change log's key only, a cache hit)."""
    with CaptureQueriesContext(connection) as queries:
        latest_figures_by_domain(as_of=AS_OF)
    return len(queries.captured_queries)


def test_a_second_read_is_served_from_the_cache(portfolio):
    assert summed() == (3, Decimal("15000.00"))
    assert figures_queries() == 1
    # Another date is its own entry.
    assert summed(date(2025, 12, 1)) == (0, Decimal("0.00"))


def test_an_evaluation_written_by_the_orm_or_raw_sql_shows_at_once(portfolio):
    assert summed() == (3, Decimal("15000.00"))
    EvaluationFactory(data_product=portfolio[0], as_of=date(2026, 1, 15), value=Decimal("100.00"))
    assert summed() == (3, Decimal("10100.00"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Evaluation._meta.db_table} SET value = 900 WHERE as_of = %s",
            [date(2026, 1, 15)],
        )
    assert summed() == (3, Decimal("10900.00"))
    Evaluation.objects.filter(as_of=date(2026, 1, 15)).delete()
    assert summed() == (3, Decimal("15000.00"))


def test_retiring_moving_and_adding_products_show_at_once(portfolio):
    assert summed() == (3, Decimal("15000.00"))
    DataProduct.objects.filter(pk=portfolio[0].pk).update(lifecycle=Lifecycle.RETIRED, sunset_on=date(2026, 1, 20))
    assert summed() == (2, Decimal("10000.00"))
    other = DomainFactory(name="Finance")
    DataProduct.objects.filter(pk=portfolio[1].pk).update(domain=other)
    by_domain = {figures.name: figures.value for figures in portfolio_summary(as_of=AS_OF).domains}
    assert by_domain == {"Finance": Decimal("5000.00"), "Sales": Decimal("5000.00")}
    # A change that cannot move the figures keeps the cached ones.
    DataProduct.objects.filter(pk=portfolio[2].pk).update(description="Now with a description.")
    assert figures_queries() == 1


def test_figures_read_inside_a_rolled_back_write_are_never_served_later(portfolio):
    assert summed() == (3, Decimal("15000.00"))
    with transaction.atomic():
        Evaluation.objects.filter(data_product=portfolio[0]).update(value=Decimal("1.00"))
        assert summed() == (3, Decimal("10001.00"))
        transaction.set_rollback(True)
    assert summed() == (3, Decimal("15000.00"))
    # A later write of the same shape gets a key of its own, not the rolled-back one.
    Evaluation.objects.filter(data_product=portfolio[1]).update(value=Decimal("2.00"))
    assert summed() == (3, Decimal("10002.00"))


def test_the_latest_evaluations_and_their_count_follow_writes(portfolio):
    evaluations, count = latest_evaluations_counted(as_of=AS_OF)
    assert count == evaluations.count() == 3
    newcomer = EvaluationFactory(data_product=DataProductFactory(domain=portfolio[0].domain), as_of=date(2026, 1, 31))
    evaluations, count = latest_evaluations_counted(as_of=AS_OF)
    assert count == 4
    assert newcomer.pk in set(evaluations.values_list("pk", flat=True))
    DataProduct.objects.filter(pk=newcomer.data_product_id).update(lifecycle=Lifecycle.RETIRED)
    evaluations, count = latest_evaluations_counted(as_of=AS_OF)
    assert count == evaluations.count() == 3
    assert newcomer.pk not in set(latest_evaluations(as_of=AS_OF).values_list("pk", flat=True))


def recommending(recommendation: str) -> tuple[set[int], set[int]]:
    evaluations = latest_evaluations_recommending(as_of=AS_OF, recommendation=recommendation)
    products = DataProduct.objects.filter(products_recommended(as_of=AS_OF, recommendation=recommendation))
    return set(evaluations.values_list("data_product_id", flat=True)), set(products.values_list("pk", flat=True))


def test_the_products_of_a_recommendation_follow_a_new_evaluation(portfolio):
    first, second, third = portfolio
    Evaluation.objects.filter(data_product=first).update(recommendation="retire")
    assert recommending("retire") == ({first.pk}, {first.pk})
    assert recommending("retire") == ({first.pk}, {first.pk})  # cached: the same
    # A newer evaluation of the second product says retire, and the first's says hold.
    EvaluationFactory(data_product=second, as_of=date(2026, 1, 20), recommendation="retire")
    EvaluationFactory(data_product=first, as_of=date(2026, 1, 20), recommendation="hold")
    assert recommending("retire") == ({second.pk}, {second.pk})
    assert recommending("hold") == ({first.pk, third.pk}, {first.pk, third.pk})


def test_the_latest_evaluations_of_a_few_products_are_the_portfolios_own(portfolio):
    first, second, third = portfolio
    newer = EvaluationFactory(data_product=second, as_of=date(2026, 1, 20))
    EvaluationFactory(data_product=third, as_of=date(2026, 3, 1))  # after the date: the older one counts
    retired = DataProductFactory(domain=first.domain, lifecycle=Lifecycle.RETIRED, sunset_on=date(2026, 1, 10))
    EvaluationFactory(data_product=retired, as_of=date(2026, 1, 5))
    unevaluated = DataProductFactory(domain=first.domain)
    asked = [first.pk, second.pk, third.pk, retired.pk, unevaluated.pk]

    found = {e.data_product_id: e.pk for e in latest_evaluations_of(as_of=AS_OF, product_ids=asked)}

    expected = dict(latest_evaluations(as_of=AS_OF).filter(data_product_id__in=asked).values_list("data_product", "pk"))
    assert found == expected
    assert set(found) == {first.pk, second.pk, third.pk}
    assert found[second.pk] == newer.pk
    assert latest_evaluations_of(as_of=AS_OF, product_ids=[]).count() == 0
