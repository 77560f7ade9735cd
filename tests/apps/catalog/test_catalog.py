"""Catalog constraints and lifecycle moves."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.catalog.models import Lifecycle
from apps.catalog.services import data_product_set_lifecycle, data_products_retire_due
from tests.factories import BusinessGoalFactory, DataProductFactory, DomainFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("factory", [DomainFactory, BusinessGoalFactory, DataProductFactory])
def test_slugs_are_unique(factory):
    factory(slug="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(slug="same")


def test_a_goal_cannot_end_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        BusinessGoalFactory(starts_on=date(2026, 5, 1), ends_on=date(2026, 4, 1))


def test_a_product_cannot_sunset_before_launch():
    with pytest.raises(IntegrityError), transaction.atomic():
        DataProductFactory(launched_on=date(2026, 5, 1), sunset_on=date(2026, 4, 1))


def test_activating_a_proposed_product_sets_its_launch_date():
    product = DataProductFactory(lifecycle=Lifecycle.PROPOSED, launched_on=None)
    product = data_product_set_lifecycle(data_product=product, lifecycle=Lifecycle.ACTIVE, on=date(2026, 6, 1))
    assert (product.lifecycle, product.launched_on) == (Lifecycle.ACTIVE, date(2026, 6, 1))


def test_a_retired_product_stays_retired():
    product = DataProductFactory(lifecycle=Lifecycle.RETIRED)
    with pytest.raises(ValidationError) as raised:
        data_product_set_lifecycle(data_product=product, lifecycle=Lifecycle.ACTIVE, on=date(2026, 6, 1))
    assert "cannot become active" in raised.value.message_dict["lifecycle"][0]


def test_deprecated_products_retire_on_their_sunset_date():
    due = DataProductFactory(lifecycle=Lifecycle.DEPRECATED, sunset_on=date(2026, 6, 1))
    later = DataProductFactory(lifecycle=Lifecycle.DEPRECATED, sunset_on=date(2026, 6, 2))
    assert data_products_retire_due(as_of=date(2026, 6, 1)) == [due.pk]
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.lifecycle, later.lifecycle) == (Lifecycle.RETIRED, Lifecycle.DEPRECATED)
