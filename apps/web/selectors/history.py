"""The "History" cards of the product and KPI pages: the audit trail of what they show (apps.core.audit)."""

from __future__ import annotations

from apps.bets.models import ValueBet
from apps.catalog.models import DataProduct
from apps.core.audit import AuditEntry, audit_entries, audit_history_queryset
from apps.kpis.models import KPI, Attribution

HISTORY_LIMIT = 50


def product_history(*, product: DataProduct) -> list[AuditEntry]:
    """Changes to the product, its attributions to KPIs and its bets, newest first. A fixed number of queries."""
    return audit_entries(
        [
            (list(audit_history_queryset(DataProduct, id=product.pk)), lambda record, name_of: "Product"),
            (
                list(audit_history_queryset(Attribution, data_product_id=product.pk)),
                lambda record, name_of: f"Attribution to {name_of(KPI, record.kpi_id)}",
            ),
            (list(audit_history_queryset(ValueBet, data_product_id=product.pk)), lambda record, name_of: "Value bet"),
        ],
        limit=HISTORY_LIMIT,
    )


def kpi_history(*, kpi: KPI) -> list[AuditEntry]:
    """Changes to the KPI and to its attributions, newest first. A fixed number of queries."""
    return audit_entries(
        [
            (list(audit_history_queryset(KPI, id=kpi.pk)), lambda record, name_of: "KPI"),
            (
                list(audit_history_queryset(Attribution, kpi_id=kpi.pk)),
                lambda record, name_of: f"Attribution to {name_of(DataProduct, record.data_product_id)}",
            ),
        ],
        limit=HISTORY_LIMIT,
    )
