"""Writes with rules for the catalog: data products and their lifecycle."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.catalog.models import DataProduct, Lifecycle

# Lifecycle moves a governance lead may make by hand; retirement normally comes from a decision.
ALLOWED_LIFECYCLE_MOVES: dict[str, set[str]] = {
    Lifecycle.PROPOSED: {Lifecycle.ACTIVE, Lifecycle.RETIRED},
    Lifecycle.ACTIVE: {Lifecycle.DEPRECATED, Lifecycle.RETIRED},
    Lifecycle.DEPRECATED: {Lifecycle.ACTIVE, Lifecycle.RETIRED},
    Lifecycle.RETIRED: set(),
}


@transaction.atomic
def data_product_set_lifecycle(
    *, data_product: DataProduct, lifecycle: str, on: date, sunset_on: date | None = None
) -> DataProduct:
    """Move a product through its lifecycle; activating sets `launched_on` when it is empty."""
    product = DataProduct.objects.select_for_update().get(pk=data_product.pk)
    if lifecycle == product.lifecycle:
        return product
    if lifecycle not in ALLOWED_LIFECYCLE_MOVES.get(product.lifecycle, set()):
        raise ValidationError({"lifecycle": f"A {product.lifecycle} product cannot become {lifecycle}."})
    product.lifecycle = lifecycle
    if lifecycle == Lifecycle.ACTIVE:
        product.launched_on = product.launched_on or on
        product.sunset_on = None
    elif lifecycle == Lifecycle.DEPRECATED:
        product.sunset_on = sunset_on or product.sunset_on
    elif lifecycle == Lifecycle.RETIRED:
        product.sunset_on = product.sunset_on or on
    product.full_clean()
    product.save()
    return product


@transaction.atomic
def data_products_retire_due(*, as_of: date) -> list[int]:
    """Retire every deprecated product whose sunset date has come; returns their ids."""
    due_ids = list(
        DataProduct.objects.select_for_update()
        .filter(lifecycle=Lifecycle.DEPRECATED, sunset_on__lte=as_of)
        .values_list("pk", flat=True)
    )
    if due_ids:
        DataProduct.objects.filter(pk__in=due_ids).update(lifecycle=Lifecycle.RETIRED)
    return due_ids
