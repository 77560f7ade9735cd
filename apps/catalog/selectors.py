"""Catalog reads: domains, business goals, data products (with what their lists need joined)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.catalog.models import BusinessGoal, DataProduct, Domain


def domain_list() -> QuerySet[Domain]:
    """Every domain, by name."""
    return Domain.objects.order_by("name", "id")


def goal_list() -> QuerySet[BusinessGoal]:
    """Every business goal, by domain and name."""
    return BusinessGoal.objects.order_by("domain__name", "name", "id")


def data_product_list() -> QuerySet[DataProduct]:
    """Every data product, by name, with the ids of the goals it serves prefetched (one query per page)."""
    return DataProduct.objects.prefetch_related(
        Prefetch("goals", queryset=BusinessGoal.objects.only("id").order_by("id"))
    ).order_by("name", "id")
