"""KPIs with nested attributions, and outcomes: one at a time, a JSON list (`bulk/`) or a CSV file (`import/`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.auth import request_user
from apps.catalog.models import DataProduct
from apps.core.api import access
from apps.core.api.bulk import ECHO_PARAMETER, bulk_answer, bulk_answer_schema, echo_rows_wanted
from apps.core.api.serializers import CsvUploadSerializer
from apps.core.api.views import upload_content
from apps.core.api.viewsets import ApiViewSet, CsvListModelMixin, ModelApiViewSet
from apps.core.memory import cyclic_gc_paused
from apps.kpis import ingest, selectors, services
from apps.kpis.api.filters import KPIFilter, MeasurementFilter
from apps.kpis.api.serializers import (
    KPISerializer,
    MeasurementRowSerializer,
    MeasurementSerializer,
)
from apps.kpis.models import KPI, MeasurementSource


class KPIViewSet(ModelApiViewSet):
    """KPIs of goals, with `attributions` ({data_product, weight}) written through `attributions_set`.

    Executives manage every KPI. A product owner may create KPIs and edit those attributed to one
    of their products, and may only add, re-weight or remove attributions of their own products.
    """

    access = access.KPIS
    serializer_class = KPISerializer
    filterset_class = KPIFilter
    ordering_fields = ["id", "name", "goal"]

    def get_queryset(self):
        return selectors.kpi_list()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Permission before validation: a source is set only by those who may (403 before any 400).
        if _wants_source(request.data) and not access.may(request.user, access.SET_KPI_SOURCE):
            raise PermissionDenied("Your role does not allow setting a KPI's source.")
        return super().create(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        if _changes_source(instance, request.data) and access.forbidden_ids(
            KPI, [instance.pk], request.user, access.SET_KPI_SOURCE
        ):
            raise PermissionDenied("Your role does not allow changing this KPI's source or query.")
        return super().update(request, *args, **kwargs)

    def _attributions(self, data: dict[str, Any]) -> list[tuple[DataProduct, Any]] | None:
        rows = data.pop("attributions", None)
        return None if rows is None else [(row["data_product"], row["weight"]) for row in rows]

    def create_object(self, data: dict[str, Any]) -> Model:
        attributions = self._attributions(data) or []
        self.authorize_objects([product for product, _ in attributions], granted=access.ATTRIBUTE_PRODUCTS)
        # A product owner sets the source of a KPI attributed to one of their own products.
        if (
            (data.get("source") is not None or data.get("source_query"))
            and access.scope_of(self.request.user, access.SET_KPI_SOURCE) is not access.Scope.ALL
            and not any(product.owner_id == self.request.user.pk for product, _ in attributions)
        ):
            raise PermissionDenied("Only the owner of a product this KPI is attributed to may set its source.")
        return services.kpi_create(attributions=attributions, **data)

    def update_object(self, instance: KPI, data: dict[str, Any]) -> Model:
        attributions = self._attributions(data)
        if attributions is not None:
            current = {a.data_product_id: a for a in instance.attributions.all()}
            wanted = {product.pk: (product, weight) for product, weight in attributions}
            touched = [
                product for pk, (product, weight) in wanted.items() if pk not in current or current[pk].weight != weight
            ]
            touched += [a.data_product for pk, a in current.items() if pk not in wanted]
            self.authorize_objects(touched, granted=access.ATTRIBUTE_PRODUCTS)
        return services.kpi_update(kpi=instance, attributions=attributions, **data)

    def delete_object(self, instance: KPI) -> None:
        services.kpi_delete(kpi=instance)


def _wants_source(data: Any) -> bool:
    """Whether a request body sets a source or a query."""
    if not hasattr(data, "get"):
        return False
    return data.get("source") not in (None, "") or data.get("source_query") not in (None, "")


def _changes_source(instance: KPI, data: Any) -> bool:
    """Whether a request body would change the KPI's source or query (compared raw, before validation)."""
    if not hasattr(data, "get"):
        return False
    if "source" in data:
        raw = data.get("source")
        wanted = None if raw in (None, "") else str(raw)
        if wanted != (None if instance.source_id is None else str(instance.source_id)):
            return True
    if "source_query" in data:
        raw_query = data.get("source_query")
        if not isinstance(raw_query, str) or raw_query.strip() != instance.source_query:
            return True
    return False


class MeasurementViewSet(ApiViewSet, CsvListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin):
    """KPI outcomes; append-only: a value for a (KPI, period) that has one is a correction, stored as
    a new current revision. A product owner records outcomes of KPIs attributed to their products."""

    access = access.MEASUREMENTS
    serializer_class = MeasurementSerializer
    filterset_class = MeasurementFilter
    ordering_fields = ["id", "period_start", "recorded_at", "revision"]
    create_target = "kpi"

    def get_queryset(self):
        return selectors.measurement_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return services.measurement_record(source=MeasurementSource.API, recorded_by=request_user(self.request), **data)

    @extend_schema(
        request=MeasurementRowSerializer(many=True),
        parameters=[ECHO_PARAMETER],
        responses={201: bulk_answer_schema(MeasurementSerializer, "MeasurementBulkAnswer")},
    )
    @action(detail=False, methods=["post"])
    @cyclic_gc_paused()
    def bulk(self, request: Request) -> Response:
        """Record a JSON list of outcomes, all or nothing (every bad row is reported).

        Answers a summary (rows stored, corrections, unchanged, the id of each row); `?echo=rows`
        answers the stored rows instead."""
        entries = ingest.measurement_inputs_from_json(request.data, user=request.user)
        return self._record(request, entries, MeasurementSource.API)

    @extend_schema(
        request=CsvUploadSerializer,
        parameters=[ECHO_PARAMETER],
        responses={201: bulk_answer_schema(MeasurementSerializer, "MeasurementBulkAnswer")},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    @cyclic_gc_paused()
    def import_csv(self, request: Request) -> Response:
        """Record the outcomes of a CSV file (columns kpi, period_start, value, note), all or nothing.

        Answers as `bulk/` does."""
        entries = ingest.measurement_inputs_from_csv(upload_content(request), user=request.user)
        return self._record(request, entries, MeasurementSource.CSV)

    def _record(self, request: Request, entries: Sequence[services.MeasurementInput], source: str) -> Response:
        echo = echo_rows_wanted(request)
        recorded = services.measurements_record_bulk(entries=entries, source=source, recorded_by=request_user(request))
        return bulk_answer(
            echo=echo,
            ids=recorded.ids,
            stored=recorded.stored,
            corrections=recorded.corrections,
            unchanged=recorded.unchanged,
            rows=lambda ids: MeasurementSerializer(selectors.measurements_by_ids(ids), many=True).data,
        )
