"""Cost entries: monthly periods, no negative amounts, one currency, idempotent external ids."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.core.errors import BulkValidationError
from apps.costs.models import CostEntry
from apps.costs.services import CostInput, cost_record, costs_record_bulk
from tests.factories import CostEntryFactory, DataProductFactory

pytestmark = pytest.mark.django_db


def test_cost_is_recorded_in_the_configured_currency():
    product = DataProductFactory()
    entry = cost_record(data_product=product, period_start=date(2026, 2, 1), amount=Decimal("1200.50"))
    assert (entry.amount, entry.currency, entry.category) == (Decimal("1200.50"), "EUR", "other")


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"period_start": date(2026, 2, 2)}, "period_start", "the 1st of a month"),
        ({"amount": Decimal("-1")}, "amount", "cannot be negative"),
        ({"amount": Decimal("NaN")}, "amount", "finite"),
        ({"amount": Decimal("1.005")}, "amount", "2 decimal places"),
        ({"currency": "usd"}, "currency", "records costs in EUR"),
        ({"category": "snacks"}, "category", "infrastructure"),
    ],
)
def test_bad_cost_is_refused_per_field(changes, field, fragment):
    arguments = {"data_product": DataProductFactory(), "period_start": date(2026, 2, 1), "amount": Decimal("10")}
    arguments.update(changes)
    with pytest.raises(ValidationError) as raised:
        cost_record(**arguments)
    assert fragment in raised.value.message_dict[field][0]
    assert not CostEntry.objects.exists()


def test_reimporting_the_same_lines_changes_nothing():
    product = DataProductFactory()
    lines = [
        CostInput(data_product=product, period_start=date(2026, m, 1), amount=Decimal("100"), external_id=f"inv-{m}")
        for m in (1, 2, 3)
    ]
    first = costs_record_bulk(entries=lines)
    again = costs_record_bulk(entries=lines)
    assert [e.pk for e in first] == [e.pk for e in again]
    assert CostEntry.objects.count() == 3


def test_external_id_reused_with_other_figures_is_refused_and_the_batch_stores_nothing():
    product = DataProductFactory()
    costs_record_bulk(
        entries=[CostInput(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("1"), external_id="x")]
    )
    with pytest.raises(BulkValidationError) as raised:
        costs_record_bulk(
            entries=[
                CostInput(data_product=product, period_start=date(2026, 2, 1), amount=Decimal("5")),
                CostInput(data_product=product, period_start=date(2026, 1, 1), amount=Decimal("2"), external_id="x"),
                CostInput(data_product=product, period_start=date(2026, 3, 1), amount=Decimal("-3")),
            ]
        )
    assert [(e.row, e.field) for e in raised.value.errors] == [(2, "external_id"), (3, "amount")]
    assert CostEntry.objects.count() == 1


def test_database_refuses_negative_amounts():
    with pytest.raises(IntegrityError), transaction.atomic():
        CostEntryFactory(amount=Decimal("-0.01"))


def test_database_refuses_a_duplicate_external_id():
    CostEntryFactory(external_id="ledger-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        CostEntryFactory(external_id="ledger-1")


def test_many_lines_without_external_id_are_allowed():
    CostEntryFactory(external_id=None)
    CostEntryFactory(external_id=None)
    assert CostEntry.objects.count() == 2


def test_a_cost_correction_follows_the_recording_rules():
    from apps.costs.services import cost_update

    entry = CostEntryFactory(amount=Decimal("10.00"))
    with pytest.raises(ValidationError) as raised:
        cost_update(cost_entry=entry, amount=Decimal("-5"), period_start=date(2026, 1, 3))
    assert set(raised.value.message_dict) == {"amount", "period_start"}
    entry.refresh_from_db()
    assert entry.amount == Decimal("10.00")
    assert cost_update(cost_entry=entry, amount=Decimal("12.50")).amount == Decimal("12.50")
