"""Costs of data products (one at a time, `bulk/`, `import/`), cloud-bill imports, allocation rules, exchange rates."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import Model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.auth import request_user
from apps.core.api import access
from apps.core.api.bulk import ECHO_PARAMETER, bulk_answer, bulk_answer_schema, echo_rows_wanted
from apps.core.api.serializers import CsvUploadSerializer
from apps.core.api.views import upload_content
from apps.core.api.viewsets import ModelApiViewSet, ReadOnlyApiViewSet
from apps.core.memory import cyclic_gc_paused
from apps.costs import allocation as alloc
from apps.costs import ingest, rules, selectors
from apps.costs.api.filters import CostEntryFilter
from apps.costs.api.serializers import (
    AllocationPreviewSerializer,
    AllocationReorderSerializer,
    AllocationRuleSerializer,
    CostEntrySerializer,
    CostImportSerializer,
    CostImportUploadSerializer,
    CostRowSerializer,
    ExchangeRateSerializer,
)
from apps.costs.focus import FocusError
from apps.costs.imports import (
    cost_import_create,
    cost_import_preview,
    cost_import_reapply,
    import_directory,
    rules_current,
)
from apps.costs.models import AllocationRule, CostEntry, CostImportStatus, CostSource, ExchangeRate
from apps.costs.services import CostInput, cost_record, cost_update, costs_record_many

BILL_SUFFIXES = (".csv", ".csv.gz", ".parquet")


class CostEntryViewSet(ModelApiViewSet):
    """Money spent on data products, month by month. A product owner records costs of their own products."""

    access = access.COSTS
    serializer_class = CostEntrySerializer
    filterset_class = CostEntryFilter
    ordering_fields = ["id", "period_start", "amount", "recorded_at"]
    create_target = "data_product"

    def get_queryset(self):
        # Lists show current entries; `?is_current=false` shows the superseded revisions (history).
        if self.action == "list" and "is_current" not in self.request.query_params:
            return selectors.cost_entry_list()
        return selectors.cost_entry_history()

    def create_object(self, data: dict[str, Any]) -> Model:
        return cost_record(source=CostSource.API, recorded_by=request_user(self.request), **data)

    def update_object(self, instance: CostEntry, data: dict[str, Any]) -> Model:
        if "data_product" in data:  # moving a line to another product: that one must be theirs too
            self.authorize_objects([data["data_product"]])
        return cost_update(cost_entry=instance, source=CostSource.API, recorded_by=request_user(self.request), **data)

    @extend_schema(
        request=CostRowSerializer(many=True),
        parameters=[ECHO_PARAMETER],
        responses={201: bulk_answer_schema(CostEntrySerializer, "CostEntryBulkAnswer")},
    )
    @action(detail=False, methods=["post"])
    @cyclic_gc_paused()
    def bulk(self, request: Request) -> Response:
        """Record a JSON list of cost lines, all or nothing (every bad row is reported).

        Answers a summary (lines stored, corrections, unchanged, the id of each line); `?echo=rows`
        answers the entries instead."""
        entries = ingest.cost_inputs_from_json(request.data, user=request.user)
        return self._record(request, entries, CostSource.API)

    @extend_schema(
        request=CsvUploadSerializer,
        parameters=[ECHO_PARAMETER],
        responses={201: bulk_answer_schema(CostEntrySerializer, "CostEntryBulkAnswer")},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    @cyclic_gc_paused()
    def import_csv(self, request: Request) -> Response:
        """Record the cost lines of a CSV file (columns data_product, period_start, amount, ...), all or nothing.

        Answers as `bulk/` does."""
        entries = ingest.cost_inputs_from_csv(upload_content(request), user=request.user)
        return self._record(request, entries, CostSource.CSV)

    def _record(self, request: Request, entries: list[CostInput], source: str) -> Response:
        echo = echo_rows_wanted(request)
        recorded = costs_record_many(entries=entries, source=source, recorded_by=request_user(request))
        return bulk_answer(
            echo=echo,
            ids=[entry.pk for entry in recorded.entries],
            stored=recorded.stored,
            corrections=recorded.corrections,
            unchanged=recorded.unchanged,
            rows=lambda _ids: CostEntrySerializer(recorded.entries, many=True).data,
        )


def _save_upload(upload: UploadedFile) -> Path:
    """Stream an uploaded billing file into the import directory (never read whole into memory)."""
    name = Path(upload.name or "bill.csv").name
    if not name.lower().endswith(BILL_SUFFIXES):
        raise ValidationError({"file": [f"Upload a FOCUS export ending in {', '.join(BILL_SUFFIXES)}."]})
    target = import_directory() / f"{uuid.uuid4().hex}-{name[-120:]}"
    with open(target, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return target


class CostImportViewSet(ReadOnlyApiViewSet):
    """Imports of cloud bills (FOCUS): upload one (202, then follow `status` and `progress`), read its result.

    Governance leads and admins import; everyone else reads.
    """

    access = access.COST_IMPORTS
    serializer_class = CostImportSerializer
    parser_classes = [MultiPartParser]
    ordering_fields = ["id", "created_at"]
    filterset_fields = ["status"]

    def get_queryset(self):
        return selectors.cost_import_list()

    @extend_schema(request={"multipart/form-data": CostImportUploadSerializer}, responses={202: CostImportSerializer})
    def create(self, request: Request) -> Response:
        """Upload a FOCUS export (csv, csv.gz or Parquet); it is imported by a worker."""
        upload = request.data.get("file") if hasattr(request.data, "get") else None
        if not isinstance(upload, UploadedFile):
            raise ValidationError(
                {"file": ["Upload the billing export in the form field 'file' (multipart/form-data)."]}
            )
        path = _save_upload(upload)
        cost_import = cost_import_create(
            file_name=Path(upload.name or path.name).name, file_path=path, created_by=request_user(request)
        )
        return Response(CostImportSerializer(cost_import).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: CostImportSerializer})
    @action(detail=True, methods=["post"], parser_classes=[JSONParser])
    def reapply(self, request: Request, pk: str | None = None) -> Response:
        """Allocate this import's stored sums again with the current rules (changed totals become revisions)."""
        cost_import = self.get_object()
        if cost_import.status != CostImportStatus.SUCCEEDED:
            raise ValidationError({"status": ["Only a succeeded import can be re-applied."]})
        try:
            cost_import = cost_import_reapply(cost_import=cost_import)
        except FocusError as error:
            raise ValidationError({"rates": error.errors}) from error
        return Response(CostImportSerializer(cost_import).data)


