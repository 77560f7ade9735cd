"""How a pass reads its KPI sums and writes its evaluations on PostgreSQL, and that every way gives
the same rows: the sums read on a second connection or on the pass's own, the rows COPYed straight
into the table (a new date) or merged into it (a date evaluated again, or one another pass wrote
meanwhile)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.governance.models import Alert
from apps.kpis.models import KPI
from apps.valuation.models import Evaluation
from apps.valuation.services import evaluate as evaluate_module
from apps.valuation.services import gather, portfolio_chunk_evaluate

from .scenario import AS_OF, build_scenario
from .test_gather_paths import FIELDS

pytestmark = pytest.mark.usefixtures("postgres")

# A name with every character COPY's text format escapes, a quote JSON escapes and one beyond ASCII.
AWKWARD_NAME = 'Orders\t\\ "net" é\r\nline two'


def stored_evaluations(as_of):
    return list(Evaluation.objects.filter(as_of=as_of).order_by("data_product_id").values_list(*FIELDS))


def sums_queries(captured: CaptureQueriesContext) -> list[str]:
    """The pass's KPI-sums statements that ran on this connection (`_kpi_figures_sql` selects kpi_count)."""
    return [query["sql"] for query in captured.captured_queries if "AS kpi_count" in query["sql"]]


@pytest.mark.django_db(transaction=True)
def test_sums_read_on_a_second_connection_give_the_same_evaluations(settings, monkeypatch):
    build_scenario(v2=True)
    assert not connection.in_atomic_block  # the pass's transaction is its own, as in a task
    outcomes = {}
    for aside in (False, True, "failing"):
        settings.MESHVALUE_EVALUATION_SUMS_ASIDE = bool(aside)
        if aside == "failing":  # the second connection fails: the pass sums on its own instead
            monkeypatch.setattr(gather, "_SNAPSHOT_ID", gather.re.compile("never"))
        Alert.objects.all().delete()
        Evaluation.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            portfolio_chunk_evaluate(as_of=AS_OF)
        outcomes[aside] = stored_evaluations(AS_OF)
        assert len(sums_queries(captured)) == (0 if aside is True else 1), aside
    assert len(outcomes[False]) >= 6
    assert outcomes[True] == outcomes[False]
    assert outcomes["failing"] == outcomes[False]


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_sums_stay_on_its_connection(settings):
    # An imported snapshot would not see the caller's uncommitted rows (here: the whole scenario).
    settings.MESHVALUE_EVALUATION_SUMS_ASIDE = True
    build_scenario(v2=True)
    with CaptureQueriesContext(connection) as captured:
        summary = portfolio_chunk_evaluate(as_of=AS_OF)
    assert len(sums_queries(captured)) == 1
    assert summary.products_evaluated >= 6


@pytest.mark.django_db
def test_a_new_date_and_a_rewrite_store_the_same_rows():
    build_scenario(v2=True)
    # Named in a reason (no outcome that counts) and in a stale_kpi signal.
    for name in ("Old", "Orders"):
        KPI.objects.filter(name=name).update(name=f"{AWKWARD_NAME} {name}")
    portfolio_chunk_evaluate(as_of=AS_OF)  # a new date: COPY straight into the table
    first = stored_evaluations(AS_OF)
    ids = dict(Evaluation.objects.filter(as_of=AS_OF).values_list("data_product_id", "id"))
    assert any(f"{AWKWARD_NAME} Old" in reason for row in first for reason in row[FIELDS.index("reasons")])
    assert any(
        f"{AWKWARD_NAME} Orders" in signal["message"] for row in first for signal in row[FIELDS.index("signals")]
    )
    portfolio_chunk_evaluate(as_of=AS_OF)  # the same date again: merged (ON CONFLICT DO UPDATE)
    assert stored_evaluations(AS_OF) == first
    assert dict(Evaluation.objects.filter(as_of=AS_OF).values_list("data_product_id", "id")) == ids


@pytest.mark.django_db
def test_a_first_write_that_meets_rows_stored_meanwhile_merges_them(monkeypatch):
    build_scenario(v2=True)
    portfolio_chunk_evaluate(as_of=AS_OF)
    first = stored_evaluations(AS_OF)
    Evaluation.objects.filter(as_of=AS_OF).update(recommendation="hold", reasons=["stored meanwhile"])
    # As if another pass (of another chunk size) stored its rows after this one looked: the COPY
    # meets the unique constraint, its savepoint rolls it back and the rows are merged instead.
    monkeypatch.setattr(evaluate_module, "_evaluated_on", lambda *args: False)
    portfolio_chunk_evaluate(as_of=AS_OF)
    assert stored_evaluations(AS_OF) == first
    assert Evaluation.objects.filter(as_of=AS_OF + timedelta(days=1)).count() == 0
