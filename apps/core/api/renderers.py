"""CSV output for `?format=csv`, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from rest_framework.renderers import BaseRenderer

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection,
# OWASP ASVS V1.2.10). Tab and carriage return are on OWASP's list too.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Plain numbers ("-12.50") are left alone: they are data, and prefixing them would turn them into text.
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$")


def csv_cell(value: Any) -> str:
    """One value as CSV text: lists and objects as JSON, formulas neutralised with a leading quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = json.dumps(value, separators=(",", ":"), default=str) if isinstance(value, (list, dict)) else str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_lines(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header line, then one line per row (missing keys are empty cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    writer.writerow([csv_cell(column) for column in columns])
    yield flush()
    for row in rows:
        writer.writerow([csv_cell(row.get(column)) for column in columns])
        yield flush()


def columns_of(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The keys of the rows in first-seen order."""
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


class CSVRenderer(BaseRenderer):
    """Renders a list of objects (or one object, or a page of `results`) as CSV with a header row.

    List endpoints stream their whole filtered result as CSV themselves
    (`apps.core.api.viewsets.ApiViewSet.list`); this renderer covers every other answer.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, Mapping) and isinstance(data.get("results"), list):
            data = data["results"]
        rows = [data] if isinstance(data, Mapping) else list(data) if isinstance(data, list) else [{"value": data}]
        rows = [row if isinstance(row, Mapping) else {"value": row} for row in rows]
        return "".join(csv_lines(columns_of(rows), rows)).encode("utf-8")
