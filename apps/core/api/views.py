"""Helpers of API views that are not about scoping."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Far above MESHVALUE_MAX_IMPORT_ROWS rows of any import; stops a huge upload before it is read.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def upload_content(request: Request, field: str = "file") -> bytes:
    """The bytes of the uploaded file `field` (multipart form); 400 when there is none or it is huge."""
    upload = request.data.get(field) if hasattr(request.data, "get") else None
    if not isinstance(upload, UploadedFile):
        raise ValidationError({field: ["Upload a CSV file in the form field 'file' (multipart/form-data)."]})
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError({field: [f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."]})
    return upload.read()
