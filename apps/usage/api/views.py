"""Usage of data products, pushed by pipelines as JSON lists."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import access
from apps.core.api.viewsets import ApiViewSet, CsvListModelMixin
from apps.core.memory import cyclic_gc_paused
from apps.usage import ingest, selectors, services
from apps.usage.api.filters import UsageRecordFilter
from apps.usage.api.serializers import UsageRecordSerializer, UsageRowSerializer
from apps.usage.models import UsageRecord


class UsageRecordViewSet(ApiViewSet, CsvListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """How often consumers used data products, day by day.

    `POST usage/` takes a JSON list; a (data_product, day, consumer) already stored gets the new
    count (upsert: pipelines send the day's total, so a retry changes nothing). A product owner
    records usage of their own products.
    """

    access = access.USAGE
    serializer_class = UsageRecordSerializer
    filterset_class = UsageRecordFilter
    ordering_fields = ["id", "day", "count", "consumer"]

    def get_queryset(self):
        return selectors.usage_record_list()

    @extend_schema(request=UsageRowSerializer(many=True), responses={201: UsageRecordSerializer(many=True)})
    @cyclic_gc_paused()
    def create(self, request: Request) -> Response:
        """Store a JSON list of usage counts, all or nothing (every bad row is reported)."""
        entries = ingest.usage_inputs_from_json(request.data, user=request.user)
        stored = services.usage_record_bulk(entries=entries)
        return Response(UsageRecordSerializer(stored, many=True).data, status=status.HTTP_201_CREATED)

    def delete_object(self, instance: UsageRecord) -> None:
        services.usage_record_delete(usage_record=instance)
