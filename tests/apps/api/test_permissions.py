"""Who may do what: every resource, every role, every method (README, "Permissions").

Each case names the roles allowed and the status they get; every other role gets 403 (401
when anonymous), and a refused write leaves every table as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.apps.api.conftest import World, client_for, database_state

ROLES = ("anonymous", "no_role", "executive", "product_owner", "governance_lead", "admin")
READERS = frozenset({"executive", "product_owner", "governance_lead", "admin"})
AUTHENTICATED = READERS | {"no_role"}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: Callable[[World], str]
    allowed: frozenset[str]
    status: int  # the status of the allowed roles
    data: Callable[[World], Any] = field(default=lambda w: None)
    format: str = "json"

    def __str__(self) -> str:
        return self.name


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


def csv_file(text: str) -> dict:
    return {"file": SimpleUploadedFile("upload.csv", text.encode(), content_type="text/csv")}


def _catalog_file(w: World) -> dict:
    text = (
        "apiVersion: v1.0.0\nkind: DataProduct\nid: imported-product\nstatus: active\n"
        f"domain: {w.domain.slug}\nteam:\n  members:\n    - username: {w.own_product.owner.username}\n"
    )
    return {"file": SimpleUploadedFile("p.yaml", text.encode()), "format": "bitol"}


READ_PATHS: dict[str, Callable[[World], str]] = {
    "users": lambda w: "/api/v1/users/",
    "domains": lambda w: "/api/v1/domains/",
    "domain": lambda w: f"/api/v1/domains/{w.domain.pk}/",
    "goals": lambda w: "/api/v1/goals/",
    "goal": lambda w: f"/api/v1/goals/{w.goal.pk}/",
    "data-products": lambda w: "/api/v1/data-products/",
    "data-product": lambda w: f"/api/v1/data-products/{w.other_product.pk}/",
    "kpis": lambda w: "/api/v1/kpis/",
    "kpi": lambda w: f"/api/v1/kpis/{w.other_kpi.pk}/",
    "measurements": lambda w: f"/api/v1/measurements/?kpi={w.own_kpi.pk}",
    "measurement": lambda w: f"/api/v1/measurements/{w.own_measurement.pk}/",
    "costs": lambda w: "/api/v1/costs/",
    "cost": lambda w: f"/api/v1/costs/{w.other_cost.pk}/",
    "costs as CSV": lambda w: "/api/v1/costs/?format=csv",
    "bets": lambda w: "/api/v1/bets/",
    "bet": lambda w: f"/api/v1/bets/{w.bet.pk}/",
    "usage": lambda w: "/api/v1/usage/",
    "usage record": lambda w: f"/api/v1/usage/{w.other_usage.pk}/",
    "evaluations": lambda w: f"/api/v1/evaluations/?as_of=2026-03-01&data_product={w.own_product.pk}",
    "evaluation": lambda w: f"/api/v1/evaluations/{w.evaluation.pk}/",
    "evaluation runs": lambda w: "/api/v1/evaluation-runs/",
    "evaluation run": lambda w: f"/api/v1/evaluation-runs/{w.run.pk}/",
    "policies": lambda w: "/api/v1/policies/",
    "cost imports": lambda w: "/api/v1/cost-imports/",
    "allocation rules": lambda w: "/api/v1/allocation-rules/",
    "exchange rates": lambda w: "/api/v1/exchange-rates/",
    "policy": lambda w: f"/api/v1/policies/{w.default_policy.pk}/",
    "alerts": lambda w: "/api/v1/alerts/?status=open",
    "alert": lambda w: f"/api/v1/alerts/{w.alert.pk}/",
    "decisions": lambda w: "/api/v1/decisions/",
    "decision": lambda w: f"/api/v1/decisions/{w.decision.pk}/",
    "portfolio summary": lambda w: "/api/v1/portfolio/summary/?as_of=2026-03-01",
    "catalog files export": lambda w: "/api/v1/data-products/export/?format=bitol",
    "schema": lambda w: "/api/schema/",
    "docs": lambda w: "/api/docs/",
}

READS = [Case(f"GET {name}", "get", path, READERS, 200) for name, path in READ_PATHS.items()]
# The schema and its docs are for any signed-in user (they describe, they do not disclose data).
READS = [
    Case(c.name, c.method, c.path, AUTHENTICATED if c.name in ("GET schema", "GET docs") else c.allowed, c.status)
    for c in READS
]


def _product(w: World, **extra: Any) -> dict:
    return {"name": "New product", "domain": w.domain.pk, **extra}


def _kpi(w: World, product_id: int) -> dict:
    return {
        "goal": w.goal.pk,
        "name": "Basket size",
        "unit": "EUR",
        "baseline": "40",
        "target": "50",
        "value_per_unit": "100",
        "attributions": [{"data_product": product_id, "weight": "0.3"}],
    }


def _measurement(kpi_id: int) -> dict:
    return {"kpi": kpi_id, "period_start": "2026-02-01", "value": "120"}


def _cost(product_id: int) -> dict:
    return {"data_product": product_id, "period_start": "2026-02-01", "amount": "250.00"}


def _usage(product_id: int) -> list[dict]:
    return [{"data_product": product_id, "consumer": "finance", "day": "2026-02-03", "count": 4}]


def _bet(w: World) -> dict:
    return {
        "hypothesis": "Churn scores cut retention spend.",
        "data_product": w.own_product.pk,
        "goal": w.goal.pk,
        "expected_value": "10000.00",
        "expected_cost": "2000.00",
        "opens_on": "2026-01-01",
        "review_on": "2026-12-31",
    }


WRITES = [
    # billing data (allocation rules, exchange rates): governance leads
    Case(
        "create allocation rule",
        "post",
        lambda w: "/api/v1/allocation-rules/",
        only("governance_lead", "admin"),
        201,
        lambda w: {"name": "Orders", "tag_key": "product", "targets": [{"data_product": w.own_product.pk}]},
    ),
    Case(
        "create exchange rate",
        "post",
        lambda w: "/api/v1/exchange-rates/",
        only("governance_lead", "admin"),
        201,
        lambda w: {"currency": "USD", "month": "2026-01-01", "rate": "0.9"},
    ),
    # domains: administrators
    Case("create domain", "post", lambda w: "/api/v1/domains/", only("admin"), 201, lambda w: {"name": "Finance"}),
    Case(
        "edit domain",
        "patch",
        lambda w: f"/api/v1/domains/{w.domain.pk}/",
        only("admin"),
        200,
        lambda w: {"description": "x"},
    ),
    Case("delete domain", "delete", lambda w: f"/api/v1/domains/{w.spare_domain.pk}/", only("admin"), 204),
    # goals: executives
    Case(
        "create goal",
        "post",
        lambda w: "/api/v1/goals/",
        only("executive", "admin"),
        201,
        lambda w: {"name": "Cut churn", "domain": w.domain.pk, "starts_on": "2026-01-01", "ends_on": "2026-12-31"},
    ),
    Case(
        "edit goal",
        "patch",
        lambda w: f"/api/v1/goals/{w.goal.pk}/",
        only("executive", "admin"),
        200,
        lambda w: {"status": "achieved"},
    ),
    Case("delete goal", "delete", lambda w: f"/api/v1/goals/{w.spare_goal.pk}/", only("executive", "admin"), 204),
    # data products: owners register and edit their own; governance leads move the lifecycle
    Case(
        "register data product",
        "post",
        lambda w: "/api/v1/data-products/",
        only("product_owner", "admin"),
        201,
        _product,
    ),
    Case(
        "register data product for someone else",
        "post",
        lambda w: "/api/v1/data-products/",
        only("admin"),
        201,
        lambda w: _product(w, owner=w.other_product.owner_id),
    ),
    Case(
        "edit own data product",
        "patch",
        lambda w: f"/api/v1/data-products/{w.own_product.pk}/",
        only("product_owner", "admin"),
        200,
        lambda w: {"description": "Features for churn models"},
    ),
    Case(
        "edit another's data product",
        "patch",
        lambda w: f"/api/v1/data-products/{w.other_product.pk}/",
        only("admin"),
        200,
        lambda w: {"description": "Features for churn models"},
    ),
    Case(
        "move lifecycle of own data product",
        "patch",
        lambda w: f"/api/v1/data-products/{w.own_product.pk}/",
        only("governance_lead", "admin"),
        200,
        lambda w: {"lifecycle": "deprecated", "sunset_on": "2027-06-30"},
    ),
    Case(
        "hand own data product to someone else",
        "patch",
        lambda w: f"/api/v1/data-products/{w.own_product.pk}/",
        only("admin"),
        200,
        lambda w: {"owner": w.other_product.owner_id},
    ),
    Case(
        "delete own proposed data product",
        "delete",
        lambda w: f"/api/v1/data-products/{w.proposed_own.pk}/",
        only("product_owner", "admin"),
        204,
    ),
    Case(
        "delete another's proposed data product",
        "delete",
        lambda w: f"/api/v1/data-products/{w.proposed_other.pk}/",
        only("admin"),
        204,
    ),
    # KPIs: executives; product owners for KPIs of their products
    Case(
        "create KPI attributed to own product",
        "post",
        lambda w: "/api/v1/kpis/",
        only("executive", "product_owner", "admin"),
        201,
        lambda w: _kpi(w, w.own_product.pk),
    ),
    Case(
        "create KPI attributed to another's product",
        "post",
        lambda w: "/api/v1/kpis/",
        only("executive", "admin"),
        201,
        lambda w: _kpi(w, w.other_product.pk),
    ),
    Case(
        "edit KPI of own product",
        "patch",
        lambda w: f"/api/v1/kpis/{w.own_kpi.pk}/",
        only("executive", "product_owner", "admin"),
        200,
        lambda w: {"target": "175"},
    ),
    Case(
        "edit KPI of another's product",
        "patch",
        lambda w: f"/api/v1/kpis/{w.other_kpi.pk}/",
        only("executive", "admin"),
        200,
        lambda w: {"target": "175"},
    ),
    Case(
        "attribute KPI of own product to another's product too",
        "patch",
        lambda w: f"/api/v1/kpis/{w.own_kpi.pk}/",
        only("executive", "admin"),
        200,
        lambda w: {
            "attributions": [
                {"data_product": w.own_product.pk, "weight": "0.6"},
                {"data_product": w.other_product.pk, "weight": "0.2"},
            ]
        },
    ),
    Case(
        "delete KPI of own product",
        "delete",
        lambda w: f"/api/v1/kpis/{w.spare_own_kpi.pk}/",
        only("executive", "product_owner", "admin"),
        204,
    ),
    Case(
        "delete KPI of another's product",
        "delete",
        lambda w: f"/api/v1/kpis/{w.spare_other_kpi.pk}/",
        only("executive", "admin"),
        204,
    ),
    # measurements: owners of a product the KPI is attributed to; append-only
    Case(
        "record outcome of own KPI",
        "post",
        lambda w: "/api/v1/measurements/",
        only("product_owner", "admin"),
        201,
        lambda w: _measurement(w.own_kpi.pk),
    ),
    Case(
        "record outcome of another's KPI",
        "post",
        lambda w: "/api/v1/measurements/",
        only("admin"),
        201,
        lambda w: _measurement(w.other_kpi.pk),
    ),
    Case(
        "bulk outcomes of own KPI",
        "post",
        lambda w: "/api/v1/measurements/bulk/",
        only("product_owner", "admin"),
        201,
        lambda w: [_measurement(w.own_kpi.pk)],
    ),
    Case(
        "bulk outcomes of another's KPI",
        "post",
        lambda w: "/api/v1/measurements/bulk/",
        only("admin"),
        201,
        lambda w: [_measurement(w.own_kpi.pk), _measurement(w.other_kpi.pk)],
    ),
    Case(
        "import catalog files",
        "post",
        lambda w: "/api/v1/data-products/import/",
        only("governance_lead", "admin"),
        200,
        lambda w: _catalog_file(w),
        "multipart",
    ),
    Case(
        "import outcomes of own KPI",
        "post",
        lambda w: "/api/v1/measurements/import/",
        only("product_owner", "admin"),
        201,
        lambda w: csv_file(f"kpi,period_start,value\n{w.own_kpi.pk},2026-02-01,120\n"),
        "multipart",
    ),
    Case(
        "import outcomes of another's KPI",
        "post",
        lambda w: "/api/v1/measurements/import/",
        only("admin"),
        201,
        lambda w: csv_file(f"kpi,period_start,value\n{w.other_kpi.pk},2026-02-01,120\n"),
        "multipart",
    ),
    Case(
        "edit outcome",
        "patch",
        lambda w: f"/api/v1/measurements/{w.own_measurement.pk}/",
        AUTHENTICATED,
        405,
        lambda w: {"value": "1"},
    ),
    Case("delete outcome", "delete", lambda w: f"/api/v1/measurements/{w.own_measurement.pk}/", AUTHENTICATED, 405),
    # costs: owners for their own products
    Case(
        "record cost of own product",
        "post",
        lambda w: "/api/v1/costs/",
        only("product_owner", "admin"),
        201,
        lambda w: _cost(w.own_product.pk),
    ),
    Case(
        "record cost of another's product",
        "post",
        lambda w: "/api/v1/costs/",
        only("admin"),
        201,
        lambda w: _cost(w.other_product.pk),
    ),
    Case(
        "bulk costs of own product",
        "post",
        lambda w: "/api/v1/costs/bulk/",
        only("product_owner", "admin"),
        201,
        lambda w: [_cost(w.own_product.pk)],
    ),
    Case(
        "bulk costs of another's product",
        "post",
        lambda w: "/api/v1/costs/bulk/",
        only("admin"),
        201,
        lambda w: [_cost(w.own_product.pk), _cost(w.other_product.pk)],
    ),
    Case(
        "import costs of own product",
        "post",
        lambda w: "/api/v1/costs/import/",
        only("product_owner", "admin"),
        201,
        lambda w: csv_file(f"data_product,period_start,amount\n{w.own_product.pk},2026-02-01,250\n"),
        "multipart",
    ),
    Case(
        "import costs of another's product",
        "post",
        lambda w: "/api/v1/costs/import/",
        only("admin"),
        201,
        lambda w: csv_file(f"data_product,period_start,amount\n{w.other_product.pk},2026-02-01,250\n"),
        "multipart",
    ),
    Case(
        "edit cost of own product",
        "patch",
        lambda w: f"/api/v1/costs/{w.own_cost.pk}/",
        only("product_owner", "admin"),
        200,
        lambda w: {"amount": "1200.00"},
    ),
    Case(
        "edit cost of another's product",
        "patch",
        lambda w: f"/api/v1/costs/{w.other_cost.pk}/",
        only("admin"),
        200,
        lambda w: {"amount": "1200.00"},
    ),
    Case(
        "move cost of own product to another's",
        "patch",
        lambda w: f"/api/v1/costs/{w.own_cost.pk}/",
        only("admin"),
        200,
        lambda w: {"data_product": w.other_product.pk},
    ),
    Case(
        "delete cost of own product",
        "delete",
        lambda w: f"/api/v1/costs/{w.own_cost.pk}/",
        only("product_owner", "admin"),
        204,
    ),
    Case(
        "delete cost of another's product",
        "delete",
        lambda w: f"/api/v1/costs/{w.other_cost.pk}/",
        only("admin"),
        204,
    ),
    # usage: owners for their own products
    Case(
        "record usage of own product",
        "post",
        lambda w: "/api/v1/usage/",
        only("product_owner", "admin"),
        201,
        lambda w: _usage(w.own_product.pk),
    ),
    Case(
        "record usage of another's product",
        "post",
        lambda w: "/api/v1/usage/",
        only("admin"),
        201,
        lambda w: _usage(w.other_product.pk),
    ),
    Case(
        "delete usage of own product",
        "delete",
        lambda w: f"/api/v1/usage/{w.own_usage.pk}/",
        only("product_owner", "admin"),
        204,
    ),
    Case(
        "delete usage of another's product",
        "delete",
        lambda w: f"/api/v1/usage/{w.other_usage.pk}/",
        only("admin"),
        204,
    ),
    # bets: executives place them on any product, product owners on their own; governance leads confirm the outcome
    Case("place bet", "post", lambda w: "/api/v1/bets/", only("executive", "product_owner", "admin"), 201, _bet),
    Case(
        "place bet on someone else's product",
        "post",
        lambda w: "/api/v1/bets/",
        only("executive", "admin"),
        201,
        lambda w: {**_bet(w), "data_product": w.other_product.pk},
    ),
    Case(
        "edit bet",
        "patch",
        lambda w: f"/api/v1/bets/{w.bet.pk}/",
        only("executive", "product_owner", "admin"),
        200,
        lambda w: {"expected_value": "60000.00"},
    ),
    Case(
        "withdraw bet",
        "delete",
        lambda w: f"/api/v1/bets/{w.bet.pk}/",
        only("executive", "product_owner", "admin"),
        204,
    ),
    Case(
        "settle bet",
        "post",
        lambda w: f"/api/v1/bets/{w.bet.pk}/settle/",
        only("governance_lead", "admin"),
        200,
        lambda w: {"outcome": "void"},
    ),
    # evaluations: read-only; governance leads start runs
    Case(
        "start evaluation run",
        "post",
        lambda w: "/api/v1/evaluations/run/",
        only("governance_lead", "admin"),
        202,
        lambda w: {"as_of": "2026-03-01"},
    ),
    Case(
        "create evaluation",
        "post",
        lambda w: "/api/v1/evaluations/",
        AUTHENTICATED,
        405,
        lambda w: {"data_product": w.own_product.pk},
    ),
    Case("delete evaluation", "delete", lambda w: f"/api/v1/evaluations/{w.evaluation.pk}/", AUTHENTICATED, 405),
    Case("delete evaluation run", "delete", lambda w: f"/api/v1/evaluation-runs/{w.run.pk}/", AUTHENTICATED, 405),
    # policies: governance leads
    Case(
        "create domain policy",
        "post",
        lambda w: "/api/v1/policies/",
        only("governance_lead", "admin"),
        201,
        lambda w: {"domain": w.domain.pk, "window_days": 180},
    ),
    Case(
        "edit default policy",
        "patch",
        lambda w: f"/api/v1/policies/{w.default_policy.pk}/",
        only("governance_lead", "admin"),
        200,
        lambda w: {"retire_below": "0.8"},
    ),
    Case(
        "delete domain policy",
        "delete",
        lambda w: f"/api/v1/policies/{w.domain_policy.pk}/",
        only("governance_lead", "admin"),
        204,
    ),
    # alerts: raised by evaluations; governance leads act on them
    Case(
        "acknowledge alert",
        "post",
        lambda w: f"/api/v1/alerts/{w.alert.pk}/acknowledge/",
        only("governance_lead", "admin"),
        200,
    ),
    Case(
        "snooze alert",
        "post",
        lambda w: f"/api/v1/alerts/{w.alert.pk}/snooze/",
        only("governance_lead", "admin"),
        200,
        lambda w: {"until": "2999-01-01"},
    ),
    Case(
        "decide alert",
        "post",
        lambda w: f"/api/v1/alerts/{w.alert.pk}/decide/",
        only("governance_lead", "admin"),
        201,
        lambda w: {"action": "invest", "rationale": "Demand is growing."},
    ),
    Case(
        "create alert",
        "post",
        lambda w: "/api/v1/alerts/",
        AUTHENTICATED,
        405,
        lambda w: {"data_product": w.own_product.pk, "kind": "retire"},
    ),
    Case("delete alert", "delete", lambda w: f"/api/v1/alerts/{w.alert.pk}/", AUTHENTICATED, 405),
    # decisions: governance leads record them
    Case(
        "record decision",
        "post",
        lambda w: "/api/v1/decisions/",
        only("governance_lead", "admin"),
        201,
        lambda w: {"data_product": w.own_product.pk, "action": "keep", "rationale": "Still used by finance."},
    ),
    Case(
        "edit decision",
        "patch",
        lambda w: f"/api/v1/decisions/{w.decision.pk}/",
        AUTHENTICATED,
        405,
        lambda w: {"rationale": "x"},
    ),
    # tokens are for anyone with a password; the portfolio is read-only
    Case(
        "change portfolio summary",
        "post",
        lambda w: "/api/v1/portfolio/summary/",
        AUTHENTICATED,
        405,
        lambda w: {},
    ),
]


@pytest.fixture
def user_for(product_owner, executive, governance_lead, admin_user, without_role):
    return {
        "anonymous": None,
        "no_role": without_role,
        "executive": executive,
        "product_owner": product_owner,
        "governance_lead": governance_lead,
        "admin": admin_user,
    }


def _call(case: Case, role: str, world: World, user_for: dict):
    client = client_for(user_for[role])
    data = case.data(world)
    if case.format == "multipart":
        return getattr(client, case.method)(case.path(world), data, format="multipart")
    return getattr(client, case.method)(case.path(world), data, format="json")


def _expected(case: Case, role: str) -> int:
    if role in case.allowed:
        return case.status
    return 401 if role == "anonymous" else 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", READS, ids=str)
def test_reads(case: Case, role: str, world: World, user_for: dict) -> None:
    response = _call(case, role, world, user_for)
    assert response.status_code == _expected(case, role), response.content[:300]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", WRITES, ids=str)
def test_writes(case: Case, role: str, world: World, user_for: dict) -> None:
    before = database_state()
    response = _call(case, role, world, user_for)
    expected = _expected(case, role)
    assert response.status_code == expected, response.content[:500]
    if expected in (401, 403, 405):
        assert database_state() == before, "a refused write changed the database"
    else:
        assert database_state() != before, "an accepted write changed nothing"


# Resources of other features, with permission tests of their own.
TESTED_ELSEWHERE = {
    "webhooks": "tests/apps/notifications/test_webhooks_api.py",
    "data-sources": "tests/apps/sources/test_api.py",
    "pull-runs": "tests/apps/sources/test_api.py",
    # uploads, reorder, preview and reapply: every role in tests/apps/costs/test_api.py
}


def test_every_registered_route_is_covered() -> None:
    """A resource added to the router without a row in this table fails here."""
    from config.api_router import router

    covered = " ".join(str(case.path.__code__.co_consts) for case in READS + WRITES)
    for prefix, _viewset, _basename in router.registry:
        if prefix not in TESTED_ELSEWHERE:
            assert f"/api/v1/{prefix}/" in covered, f"{prefix} has no permission case"
