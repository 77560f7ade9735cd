"""How errors become answers: a message per field, or per row for bulk writes.

Services raise Django's `ValidationError` (message per field) and the bulk writes raise
`BulkValidationError` (message per row and field); both become 400. `ForbiddenRowsError`
(some rows touch data the user may not write) becomes 403. A row still referenced elsewhere
(`ProtectedError`) and a write that lost a race on a unique constraint become 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.core.errors import BulkValidationError


class ForbiddenRowsError(BulkValidationError):
    """Some rows of a bulk write touch data the user may not write: 403, nothing stored.

    `errors` lists every problem of the request (forbidden rows and bad rows alike), so one
    answer tells the whole story; `forbidden_rows` are the row numbers refused for permission.
    """

    def __init__(self, errors: list, forbidden_rows: list[int]) -> None:
        super().__init__(errors)
        self.forbidden_rows = forbidden_rows


def django_errors(error: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as {field: [messages]} (errors without a field under non_field_errors)."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): list(messages)
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def bulk_body(error: BulkValidationError, *, forbidden: bool = False) -> dict[str, Any]:
    rows = {e.row for e in error.errors if e.row > 0}
    if forbidden:
        detail = "You may not write some of these rows; nothing was stored."
    elif rows:
        detail = f"{len(rows)} row(s) have errors; nothing was stored."
    else:
        detail = "The request cannot be read as a whole; nothing was stored."
    return {"detail": detail, **error.as_dict()}


def _is_unique_violation(error: IntegrityError) -> bool:
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate == "23505" or "UNIQUE constraint failed" in str(error)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus the domain's own errors."""
    if isinstance(exc, ForbiddenRowsError):
        return Response(bulk_body(exc, forbidden=True), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, BulkValidationError):
        return Response(bulk_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        return Response(django_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        referring = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in referring if hasattr(obj, "_meta")})
        referenced = ", ".join(str(kind) for kind in kinds) or "other records"
        return Response(
            {"detail": f"This cannot be deleted: {referenced} still refer to it."}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, IntegrityError) and _is_unique_violation(exc):
        # The checks before saving passed, so another request stored a conflicting row meanwhile.
        # Other integrity errors are bugs (validation should have caught them) and stay 500s.
        return Response(
            {"detail": "This conflicts with data stored meanwhile; reload and try again."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RequestDataTooBig):
        return Response({"detail": "The request body is too large."}, status=status.HTTP_400_BAD_REQUEST)
    return exception_handler(exc, context)
