"""Costs of data products: one at a time, a JSON list (`bulk/`) or a CSV file (`import/`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import access
from apps.core.api.serializers import CsvUploadSerializer
from apps.core.api.views import upload_content
from apps.core.api.viewsets import ModelApiViewSet
from apps.costs import ingest, selectors
from apps.costs.api.filters import CostEntryFilter
from apps.costs.api.serializers import CostEntrySerializer, CostRowSerializer
from apps.costs.models import CostEntry
from apps.costs.services import cost_record, cost_update, costs_record_bulk


class CostEntryViewSet(ModelApiViewSet):
    """Money spent on data products, month by month. A product owner records costs of their own products."""

    access = access.COSTS
    serializer_class = CostEntrySerializer
    filterset_class = CostEntryFilter
    ordering_fields = ["id", "period_start", "amount", "recorded_at"]
    create_target = "data_product"

    def get_queryset(self):
        return selectors.cost_entry_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return cost_record(recorded_by=self.request.user, **data)

    def update_object(self, instance: CostEntry, data: dict[str, Any]) -> Model:
        if "data_product" in data:  # moving a line to another product: that one must be theirs too
            self.authorize_objects([data["data_product"]])
        return cost_update(cost_entry=instance, **data)

    @extend_schema(request=CostRowSerializer(many=True), responses={201: CostEntrySerializer(many=True)})
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Record a JSON list of cost lines, all or nothing (every bad row is reported)."""
        entries = ingest.cost_inputs_from_json(request.data, user=request.user)
        stored = costs_record_bulk(entries=entries, recorded_by=request.user)
        return Response(CostEntrySerializer(stored, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CsvUploadSerializer, responses={201: CostEntrySerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request: Request) -> Response:
        """Record the cost lines of a CSV file (columns data_product, period_start, amount, ...), all or nothing."""
        entries = ingest.cost_inputs_from_csv(upload_content(request), user=request.user)
        stored = costs_record_bulk(entries=entries, recorded_by=request.user)
        return Response(CostEntrySerializer(stored, many=True).data, status=status.HTTP_201_CREATED)
