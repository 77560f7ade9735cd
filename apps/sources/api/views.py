"""Data sources (read-only, with a `test` action that runs a query without storing) and pull runs."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import access
from apps.core.api.filters import IdFilter
from apps.core.api.viewsets import ReadOnlyApiViewSet
from apps.kpis.models import KPI
from apps.sources import selectors
from apps.sources.api.serializers import (
    DataSourceSerializer,
    PullRunSerializer,
    SourceTestInputSerializer,
    SourceTestResultSerializer,
)
from apps.sources.checking import RowStatus
from apps.sources.models import PullRun, PullStatus, PullTrigger
from apps.sources.services import query_preview


def _kpi_id(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 19:
        return int(raw)
    return None


class DataSourceViewSet(ReadOnlyApiViewSet):
    """Declared data sources: name, kind, and whether their variable is set (never its value).

    Admins declare sources in the Django admin. `test` runs a query read-only, with the source's
    time limit and row cap, and answers the rows it would store for a KPI, storing nothing.
    """

    access = access.DATA_SOURCES
    serializer_class = DataSourceSerializer
    ordering_fields = ["id", "name"]

    def get_queryset(self):
        return selectors.data_source_list()

    @extend_schema(request=SourceTestInputSerializer, responses={200: SourceTestResultSerializer})
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        """Run `query` on this source for KPI `kpi` and answer each row's status, storing nothing."""
        source = self.get_object()
        # Permission before validation: a KPI the user may not set the source of is 403, whatever the query.
        kpi_id = _kpi_id(request.data.get("kpi") if hasattr(request.data, "get") else None)
        kpi = KPI.objects.filter(pk=kpi_id).first() if kpi_id is not None else None
        if kpi is not None and access.forbidden_ids(KPI, [kpi.pk], request.user, access.SET_KPI_SOURCE):
            raise PermissionDenied("You may not set the source of this KPI.")
        if not access.may(request.user, access.SET_KPI_SOURCE):
            raise PermissionDenied("Your role does not allow this.")
        data = SourceTestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if kpi is None:
            raise serializers.ValidationError({"kpi": ["No KPI has this id."]})
        preview = query_preview(source=source, kpi=kpi, query=data.validated_data["query"])
        body = {
            "error": preview.error,
            "counts": {status.value: preview.count(status) for status in RowStatus},
            "rows": [verdict.as_dict() for verdict in preview.verdicts],
        }
        return Response(SourceTestResultSerializer(body).data)


class PullRunFilter(django_filters.FilterSet):
    kpi = IdFilter(field_name="kpi_id")
    source = IdFilter(field_name="source_id")
    status = django_filters.ChoiceFilter(choices=PullStatus.choices)
    trigger = django_filters.ChoiceFilter(choices=PullTrigger.choices)

    class Meta:
        model = PullRun
        fields = ["kpi", "source", "status", "trigger"]


class PullRunViewSet(ReadOnlyApiViewSet):
    """Every pull of a KPI from its source: when, rows read, stored, unchanged, refused with reasons, error."""

    access = access.PULL_RUNS
    serializer_class = PullRunSerializer
    filterset_class = PullRunFilter
    ordering_fields = ["id", "started_at"]

    def get_queryset(self):
        return selectors.pull_run_list()
