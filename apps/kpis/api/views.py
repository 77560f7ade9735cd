"""KPIs with nested attributions, and outcomes: one at a time, a JSON list (`bulk/`) or a CSV file (`import/`)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import DataProduct
from apps.core.api import access
from apps.core.api.serializers import CsvUploadSerializer
from apps.core.api.views import upload_content
from apps.core.api.viewsets import ApiViewSet, CsvListModelMixin, ModelApiViewSet
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

    def _attributions(self, data: dict[str, Any]) -> list[tuple[DataProduct, Any]] | None:
        rows = data.pop("attributions", None)
        return None if rows is None else [(row["data_product"], row["weight"]) for row in rows]

    def create_object(self, data: dict[str, Any]) -> Model:
        attributions = self._attributions(data) or []
        self.authorize_objects([product for product, _ in attributions], granted=access.ATTRIBUTE_PRODUCTS)
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
        return services.measurement_record(source=MeasurementSource.API, recorded_by=self.request.user, **data)

    @extend_schema(request=MeasurementRowSerializer(many=True), responses={201: MeasurementSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def bulk(self, request: Request) -> Response:
        """Record a JSON list of outcomes, all or nothing (every bad row is reported)."""
        entries = ingest.measurement_inputs_from_json(request.data, user=request.user)
        created = services.measurements_record_bulk(
            entries=entries, source=MeasurementSource.API, recorded_by=request.user
        )
        return Response(MeasurementSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CsvUploadSerializer, responses={201: MeasurementSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_csv(self, request: Request) -> Response:
        """Record the outcomes of a CSV file (columns kpi, period_start, value, note), all or nothing."""
        entries = ingest.measurement_inputs_from_csv(upload_content(request), user=request.user)
        created = services.measurements_record_bulk(
            entries=entries, source=MeasurementSource.CSV, recorded_by=request.user
        )
        return Response(MeasurementSerializer(created, many=True).data, status=status.HTTP_201_CREATED)
