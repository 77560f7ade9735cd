"""Alerts (raised by evaluations; governance leads act on them) and decisions."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.auth import request_user
from apps.core.api import access
from apps.core.api.viewsets import ApiViewSet, CsvListModelMixin, ReadOnlyApiViewSet
from apps.governance import selectors, services
from apps.governance.api.filters import AlertFilter, DecisionFilter
from apps.governance.api.serializers import AlertSerializer, DecideSerializer, DecisionSerializer, SnoozeSerializer


class AlertViewSet(ReadOnlyApiViewSet):
    """Retire, invest, review, stale_kpi, orphaned and bet_due alerts (filters `status`, `kind`, `data_product`)."""

    access = access.ALERTS
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    ordering_fields = ["id", "created_at", "opened_on", "status", "kind"]

    def get_queryset(self):
        return selectors.alert_list()

    @extend_schema(request=None, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str | None = None) -> Response:
        """Mark the alert as seen; it stays unresolved until decided."""
        alert = services.alert_acknowledge(alert=self.get_object(), user=request_user(request))
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=SnoozeSerializer, responses={200: AlertSerializer})
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str | None = None) -> Response:
        """Hide the alert until a later date."""
        alert = self.get_object()
        serializer = SnoozeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_snooze(alert=alert, user=request_user(request), until=serializer.validated_data["until"])
        return Response(AlertSerializer(alert).data)

    @extend_schema(request=DecideSerializer, responses={201: DecisionSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        """Decide (retire with `sunset_on`, invest, keep, reassign_owner with `new_owner`) with a rationale.

        Records the decision, applies it and resolves the alert.
        """
        alert = self.get_object()
        serializer = DecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = services.alert_decide(alert=alert, user=request_user(request), **serializer.validated_data)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)


class DecisionViewSet(ApiViewSet, CsvListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """Decisions on products, with their rationale, recorded by governance leads.

    A decision on an alert is made with `alerts/{id}/decide/`; this records one on a product directly.
    """

    access = access.DECISIONS
    serializer_class = DecisionSerializer
    filterset_class = DecisionFilter
    ordering_fields = ["id", "decided_at"]

    def get_queryset(self):
        return selectors.decision_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return services.decision_record(user=request_user(self.request), **data)
