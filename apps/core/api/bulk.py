"""The answer of a bulk write or CSV import: a summary, or (`?echo=rows`) every stored row.

A 10,000-row import that echoed its rows answered 1.9 MB and spent an eighth of its time
serialising them (issue 16); most callers only need to know it worked and which ids it wrote.
So the default answer is a summary (rows received, stored, corrections, unchanged, and the id
of each row in the order sent); `?echo=rows` gives the rows as before, for callers that want them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api.serializers import ApiSerializer

ECHO_ROWS = "rows"

ECHO_PARAMETER = OpenApiParameter(
    "echo",
    str,
    enum=[ECHO_ROWS],
    required=False,
    description="`rows`: answer with every stored row (as the list endpoint shows them) instead of the summary.",
)


class BulkSummarySerializer(ApiSerializer):
    """What a bulk write or import stored (the default answer)."""

    received = serializers.IntegerField(help_text="Rows in the request or file.")
    stored = serializers.IntegerField(
        help_text="Rows stored (corrections included): new revisions; for usage, new or changed counts."
    )
    corrections = serializers.IntegerField(
        help_text="Stored rows that replaced a current revision of the same key (for usage: a stored count)."
    )
    unchanged = serializers.IntegerField(
        help_text="Rows equal to the current revision (for usage: the stored count): nothing stored for them."
    )
    ids = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Per row sent, in order: the id of its stored revision, or of the current one it left unchanged.",
    )


def bulk_answer_schema(row_serializer: type[serializers.Serializer], name: str) -> PolymorphicProxySerializer:
    """The 201 answer's schema: the summary, or the list of rows with `?echo=rows`."""
    return PolymorphicProxySerializer(
        component_name=name,
        serializers=[BulkSummarySerializer, row_serializer(many=True)],
        resource_type_field_name=None,
        many=False,  # the proxy itself is one answer; its second form is a list (drf-spectacular's pattern)
    )


def echo_rows_wanted(request: Request) -> bool:
    """Whether the caller asked for the rows (`?echo=rows`); any other value is a 400.

    Views ask after the rows are checked (permission first: a refused row is a 403 whatever else is
    wrong) and before anything is stored (a 400 must leave nothing behind)."""
    echo = request.query_params.get("echo")
    if echo is None:
        return False
    if echo != ECHO_ROWS:
        raise ValidationError({"echo": [f"Give echo={ECHO_ROWS} for the stored rows, or leave it out for a summary."]})
    return True


def bulk_answer(
    *,
    echo: bool,
    ids: Sequence[int],
    stored: int,
    corrections: int,
    unchanged: int,
    rows: Callable[[Sequence[int]], Any],
) -> Response:
    """The 201 answer: the summary, or `rows(ids)` (serialised rows) when `echo` (`echo_rows_wanted`)."""
    if echo:
        return Response(rows(ids), status=status.HTTP_201_CREATED)
    summary = {"received": len(ids), "stored": stored, "corrections": corrections, "unchanged": unchanged, "ids": ids}
    return Response(summary, status=status.HTTP_201_CREATED)