def _targets(rows: list[dict[str, Any]] | None) -> list[tuple[Any, Any]] | None:
    return None if rows is None else [(row["data_product"], row.get("weight")) for row in rows]


class AllocationRuleViewSet(ModelApiViewSet):
    """How billing lines find their data product, tried in `position` order (first match wins).

    Governance leads and admins write, reorder and preview; everyone else reads.
    """

    access = access.ALLOCATION_RULES
    serializer_class = AllocationRuleSerializer
    ordering_fields = ["position", "id"]

    def get_queryset(self):
        return selectors.allocation_rule_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        targets = _targets(data.pop("targets", [])) or []
        return rules.allocation_rule_create(targets=targets, **data)

    def update_object(self, instance: AllocationRule, data: dict[str, Any]) -> Model:
        return rules.allocation_rule_update(rule=instance, targets=_targets(data.pop("targets", None)), **data)

    def delete_object(self, instance: AllocationRule) -> None:
        rules.allocation_rule_delete(rule=instance)

    @extend_schema(request=AllocationReorderSerializer, responses={200: AllocationRuleSerializer(many=True)})
    @action(detail=False, methods=["post"])
    def reorder(self, request: Request) -> Response:
        """Put every rule in the order given."""
        serializer = AllocationReorderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ordered = rules.allocation_rules_reorder(rule_ids=serializer.validated_data["rules"])
        return Response(AllocationRuleSerializer(ordered, many=True).data)

    @extend_schema(request=AllocationPreviewSerializer, responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """What the last import (or `cost_import`) would allocate with `rules` (default: the stored ones)."""
        serializer = AllocationPreviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        given = serializer.validated_data.get("rules")
        if given is None:
            values = rules_current()
        else:
            values = []
            for position, row in enumerate(given, start=1):
                targets = _targets(row.pop("targets", [])) or []
                row.setdefault("position", position)
                errors = alloc.rule_errors(rules.rule_value(fields=row, targets=targets))
                if errors:
                    raise ValidationError({f"rules[{position}].{name}": [message] for name, message in errors.items()})
                values.append(rules.rule_value(fields=row, targets=targets))
        preview = cost_import_preview(rules=values, cost_import=serializer.validated_data.get("cost_import"))
        if preview is None:
            raise ValidationError(
                {"cost_import": ["No import has succeeded yet: there is nothing to preview against."]}
            )
        return Response(preview)


class ExchangeRateViewSet(ModelApiViewSet):
    """Monthly exchange rates into the configured currency, for bills in other currencies."""

    access = access.EXCHANGE_RATES
    serializer_class = ExchangeRateSerializer
    ordering_fields = ["month", "currency"]
    filterset_fields = ["currency", "month"]

    def get_queryset(self):
        return selectors.exchange_rate_list()

    def create_object(self, data: dict[str, Any]) -> Model:
        return rules.exchange_rate_save(**data)

    def update_object(self, instance: ExchangeRate, data: dict[str, Any]) -> Model:
        return rules.exchange_rate_save(exchange_rate=instance, **data)
