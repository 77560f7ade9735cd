"""Usage of data products, pushed by pipelines as JSON lists."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import access
from apps.core.api.bulk import ECHO_PARAMETER, bulk_answer, bulk_answer_schema, echo_rows_wanted
from apps.core.api.viewsets import ApiViewSet, CsvListModelMixin
from apps.core.memory import cyclic_gc_paused
from apps.usage import ingest, selectors, services
from apps.usage.api.filters import UsageRecordFilter
from apps.usage.api.serializers import UsageRecordSerializer, UsageRowSerializer
from apps.usage.models import UsageRecord


class UsageRecordViewSet(ApiViewSet, CsvListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin):
    """How often consumers used data products, day by day.

    `POST usage/` takes a JSON list; a (data_product, day, consumer) already stored gets the new
    count (upsert: pipelines send the day's total, so a retry changes nothing), and the answer is
    the bulk writes' summary. A product owner records usage of their own products.
    """

    access = access.USAGE
    serializer_class = UsageRecordSerializer
    filterset_class = UsageRecordFilter
    ordering_fields = ["id", "day", "count", "consumer"]

    def get_queryset(self):
        return selectors.usage_record_list()

    @extend_schema(
        request=UsageRowSerializer(many=True),
        parameters=[ECHO_PARAMETER],
        responses={201: bulk_answer_schema(UsageRecordSerializer, "UsageBulkAnswer")},
    )
    @cyclic_gc_paused()
    def create(self, request: Request) -> Response:
        """Store a JSON list of usage counts, all or nothing (every bad row is reported).

        Answers a summary (rows stored, corrections, unchanged, the id of each row), as the other
        bulk writes do; `?echo=rows` answers the records instead."""
        entries = ingest.usage_inputs_from_json(request.data, user=request.user)
        echo = echo_rows_wanted(request)
        recorded = services.usage_record_bulk(entries=entries)
        return bulk_answer(
            echo=echo,
            ids=[record.pk for record in recorded.records],
            stored=recorded.stored,
            corrections=recorded.corrections,
            unchanged=recorded.unchanged,
            rows=lambda _ids: UsageRecordSerializer(recorded.records, many=True).data,
        )

    def delete_object(self, instance: UsageRecord) -> None:
        services.usage_record_delete(usage_record=instance)
