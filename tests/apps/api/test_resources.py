"""The resources' own rules through the API: attributions, lifecycle, alerts, decisions, bets, runs, policies."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from apps.bets.models import BetStatus
from apps.catalog.models import DataProduct, Lifecycle
from apps.governance.models import Alert, AlertKind, AlertStatus, Decision
from apps.kpis.models import KPI, Attribution
from apps.valuation.models import EvaluationPolicy, EvaluationRun
from tests import factories
from tests.apps.api.conftest import client_for, database_state

# --- tokens -------------------------------------------------------------------------------------


def test_token_for_username_and_password_then_token_auth(api_client, product_owner):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "owner", "password": "correct horse battery staple"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/domains/").status_code == 200
    # The same token on a second exchange.
    again = api_client.post(
        "/api/v1/auth/token/", {"username": "owner", "password": "correct horse battery staple"}, format="json"
    )
    assert again.json()["token"] == token


def test_token_refused_for_a_wrong_password(api_client, product_owner):
    response = api_client.post("/api/v1/auth/token/", {"username": "owner", "password": "guess"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_token_endpoint_is_throttled(api_client, product_owner, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "3/minute"})
    statuses = [
        api_client.post("/api/v1/auth/token/", {"username": "owner", "password": "guess"}, format="json").status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    cache.clear()


def test_session_login_works_too(client, product_owner):
    client.force_login(product_owner)
    assert client.get("/api/v1/data-products/").status_code == 200


# --- data products --------------------------------------------------------------------------------


def test_registering_a_product_makes_the_registrant_its_owner(as_owner, product_owner, world):
    response = as_owner.post(
        "/api/v1/data-products/",
        {"name": "Store footfall", "domain": world.domain.pk, "goals": [world.goal.pk], "lifecycle": "active"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["owner"] == product_owner.pk
    assert body["slug"] == "store-footfall"
    assert body["goals"] == [world.goal.pk]
    assert body["launched_on"] == timezone.localdate().isoformat()


def test_registering_a_retired_product_is_refused(as_owner, world):
    response = as_owner.post(
        "/api/v1/data-products/", {"name": "Old", "domain": world.domain.pk, "lifecycle": "retired"}, format="json"
    )
    assert response.status_code == 400
    assert "lifecycle" in response.json()


def test_lifecycle_moves_follow_the_rules(as_governance, world):
    path = f"/api/v1/data-products/{world.own_product.pk}/"
    response = as_governance.patch(path, {"lifecycle": "deprecated", "sunset_on": "2027-03-31"}, format="json")
    assert response.status_code == 200
    assert (response.json()["lifecycle"], response.json()["sunset_on"]) == ("deprecated", "2027-03-31")
    assert as_governance.patch(path, {"lifecycle": "retired"}, format="json").status_code == 200
    response = as_governance.patch(path, {"lifecycle": "active"}, format="json")
    assert response.status_code == 400
    assert "cannot become active" in response.json()["lifecycle"][0]
    world.own_product.refresh_from_db()
    assert world.own_product.lifecycle == Lifecycle.RETIRED


def test_sunset_before_launch_is_a_field_error(as_owner, world):
    response = as_owner.post(
        "/api/v1/data-products/",
        {"name": "Odd", "domain": world.domain.pk, "launched_on": "2026-05-01", "sunset_on": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "before the launch date" in response.json()["sunset_on"][0]


def test_only_proposed_products_can_be_deleted(as_owner, world):
    response = as_owner.delete(f"/api/v1/data-products/{world.own_product.pk}/")
    assert response.status_code == 400
    assert DataProduct.objects.filter(pk=world.own_product.pk).exists()


def test_deleting_a_domain_still_in_use_is_a_conflict(as_admin, world):
    response = as_admin.delete(f"/api/v1/domains/{world.domain.pk}/")
    assert response.status_code == 409
    assert "still refer to it" in response.json()["detail"]


def test_goal_ending_before_it_starts_is_a_field_error(as_executive, world):
    response = as_executive.post(
        "/api/v1/goals/",
        {"name": "Backwards", "domain": world.domain.pk, "starts_on": "2026-05-01", "ends_on": "2026-01-01"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"ends_on": ["A goal cannot end before it starts."]}


# --- KPIs and attributions ----------------------------------------------------------------------------


def _kpi_body(world, attributions):
    return {
        "goal": world.goal.pk,
        "name": "Basket size",
        "unit": "EUR",
        "direction": "increase",
        "cadence": "monthly",
        "baseline": "40",
        "target": "50",
        "value_per_unit": "100",
        "attributions": attributions,
    }


def test_kpi_with_nested_attributions(as_executive, world):
    body = _kpi_body(
        world,
        [
            {"data_product": world.own_product.pk, "weight": "0.25"},
            {"data_product": world.other_product.pk, "weight": "0.75"},
        ],
    )
    response = as_executive.post("/api/v1/kpis/", body, format="json")
    assert response.status_code == 201, response.content
    kpi_id = response.json()["id"]
    assert response.json()["attributions"] == [
        {"data_product": world.own_product.pk, "weight": "0.2500"},
        {"data_product": world.other_product.pk, "weight": "0.7500"},
    ]
    # A PATCH without attributions keeps them; with a list, the list replaces them.
    assert as_executive.patch(f"/api/v1/kpis/{kpi_id}/", {"target": "60"}, format="json").status_code == 200
    assert Attribution.objects.filter(kpi_id=kpi_id).count() == 2
    response = as_executive.patch(
        f"/api/v1/kpis/{kpi_id}/",
        {"attributions": [{"data_product": world.other_product.pk, "weight": "1"}]},
        format="json",
    )
    assert response.status_code == 200
    assert list(Attribution.objects.filter(kpi_id=kpi_id).values_list("data_product_id", "weight")) == [
        (world.other_product.pk, Decimal("1.0000"))
    ]


@pytest.mark.parametrize(
    ("attributions", "field_check"),
    [
        (
            [{"data_product": "own", "weight": "0.6"}, {"data_product": "other", "weight": "0.6"}],
            lambda errors: "sum to at most 1" in errors["attributions"][0],
        ),
        ([{"data_product": "own", "weight": "0"}], lambda errors: "greater than 0" in str(errors["attributions"])),
        # A nested item's errors are keyed by its position in the list, from 0.
        ([{"data_product": "own", "weight": "1.5"}], lambda errors: "weight" in errors["attributions"]["0"]),
        ([{"data_product": 987654, "weight": "0.5"}], lambda errors: "data_product" in errors["attributions"]["0"]),
        (
            [{"data_product": "own", "weight": "0.5"}, {"data_product": "own", "weight": "0.2"}],
            lambda errors: "more than once" in errors["attributions"][0],
        ),
    ],
)
def test_kpi_attribution_errors(as_executive, world, attributions, field_check):
    ids = {"own": world.own_product.pk, "other": world.other_product.pk}
    rows = [{**row, "data_product": ids.get(row["data_product"], row["data_product"])} for row in attributions]
    before = KPI.objects.count()
    response = as_executive.post("/api/v1/kpis/", _kpi_body(world, rows), format="json")
    assert response.status_code == 400
    assert field_check(response.json()), response.json()
    assert KPI.objects.count() == before  # the KPI is not half-created without its attributions


def test_kpi_cadence_cannot_change_once_measured(as_executive, world):
    response = as_executive.patch(f"/api/v1/kpis/{world.own_kpi.pk}/", {"cadence": "weekly"}, format="json")
    assert response.status_code == 400
    assert "cadence" in response.json()


def test_kpis_are_listed_by_goal_id_then_name(as_executive, world):
    # A goal created later but named first in the alphabet still lists after the earlier goal's KPIs.
    later_goal = factories.BusinessGoalFactory(domain=world.goal.domain, name="Aardvark goal", slug="aardvark")
    factories.KPIFactory(goal=later_goal, name="A first KPI")
    listed = [(kpi["goal"], kpi["name"]) for kpi in as_executive.get("/api/v1/kpis/?page_size=500").json()["results"]]
    assert listed == sorted(listed)
    assert listed[-1] == (later_goal.pk, "A first KPI")
    assert (world.goal.pk, "Orders per week") in listed


def test_deleting_a_measured_kpi_is_a_conflict(as_executive, world):
    response = as_executive.delete(f"/api/v1/kpis/{world.own_kpi.pk}/")
    assert response.status_code == 409
    assert KPI.objects.filter(pk=world.own_kpi.pk).exists()


def test_owner_may_reweight_only_their_own_attribution(as_owner, world):
    factories.AttributionFactory(kpi=world.own_kpi, data_product=world.other_product, weight=Decimal("0.2"))
    path = f"/api/v1/kpis/{world.own_kpi.pk}/"
    ok = as_owner.patch(
        path,
        {
            "attributions": [
                {"data_product": world.own_product.pk, "weight": "0.7"},
                {"data_product": world.other_product.pk, "weight": "0.2"},
            ]
        },
        format="json",
    )
    assert ok.status_code == 200, ok.content
    refused = as_owner.patch(
        path, {"attributions": [{"data_product": world.own_product.pk, "weight": "0.7"}]}, format="json"
    )
    assert refused.status_code == 403  # it would drop another owner's attribution
    assert Attribution.objects.filter(kpi=world.own_kpi).count() == 2


# --- measurements ----------------------------------------------------------------------------------


def test_measurements_filtered_by_kpi(as_executive, world):
    factories.MeasurementFactory(kpi=world.other_kpi)
    response = as_executive.get(f"/api/v1/measurements/?kpi={world.own_kpi.pk}")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [world.own_measurement.pk]
    assert as_executive.get("/api/v1/measurements/?kpi=abc").status_code == 400


# --- alerts and decisions ----------------------------------------------------------------------------


def test_alert_filters(as_executive, world):
    retire = factories.AlertFactory(data_product=world.other_product, kind=AlertKind.RETIRE)
    factories.AlertFactory(
        data_product=world.other_product, kind=AlertKind.REVIEW, status=AlertStatus.RESOLVED, resolution="gone"
    )

    def ids(query: str) -> list[int]:
        response = as_executive.get(f"/api/v1/alerts/?{query}")
        assert response.status_code == 200
        return sorted(row["id"] for row in response.json()["results"])

    assert ids("status=open") == sorted([world.alert.pk, retire.pk])
    assert ids("kind=retire") == [retire.pk]
    assert ids(f"data_product={world.own_product.pk}") == [world.alert.pk]
    assert ids(f"status=open&kind=retire&data_product={world.other_product.pk}") == [retire.pk]
    assert as_executive.get("/api/v1/alerts/?status=sleeping").status_code == 400


def test_acknowledge_then_snooze(as_governance, governance_lead, world):
    path = f"/api/v1/alerts/{world.alert.pk}/"
    response = as_governance.post(path + "acknowledge/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["acknowledged_by"]) == ("acknowledged", governance_lead.pk)
    past = as_governance.post(path + "snooze/", {"until": timezone.localdate().isoformat()}, format="json")
    assert past.status_code == 400
    assert "until" in past.json()
    until = (timezone.localdate() + timedelta(days=14)).isoformat()
    response = as_governance.post(path + "snooze/", {"until": until}, format="json")
    assert (response.status_code, response.json()["status"], response.json()["snoozed_until"]) == (
        200,
        "snoozed",
        until,
    )


def test_decide_retire_deprecates_the_product_and_resolves_the_alert(as_governance, governance_lead, world):
    path = f"/api/v1/alerts/{world.alert.pk}/decide/"
    missing = as_governance.post(path, {"action": "retire", "rationale": "No value."}, format="json")
    assert missing.status_code == 400
    assert "sunset_on" in missing.json()
    blank = as_governance.post(path, {"action": "retire", "rationale": " ", "sunset_on": "2027-01-31"}, format="json")
    assert blank.status_code == 400
    assert "rationale" in blank.json()
    response = as_governance.post(
        path, {"action": "retire", "rationale": "No value.", "sunset_on": "2027-01-31"}, format="json"
    )
    assert response.status_code == 201, response.content
    decision = response.json()
    assert (decision["action"], decision["alert"]) == ("retire", world.alert.pk)
    assert decision["decided_by"] == governance_lead.pk
    world.own_product.refresh_from_db()
    assert (world.own_product.lifecycle, world.own_product.sunset_on) == (Lifecycle.DEPRECATED, date(2027, 1, 31))
    world.alert.refresh_from_db()
    assert world.alert.status == AlertStatus.RESOLVED
    again = as_governance.post(path, {"action": "keep", "rationale": "Again."}, format="json")
    assert again.status_code == 400


def test_decide_reassign_hands_the_product_over(as_governance, world):
    new_owner = factories.UserFactory(username="finance-owner", is_staff=True)
    response = as_governance.post(
        f"/api/v1/alerts/{world.alert.pk}/decide/",
        {"action": "reassign_owner", "rationale": "Finance uses it most.", "new_owner": new_owner.pk},
        format="json",
    )
    assert response.status_code == 201
    world.own_product.refresh_from_db()
    assert world.own_product.owner_id == new_owner.pk
    assert response.json()["previous_owner"] != new_owner.pk


def test_decide_reassign_to_an_executive_is_a_field_error(as_governance, executive, world):
    before = database_state()
    response = as_governance.post(
        f"/api/v1/alerts/{world.alert.pk}/decide/",
        {"action": "reassign_owner", "rationale": "Finance uses it most.", "new_owner": executive.pk},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()) == ["new_owner"]
    assert "product owner role" in response.json()["new_owner"][0]
    assert database_state() == before


def test_decision_on_a_product(as_governance, world):
    response = as_governance.post(
        "/api/v1/decisions/",
        {"data_product": world.other_product.pk, "action": "invest", "rationale": "Growing demand."},
        format="json",
    )
    assert response.status_code == 201
    assert Decision.objects.filter(data_product=world.other_product, action="invest").exists()
    listed = as_governance.get(f"/api/v1/decisions/?data_product={world.other_product.pk}").json()["results"]
    assert [row["rationale"] for row in listed] == ["Growing demand."]


# --- bets ----------------------------------------------------------------------------------------------


def test_bet_lifecycle(as_executive, as_governance, executive, world):
    body = {
        "hypothesis": "Churn scores cut retention spend.",
        "data_product": world.own_product.pk,
        "goal": world.goal.pk,
        "expected_value": "10000.00",
        "expected_cost": "2000.00",
        "opens_on": "2026-01-01",
        "review_on": "2025-12-31",
    }
    response = as_executive.post("/api/v1/bets/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"review_on": ["A bet cannot be reviewed before it opens."]}
    response = as_executive.post("/api/v1/bets/", {**body, "review_on": "2026-06-30"}, format="json")
    assert response.status_code == 201
    bet = response.json()
    assert (bet["status"], bet["created_by"], bet["realised_value"]) == ("open", executive.pk, None)
    # The outcome is measured: a governance lead may void the bet but not declare it won.
    settle = f"/api/v1/bets/{bet['id']}/settle/"
    assert as_governance.post(settle, {"outcome": "won"}, format="json").status_code == 400
    response = as_governance.post(settle, {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] in (BetStatus.WON, BetStatus.LOST)
    assert response.json()["settled_on"] == timezone.localdate().isoformat()
    edit = as_executive.patch(f"/api/v1/bets/{bet['id']}/", {"expected_value": "1.00"}, format="json")
    assert edit.status_code == 400  # settled bets are history


# --- evaluations, runs and policies ------------------------------------------------------------------


def test_evaluations_filtered_by_date_and_product(as_executive, world):
    factories.EvaluationFactory(data_product=world.other_product, as_of=date(2026, 3, 1))
    factories.EvaluationFactory(data_product=world.own_product, as_of=date(2026, 2, 1))

    def products(query: str) -> list[tuple[int, str]]:
        return [
            (row["data_product"], row["as_of"])
            for row in as_executive.get(f"/api/v1/evaluations/?{query}").json()["results"]
        ]

    assert sorted(products("as_of=2026-03-01")) == sorted(
        [(world.own_product.pk, "2026-03-01"), (world.other_product.pk, "2026-03-01")]
    )
    assert products(f"data_product={world.own_product.pk}") == [
        (world.own_product.pk, "2026-03-01"),
        (world.own_product.pk, "2026-02-01"),
    ]
    assert as_executive.get("/api/v1/evaluations/?as_of=March").status_code == 400


def test_starting_a_run_answers_202_and_queues_after_commit(
    as_governance, governance_lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = as_governance.post("/api/v1/evaluations/run/", {"as_of": "2026-03-01"}, format="json")
    assert response.status_code == 202
    run = EvaluationRun.objects.get(pk=response.json()["id"])
    assert (run.as_of, run.requested_by, run.trigger, response.json()["status"]) == (
        date(2026, 3, 1),
        governance_lead,
        "api",
        "queued",
    )
    assert len(callbacks) == 1  # the Celery task is sent once the run row is committed
    fetched = as_governance.get(f"/api/v1/evaluation-runs/{run.pk}/")
    assert fetched.json()["as_of"] == "2026-03-01"


def test_run_defaults_to_today_and_checks_the_date(as_governance):
    response = as_governance.post("/api/v1/evaluations/run/", {}, format="json")
    assert response.status_code == 202
    assert response.json()["as_of"] == timezone.localdate().isoformat()
    assert as_governance.post("/api/v1/evaluations/run/", {"as_of": "0001-01-01"}, format="json").status_code == 400


def test_policies(as_governance, world):
    response = as_governance.post("/api/v1/policies/", {"window_days": 180}, format="json")
    assert response.status_code == 400
    assert "domain" in response.json()
    response = as_governance.post(
        "/api/v1/policies/", {"domain": world.domain.pk, "retire_below": "2", "invest_above": "1"}, format="json"
    )
    assert response.status_code == 400
    assert "invest_above" in response.json()
    response = as_governance.post(
        "/api/v1/policies/", {"domain": world.domain.pk, "window_days": 180, "grace_days": 30}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["is_default"] is False
    assert as_governance.delete(f"/api/v1/policies/{world.default_policy.pk}/").status_code == 400
    assert EvaluationPolicy.objects.filter(is_default=True).exists()
    assert (
        as_governance.patch(
            f"/api/v1/policies/{world.default_policy.pk}/", {"window_days": 100000}, format="json"
        ).status_code
        == 400
    )


def test_unknown_owner_id_on_reassign_is_a_field_error(as_governance, world):
    response = as_governance.post(
        f"/api/v1/alerts/{world.alert.pk}/decide/",
        {"action": "reassign_owner", "rationale": "x", "new_owner": 99999999},
        format="json",
    )
    assert response.status_code == 400
    assert "new_owner" in response.json()
    assert Alert.objects.get(pk=world.alert.pk).status == AlertStatus.OPEN


def test_users_list_shows_roles(as_owner, product_owner, executive):
    rows = {row["username"]: row["roles"] for row in as_owner.get("/api/v1/users/").json()["results"]}
    assert rows["owner"] == ["product_owner"]
    assert rows["exec"] == ["executive"]


def test_anonymous_gets_401_with_a_challenge():
    response = client_for(None).get("/api/v1/data-products/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
