"""Catalog reads: domains, business goals, data products (with what their lists need joined)."""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Lower

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


def data_product_export_list(
    *, domain_slug: str | None = None, lifecycle: str | None = None, ids: QuerySet | None = None
) -> QuerySet[DataProduct]:
    """Products to write to catalog files, by slug, with domain and owner joined and goal slugs prefetched.

    Two queries whatever the number of products. `ids` narrows to a subquery of product ids.
    """
    products = DataProduct.objects.select_related("domain", "owner").prefetch_related(
        Prefetch("goals", queryset=BusinessGoal.objects.only("id", "slug").order_by("slug"))
    )
    if domain_slug:
        products = products.filter(domain__slug=domain_slug)
    if lifecycle:
        products = products.filter(lifecycle=lifecycle)
    if ids is not None:
        products = products.filter(pk__in=ids)
    return products.order_by("slug")


def domain_list_by_reference(*, references: Collection[str]) -> QuerySet[Domain]:
    """Domains whose slug or name (ignoring case) is one of `references`; one query."""
    lowered = {reference.lower() for reference in references}
    return (
        Domain.objects.annotate(name_lower=Lower("name"))
        .filter(Q(slug__in=list(references)) | Q(name_lower__in=lowered))
        .order_by("pk")
    )


def goal_list_by_slug(*, slugs: Collection[str]) -> dict[str, BusinessGoal]:
    """The goals with these slugs, by slug; one query."""
    return {goal.slug: goal for goal in BusinessGoal.objects.filter(slug__in=list(slugs))}


def data_product_list_by_slug(*, slugs: Collection[str]) -> dict[str, DataProduct]:
    """The products with these slugs, by slug, with the ids of their goals prefetched; two queries."""
    products = DataProduct.objects.filter(slug__in=list(slugs)).prefetch_related(
        Prefetch("goals", queryset=BusinessGoal.objects.only("id", "slug"))
    )
    return {product.slug: product for product in products}
