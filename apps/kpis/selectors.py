"""KPI reads: KPIs with their attributions, and recorded outcomes."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from apps.kpis.models import KPI, Attribution, Measurement


def kpi_list() -> QuerySet[KPI]:
    """Every KPI, by goal and name, with its attributions prefetched (one query per page)."""
    return KPI.objects.prefetch_related(
        Prefetch("attributions", queryset=Attribution.objects.order_by("data_product_id"))
    ).order_by("goal__name", "name", "id")


def measurement_list() -> QuerySet[Measurement]:
    """Every recorded outcome, every revision, newest period first."""
    return Measurement.objects.order_by("kpi_id", "-period_start", "-revision", "-id")
