"""Flags the notifications feature adds to other apps' pages: costs recorded after a sunset."""

from __future__ import annotations

from django import template
from django.conf import settings

from apps.catalog.models import DataProduct
from apps.notifications.selectors import late_costs_by_product, late_costs_list

register = template.Library()


@register.inclusion_tag("notifications/partials/late_costs_flag.html")
def late_costs_flag(product: DataProduct) -> dict:
    """On a product page: money recorded for months after the product's sunset (one query, none without a sunset)."""
    late = late_costs_by_product([product.pk]).get(product.pk) if product.sunset_on else None
    return {"late": late, "currency": settings.MESHVALUE_CURRENCY}


@register.inclusion_tag("notifications/partials/late_costs_notice.html")
def late_costs_notice() -> dict:
    """In the governance inbox: every product with costs recorded after its sunset (two queries)."""
    return {"flagged": late_costs_list(), "currency": settings.MESHVALUE_CURRENCY}
