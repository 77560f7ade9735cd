"""PostgreSQL sums each product's KPIs in the database; any other database sums them in Python.

Both must give the same evaluations and alerts, to the cent and to the word.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from apps.governance.models import Alert
from apps.valuation.models import Evaluation, EvaluationPolicy
from apps.valuation.services import gather, portfolio_evaluate

from .scenario import AS_OF, build_scenario

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

FIELDS = (
    "data_product_id",
    "as_of",
    "value",
    "cost",
    "ratio",
    "net",
    "recent_value",
    "recent_cost",
    "recent_ratio",
    "recommendation",
    "reasons",
    "signals",
    "window_days",
    "recent_days",
    "stale_periods",
)


def outcome(*, in_database: bool, monkeypatch: pytest.MonkeyPatch, chunk_size: int | None = None) -> tuple[list, list]:
    """Evaluate two dates with one way of summing, then roll back to the scenario as built."""
    monkeypatch.setattr(gather, "_sums_in_database", lambda: in_database)
    with transaction.atomic():
        for as_of in (AS_OF - timedelta(days=45), AS_OF):
            portfolio_evaluate(as_of=as_of, chunk_size=chunk_size)
        evaluations = list(Evaluation.objects.order_by("data_product_id", "as_of").values_list(*FIELDS))
        alerts = list(
            Alert.objects.order_by("data_product_id", "kind", "opened_on").values_list(
                "data_product_id", "kind", "status", "message", "opened_on", "resolution"
            )
        )
        transaction.set_rollback(True)
    return evaluations, alerts


@pytest.mark.parametrize("override", [False, True])
def test_database_sums_match_python_sums(monkeypatch, override):
    scenario = build_scenario(v2=True)  # with a late attribution of its own baseline, a credit, a debt
    if override:
        # Other window lengths and a longer staleness horizon in one domain: several lengths in one pass.
        EvaluationPolicy.objects.create(
            domain=scenario.alpha.domain,
            window_days=180,
            recent_days=30,
            grace_days=30,
            retire_below=Decimal("0.1"),
            invest_above=Decimal("8"),
            stale_periods=3,
        )
    in_python = outcome(in_database=False, monkeypatch=monkeypatch)
    in_database = outcome(in_database=True, monkeypatch=monkeypatch)
    assert in_database == in_python
    # Chunks of two products: the sums of each chunk read only its own products' rows.
    assert outcome(in_database=True, monkeypatch=monkeypatch, chunk_size=2) == in_python
    assert outcome(in_database=False, monkeypatch=monkeypatch, chunk_size=2) == in_python
    evaluations, alerts = in_database
    assert len(evaluations) >= 12 and alerts
    assert {evaluation[1] for evaluation in evaluations} == {AS_OF - timedelta(days=45), AS_OF}
