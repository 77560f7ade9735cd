"""The audit trail: a change made through the admin, the API, a web form or a bulk path is in History."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.bets.models import ValueBet
from apps.bets.services import bets_measure_due
from apps.catalog.models import DataProduct, Lifecycle
from apps.catalog.services import data_products_retire_due
from apps.kpis.models import KPI, Attribution
from apps.valuation.models import EvaluationPolicy
from apps.web.selectors.history import kpi_history, product_history
from tests import factories
from tests.apps.api.conftest import client_for

pytestmark = pytest.mark.django_db


def changes_of(entries) -> list[tuple[str, str, str, str, str]]:
    """(who, subject, field, old, new) of every change shown."""
    return [
        (entry.who, entry.subject, change.field, change.old, change.new)
        for entry in entries
        for change in entry.changes
    ]


def test_admin_edit_is_recorded_with_the_admin_as_author(admin_client, admin_user):
    product = factories.DataProductFactory(name="Churn features", description="old words")
    response = admin_client.post(
        f"/admin/catalog/dataproduct/{product.pk}/change/",
        {
            "name": "Churn features",
            "slug": product.slug,
            "domain": product.domain_id,
            "owner": product.owner_id,
            "description": "new words",
            "lifecycle": product.lifecycle,
            "launched_on": product.launched_on.isoformat(),
            "sunset_on": "",
            "goals": [],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ("admin", "Product", "description", "old words", "new words") in changes_of(product_history(product=product))
    # The admin shows it too (SimpleHistoryAdmin's history page).
    page = admin_client.get(f"/admin/catalog/dataproduct/{product.pk}/history/")
    assert page.status_code == 200 and "new words" in page.content.decode()


def test_api_edit_is_recorded_with_the_token_user(governance_lead):
    product = factories.DataProductFactory()
    response = client_for(governance_lead).patch(
        f"/api/v1/data-products/{product.pk}/", {"lifecycle": "deprecated", "sunset_on": "2030-03-31"}, format="json"
    )
    assert response.status_code == 200, response.content
    shown = changes_of(product_history(product=product))
    assert ("gov", "Product", "lifecycle", "active", "deprecated") in shown
    assert ("gov", "Product", "sunset on", "—", "2030-03-31") in shown


def test_kpi_and_attributions_edited_through_the_api(product_owner):
    goal = factories.BusinessGoalFactory()
    product = factories.DataProductFactory(owner=product_owner)
    other = factories.DataProductFactory(owner=product_owner, name="Orders mart")
    kpi = factories.KPIFactory(goal=goal, target=Decimal("30"))
    factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.5"))
    response = client_for(product_owner).patch(
        f"/api/v1/kpis/{kpi.pk}/",
        {"target": "35", "attributions": [{"data_product": other.pk, "weight": "0.4"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    entries = kpi_history(kpi=kpi)
    shown = changes_of(entries)
    assert ("owner", "KPI", "target", "30.0000", "35.0000") in shown
    assert ("owner", "Attribution to Orders mart", "weight", "—", "0.4000") in shown
    removed = [e for e in entries if e.action == "deleted"]
    assert [(e.who, e.subject) for e in removed] == [("owner", f"Attribution to {product.name}")]


def test_web_form_decision_reassigning_the_owner_is_recorded(client, governance_lead, product_owner):
    product = factories.DataProductFactory(name="Orders mart")
    previous = product.owner
    alert = factories.AlertFactory(data_product=product, kind="orphaned")
    client.force_login(governance_lead)
    response = client.post(
        f"/inbox/alerts/{alert.pk}/decide/",
        {"action": "reassign_owner", "rationale": "Finance uses it most.", "new_owner": product_owner.pk},
    )
    assert response.status_code == 302
    assert ("gov", "Product", "owner", str(previous), str(product_owner)) in changes_of(
        product_history(product=product)
    )
    # And the product page shows it, in its History card.
    page = client.get(f"/products/{product.slug}/").content.decode()
    assert "History" in page and "Finance uses it most" not in page.split('id="history"')[1].split("</section>")[0]
    assert str(product_owner) in page.split('id="history"')[1].split("</section>")[0]


def test_bulk_paths_record_every_row_with_no_user():
    product = factories.DataProductFactory(lifecycle=Lifecycle.DEPRECATED, sunset_on=date(2026, 1, 31))
    data_products_retire_due(as_of=date(2026, 2, 1))  # a QuerySet.update
    assert ("system", "Product", "lifecycle", "deprecated", "retired") in changes_of(product_history(product=product))

    goal = factories.BusinessGoalFactory()
    due = timezone.localdate() - timedelta(days=1)
    bets = [
        factories.ValueBetFactory(data_product=product, goal=goal, opens_on=date(2025, 1, 1), review_on=due)
        for _ in range(3)
    ]
    bets_measure_due(as_of=timezone.localdate())  # a bulk_update
    histories = ValueBet.history.filter(id__in=[bet.pk for bet in bets], history_type="~")
    assert histories.count() == 3
    assert all(record.history_user is None for record in histories)


def test_demo_seed_records_its_bulk_attributions():
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    assert Attribution.history.filter(history_type="+").count() == Attribution.objects.count() > 0


def test_role_changes_are_recorded_from_either_side(admin_user):
    person = factories.UserFactory(username="maria")
    owners = Group.objects.get_or_create(name=Role.PRODUCT_OWNER)[0]
    executives = Group.objects.get_or_create(name=Role.EXECUTIVE)[0]
    person.groups.add(owners)
    executives.user_set.add(person)  # from the group's side
    person.groups.remove(owners)
    versions = list(User.history.filter(id=person.pk).order_by("history_id"))
    roles = [{row.group_id for row in version.groups.all()} for version in versions]
    assert roles == [set(), {owners.pk}, {owners.pk, executives.pk}, {executives.pk}]
    # The password hash never reaches the trail; a login changes nothing in it.
    assert not hasattr(versions[0], "password")
    person.last_login = timezone.now()
    person.save(update_fields=["last_login"])
    assert User.history.filter(id=person.pk).count() == len(versions)


def test_role_change_in_the_admin_is_recorded(admin_client):
    person = factories.UserFactory(username="maria")
    owners = Group.objects.get_or_create(name=Role.PRODUCT_OWNER)[0]
    response = admin_client.post(
        f"/admin/accounts/user/{person.pk}/change/",
        {
            "username": "maria",
            "email": person.email,
            "is_active": "on",
            "groups": [owners.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "team": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    latest = User.history.filter(id=person.pk).latest("history_id")
    assert latest.history_user.username == "admin"
    assert {row.group_id for row in latest.groups.all()} == {owners.pk}


@pytest.mark.parametrize("model", [DataProduct, KPI, Attribution, ValueBet, EvaluationPolicy, User])
def test_audited_models_have_a_history_in_the_admin(admin_client, model):
    from django.contrib import admin
    from simple_history.admin import SimpleHistoryAdmin

    assert isinstance(admin.site._registry[model], SimpleHistoryAdmin)


def test_history_needs_a_fixed_number_of_queries(django_assert_max_num_queries):
    product = factories.DataProductFactory()
    for number in range(12):
        product.description = f"version {number}"
        product.save()
        kpi = factories.KPIFactory()
        factories.AttributionFactory(kpi=kpi, data_product=product, weight=Decimal("0.1"))
    # Versions of the product (and its goals), attributions and bets, then one query per model named.
    with django_assert_max_num_queries(9):
        entries = product_history(product=product)
    assert len(entries) == 12 + 1 + 12
