"""`POST data-products/import/` (multipart: a YAML file or a zip) and `GET data-products/export/` (a zip)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import DataProduct
from apps.core.api import access
from apps.core.api.serializers import ErrorSerializer
from apps.core.api.viewsets import ApiViewSet
from apps.interchange.api.serializers import (
    ExportQuerySerializer,
    ImportErrorSerializer,
    ImportRequestSerializer,
    ImportResultSerializer,
)
from apps.interchange.exports import products_export, zip_of
from apps.interchange.files import FileProblem, FilesRefused, sources_from_upload
from apps.interchange.services import ImportFailed, ImportResult, products_import

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class _FileFormatNegotiation(DefaultContentNegotiation):
    """Here `?format=` names the catalog file format, not a renderer: answers are JSON (or the zip)."""

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def result_body(result: ImportResult) -> dict[str, Any]:
    """An import's result as the API and the web page show it."""

    def outcomes(name: str) -> list[dict[str, Any]]:
        return [{"file": p.file, "slug": p.slug, "changes": p.changes} for p in result.of(name)]

    return {
        "format": result.file_format,
        "dry_run": result.dry_run,
        "created": outcomes("created"),
        "updated": outcomes("updated"),
        "unchanged": outcomes("unchanged"),
        "skipped": [{"file": s.file, "what": s.what, "why": s.why} for s in result.skipped],
        "domains_created": result.domains_created,
    }


def problems_body(problems: list[FileProblem]) -> dict[str, Any]:
    return {
        "detail": f"{len(problems)} problem(s) in the files; nothing was stored.",
        "problems": [{"file": p.file, "path": p.path, "message": p.message} for p in problems],
    }


class DataProductFilesViewSet(ApiViewSet):
    """Data products in and out as catalog files: Bitol ODPS v1, ODPS 4.1 (and DataHub YAML, import only).

    Importing is for governance leads and administrators; every role may export.
    """

    access = access.DATA_PRODUCT_FILES
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _FileFormatNegotiation
    pagination_class = None
    # What OPTIONS describes (DRF's metadata needs one; without it OPTIONS was a 500).
    serializer_class = ImportRequestSerializer

    def get_queryset(self):
        return DataProduct.objects.none()

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: ImportResultSerializer,
            400: ImportErrorSerializer,
            403: ErrorSerializer,
        },
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser])
    def import_files(self, request: Request) -> Response:
        """Import products from one YAML file or a zip, all or nothing; `dry_run` reports only."""
        serializer = ImportRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload: UploadedFile = serializer.validated_data["file"]
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError({"file": [f"The upload is larger than {MAX_UPLOAD_BYTES // 2**20} MB."]})
        try:
            sources, skipped = sources_from_upload(upload.name or "upload.yaml", upload.read())
            result = products_import(
                sources=sources,
                skipped=skipped,
                file_format=serializer.validated_data["format"],
                dry_run=serializer.validated_data["dry_run"],
                create_domains=serializer.validated_data["create_domains"],
            )
        except FilesRefused as error:
            return Response(problems_body(error.problems), status=status.HTTP_400_BAD_REQUEST)
        except ImportFailed as error:
            return Response(problems_body(error.result.problems), status=status.HTTP_400_BAD_REQUEST)
        return Response(result_body(result))

    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="A zip of <slug>.yaml files."),
            400: ErrorSerializer,
        },
    )
    @action(detail=False, methods=["get"], url_path="export")
    def export_files(self, request: Request) -> HttpResponse:
        """A zip of one `<slug>.yaml` per product, optionally by domain, lifecycle or decisions since a date."""
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        file_format = query.validated_data["format"]
        files = products_export(
            file_format=file_format,
            domain_slug=query.validated_data.get("domain"),
            lifecycle=query.validated_data.get("lifecycle"),
            decided_since=query.validated_data.get("decided_since"),
        )
        return zip_response(files, file_format)


def zip_response(files: dict[str, bytes], file_format: str) -> HttpResponse:
    response = HttpResponse(zip_of(files), content_type="application/zip")
    name = f"data-products-{file_format}-{timezone.localdate().isoformat()}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
