"""Evaluations (read-only, runs started on demand), evaluation policies, and the portfolio summary."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.auth import request_user
from apps.core.api import access
from apps.core.api.viewsets import ApiView, ModelApiViewSet, ReadOnlyApiViewSet
from apps.valuation import selectors
from apps.valuation.api.filters import EvaluationFilter, EvaluationPolicyFilter, EvaluationRunFilter
from apps.valuation.api.serializers import (
    EvaluationPolicySerializer,
    EvaluationRunRequestSerializer,
    EvaluationRunSerializer,
    EvaluationSerializer,
    PortfolioQuerySerializer,
    PortfolioSummarySerializer,
)
from apps.valuation.models import EvaluationPolicy
from apps.valuation.portfolio import portfolio_summary
from apps.valuation.services import evaluation_run_start, policy_create, policy_delete, policy_update


class EvaluationViewSet(ReadOnlyApiViewSet):
    """Each product's figures and recommendation as of a date (filters `as_of`, `data_product`)."""

    access = access.EVALUATIONS
    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilter
    ordering_fields = ["id", "as_of", "value", "cost", "net", "ratio", "recommendation"]

    def get_queryset(self):
        return selectors.evaluation_list()

    @extend_schema(request=EvaluationRunRequestSerializer, responses={202: EvaluationRunSerializer})
    @action(detail=False, methods=["post"])
    def run(self, request: Request) -> Response:
        """Start evaluating the portfolio as of `as_of` (default today) in the background (governance leads).

        Answers 202 with the run; `GET evaluation-runs/{id}/` tells how it went.
        """
        serializer = EvaluationRunRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = evaluation_run_start(
            as_of=serializer.validated_data.get("as_of"), requested_by=request_user(request), trigger="api"
        )
        return Response(EvaluationRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class EvaluationRunViewSet(ReadOnlyApiViewSet):
    """Requests to evaluate the portfolio, and how each went."""

    access = access.EVALUATION_RUNS
    serializer_class = EvaluationRunSerializer
    filterset_class = EvaluationRunFilter
    ordering_fields = ["id", "as_of", "created_at"]

    def get_queryset(self):
        return selectors.evaluation_run_list()


class EvaluationPolicyViewSet(ModelApiViewSet):
    """The thresholds of the valuation rules: the default, and optional per-domain overrides.

    Governance leads edit them; an override is created for a domain and can be deleted, the
    default cannot. Evaluations keep the values they used, so edits never rewrite history.
    """

    access = access.POLICIES
    serializer_class = EvaluationPolicySerializer
    ordering_fields = ["id", "updated_at"]
    filterset_class = EvaluationPolicyFilter

    def get_queryset(self):
        return EvaluationPolicy.objects.order_by("-is_default", "domain__name", "id")

    def create_object(self, data: dict[str, Any]) -> Model:
        return policy_create(**data)

    def update_object(self, instance: EvaluationPolicy, data: dict[str, Any]) -> Model:
        return policy_update(policy=instance, **data)

    def delete_object(self, instance: EvaluationPolicy) -> None:
        policy_delete(policy=instance)


class PortfolioSummaryView(ApiView):
    """Totals and per-domain figures of the portfolio as of a date, for executive dashboards."""

    access = access.PORTFOLIO

    @extend_schema(parameters=[PortfolioQuerySerializer], responses={200: PortfolioSummarySerializer})
    def get(self, request: Request) -> Response:
        """The latest evaluation of each product on or before `as_of` (default today), summed."""
        query = PortfolioQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        return Response(PortfolioSummarySerializer(portfolio_summary(as_of=as_of)).data)
