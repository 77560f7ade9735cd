"""Validation of a document against its format's published JSON Schema (vendored in `schemas/`)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import validators

from apps.interchange.files import FileProblem
from apps.interchange.lifecycle import BITOL, DATAHUB, ODPS4

SCHEMAS = Path(__file__).resolve().parent / "schemas"
SCHEMA_FILES = {
    BITOL: SCHEMAS / "bitol" / "odps-json-schema-v1.0.0.json",
    ODPS4: SCHEMAS / "odps4" / "odps.yaml",
    DATAHUB: SCHEMAS / "datahub" / "dataproduct.schema.json",
}
MAX_ERRORS_PER_FILE = 50


@cache
def _validator(file_format: str) -> Any:
    path = SCHEMA_FILES[file_format]
    text = path.read_text(encoding="utf-8")
    schema = yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)
    cls = validators.validator_for(schema)  # Bitol: draft 2019-09; ODPS 4.1 and ours: 2020-12
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def field_path(parts: Any) -> str:
    """`team.members[0].username` from a jsonschema path."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_problems(file_format: str, file: str, document: Any) -> list[FileProblem]:
    """Every way `document` breaks the format's schema, by field path (at most MAX_ERRORS_PER_FILE)."""
    errors = sorted(_validator(file_format).iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [FileProblem(file, field_path(error.absolute_path), error.message) for error in errors]
    return problems[:MAX_ERRORS_PER_FILE]
