"""Errors the services raise for bad input, shared by the API, the forms and the commands."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RowError:
    """One problem in one row of a bulk request or CSV file (rows are numbered from 1)."""

    row: int
    field: str
    message: str


@dataclass
class BulkValidationError(Exception):
    """Raised when any row of a bulk write is bad: nothing of the request was stored."""

    errors: list[RowError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(f"row {e.row}, {e.field}: {e.message}" for e in self.errors)

    def as_dict(self) -> dict[str, list[dict]]:
        """{"rows": [{"row": 3, "errors": {"value": ["..."]}}, ...]} for API answers."""
        by_row: dict[int, dict[str, list[str]]] = {}
        for error in self.errors:
            by_row.setdefault(error.row, {}).setdefault(error.field, []).append(error.message)
        return {"rows": [{"row": row, "errors": fields} for row, fields in sorted(by_row.items())]}
