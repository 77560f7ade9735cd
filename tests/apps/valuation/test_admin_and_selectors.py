"""The valuation admin pages and selectors."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun
from apps.valuation.selectors import evaluation_list
from apps.valuation.services import portfolio_evaluate

from .scenario import AS_OF, build_scenario

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [EvaluationPolicy, Evaluation, EvaluationRun])
def test_admin_lists_and_details_open(client, admin_user, model):
    build_scenario()
    portfolio_evaluate(as_of=AS_OF, run=EvaluationRun.objects.create(as_of=AS_OF, trigger="test"))
    client.force_login(admin_user)
    opts = model._meta
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code == 200
    obj = model.objects.first()
    assert client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])).status_code == 200


def test_the_default_policy_cannot_be_deleted_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    default = EvaluationPolicy.objects.get(is_default=True)
    response = client.get(reverse("admin:valuation_evaluationpolicy_delete", args=[default.pk]))
    assert response.status_code == 403


def test_selectors(django_assert_max_num_queries):
    scenario = build_scenario()
    portfolio_evaluate(as_of=AS_OF)
    with django_assert_max_num_queries(2):
        latest = list(evaluation_list(as_of=AS_OF).select_related("data_product"))
    assert {e.data_product.slug for e in latest} == {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
    assert [e.data_product_id for e in evaluation_list(data_product_id=scenario.beta.pk)] == [scenario.beta.pk]
