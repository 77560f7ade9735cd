"""What a catalog file says about one data product, whatever its format: the input of an import.

Each format module (`bitol`, `odps4`, `datahub`) turns a validated document into a
`ProductRecord`; the import (`apps.interchange.services`) matches and writes records the same way
for every format. A field a file does not give is None and is left as it is on an existing product.
meshvalue's own fields travel under the `meshvalue.` prefix (DESIGN.md, "Standards").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug

from apps.core.api.ingest import FieldError, parse_date, parse_decimal, parse_text
from apps.interchange.files import FileProblem, Skipped
from apps.interchange.lifecycle import UnknownStatus, lifecycle_from_status
from apps.kpis.models import CadenceChoices, Direction

PREFIX = "meshvalue."

# The KPI fields of meshvalue, by the camelCase name files use (Bitol's `meshvalue.kpis` items;
# ODPS 4 KPI items carry them as `meshvalue.<name>` beside the standard ones).
KPI_KEYS = (
    "goal",
    "name",
    "description",
    "unit",
    "direction",
    "cadence",
    "baseline",
    "target",
    "targetDate",
    "valuePerUnit",
    "weight",
    "startsOn",
    "attributionBaseline",
)
CADENCE_NAMES = {
    "weekly": CadenceChoices.WEEKLY,
    "week": CadenceChoices.WEEKLY,
    "monthly": CadenceChoices.MONTHLY,
    "month": CadenceChoices.MONTHLY,
    "quarterly": CadenceChoices.QUARTERLY,
    "quarter": CadenceChoices.QUARTERLY,
}
# ODPS 4 also has at_least/at_most/equals; a KPI in meshvalue is better either up or down.
DIRECTION_NAMES = {
    "increase": Direction.INCREASE,
    "at_least": Direction.INCREASE,
    "decrease": Direction.DECREASE,
    "at_most": Direction.DECREASE,
}


@dataclass
class KpiRecord:
    """A KPI of a goal the product is credited for, with its attribution (weight, start, baseline)."""

    path: str
    goal: str | None
    name: str
    fields: dict[str, Any] = field(default_factory=dict)  # KPI fields given (model names)
    weight: Decimal | None = None
    starts_on: date | None = None
    attribution_baseline: Decimal | None = None


@dataclass
class ProductRecord:
    """One file's data product: the fields it gives (model names), and references still to resolve."""

    file: str
    slug: str
    fields: dict[str, Any] = field(default_factory=dict)  # name, description, lifecycle, launched_on, sunset_on
    domain: str | None = None  # a domain's name or slug
    owner: str | None = None  # a user's username or e-mail
    goals: list[str] | None = None  # goal slugs; None: leave the product's goals as they are
    kpis: list[KpiRecord] | None = None  # None: the file says nothing about KPIs
    skipped: list[Skipped] = field(default_factory=list)


class Reader:
    """Parses values of one file, collecting a problem per bad field instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[FileProblem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(FileProblem(self.file, path, message))

    def _parse(self, parse: Callable[[Any], Any], value: Any, path: str) -> Any:
        try:
            return parse(value)
        except FieldError as error:
            self.problem(path, str(error))
            return None

    def text(self, value: Any, path: str, *, max_length: int | None = None) -> str | None:
        if value is None:
            return None
        return self._parse(lambda v: parse_text(v, max_length=max_length), value, path)

    def decimal(self, value: Any, path: str) -> Decimal | None:
        return None if value is None else self._parse(parse_decimal, value, path)

    def day(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, str) and len(value) > 10 and value[10] == "T":
            value = value[:10]  # a timestamp: its day
        return self._parse(parse_date, value, path)

    def slug(self, value: Any, path: str) -> str | None:
        text = self.text(value, path, max_length=200)
        if not text:
            if text == "":
                self.problem(path, "The id is empty.")
            return None
        try:
            validate_slug(text)
        except ValidationError:
            self.problem(
                path, f"The id {text!r} must be letters, numbers, hyphens or underscores (it becomes the slug)."
            )
            return None
        return text

    def lifecycle(self, file_format: str, value: Any, path: str) -> str | None:
        try:
            return lifecycle_from_status(file_format, value)
        except UnknownStatus as error:
            self.problem(path, str(error))
            return None

    def slugs(self, value: Any, path: str) -> list[str] | None:
        """A list of slugs from a YAML list or a comma-separated string."""
        if value is None:
            return None
        items = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            self.problem(path, "Give a list of goal slugs.")
            return None
        return list(dict.fromkeys(items))

    def kpi(self, values: Mapping[str, Any], path: str, *, default_goal: str | None) -> KpiRecord | None:
        """A KpiRecord from a mapping keyed by KPI_KEYS; problems go to the reader."""
        name = self.text(values.get("name"), f"{path}.name", max_length=200)
        if not name:
            self.problem(f"{path}.name", "A KPI needs a name.")
            return None
        goal = self.text(values.get("goal"), f"{path}.goal", max_length=200) or default_goal
        given: dict[str, Any] = {}
        for key, model_field in (("description", "description"), ("unit", "unit")):
            if values.get(key) is not None:
                given[model_field] = self.text(values[key], f"{path}.{key}", max_length=40 if key == "unit" else None)
        for key, model_field in (("baseline", "baseline"), ("target", "target"), ("valuePerUnit", "value_per_unit")):
            if values.get(key) is not None:
                given[model_field] = self.decimal(values[key], f"{path}.{key}")
        if values.get("targetDate") is not None:
            given["target_date"] = self.day(values["targetDate"], f"{path}.targetDate")
        if values.get("direction") is not None:
            direction = DIRECTION_NAMES.get(str(values["direction"]).strip().lower())
            if direction is None:
                self.problem(
                    f"{path}.direction",
                    f"Unknown direction {values['direction']!r}; accepted: {', '.join(DIRECTION_NAMES)}.",
                )
            given["direction"] = direction
        if values.get("cadence") is not None:
            cadence = CADENCE_NAMES.get(str(values["cadence"]).strip().lower())
            if cadence is None:
                self.problem(
                    f"{path}.cadence", f"Unknown cadence {values['cadence']!r}; accepted: {', '.join(CADENCE_NAMES)}."
                )
            given["cadence"] = cadence
        return KpiRecord(
            path=path,
            goal=goal,
            name=name,
            fields=given,
            weight=self.decimal(values.get("weight"), f"{path}.weight"),
            starts_on=self.day(values.get("startsOn"), f"{path}.startsOn"),
            attribution_baseline=self.decimal(values.get("attributionBaseline"), f"{path}.attributionBaseline"),
        )


def custom_properties(items: Any) -> dict[str, tuple[int, Any]]:
    """The `meshvalue.` entries of a Bitol-style `customProperties` list: name -> (index, value)."""
    found: dict[str, tuple[int, Any]] = {}
    for index, item in enumerate(items or []):
        if isinstance(item, Mapping) and isinstance(item.get("property"), str) and item["property"].startswith(PREFIX):
            found[item["property"][len(PREFIX) :]] = (index, item.get("value"))
    return found


def decimal_text(value: Decimal | None) -> str | None:
    """A Decimal as exact text without trailing zeros ("12.5", "100"), for files."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
