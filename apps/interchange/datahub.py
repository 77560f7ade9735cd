"""DataHub's data product YAML (`datahub dataproduct upsert -f`): id, domain, display_name, owners, properties.

Read: `id` (or its `urn:li:dataProduct:` URN) is the product's slug; `display_name` the name;
`description`; `domain` (a name or slug, or `urn:li:domain:<slug>`); the owner is the first user
among `owners` (`urn:li:corpuser:<username>`, a bare username or e-mail, or `{id, type}`);
groups are skipped. meshvalue's own fields are `properties` named `meshvalue.<field>`:
`lifecycle` (meshvalue's names), `launchedOn`, `sunsetOn`, `goals` (comma-separated slugs).
`assets`, `terms`, `tags`, `institutional_memory` and `external_url` are DataHub's and not stored.
DataHub files are imported only; exports are Bitol or ODPS 4.
"""

from __future__ import annotations

from typing import Any

from apps.interchange.files import Skipped
from apps.interchange.lifecycle import DATAHUB
from apps.interchange.records import PREFIX, ProductRecord, Reader

KNOWN = frozenset({"lifecycle", "launchedOn", "sunsetOn", "goals"})


def _strip(value: str, prefix: str) -> str:
    return value[len(prefix) :] if value.startswith(prefix) else value


def parse(document: dict[str, Any], reader: Reader) -> ProductRecord | None:
    raw_id = document.get("id")
    slug = reader.slug(_strip(raw_id, "urn:li:dataProduct:") if isinstance(raw_id, str) else raw_id, "id")
    if slug is None:
        return None
    record = ProductRecord(file=reader.file, slug=slug)
    if document.get("display_name") is not None:
        record.fields["name"] = reader.text(document["display_name"], "display_name", max_length=200)
    if document.get("description") is not None:
        record.fields["description"] = reader.text(document["description"], "description")
    domain = document.get("domain")
    record.domain = reader.text(_strip(domain, "urn:li:domain:") if isinstance(domain, str) else domain, "domain")
    for index, owner in enumerate(document.get("owners") or []):
        urn = owner.get("id") if isinstance(owner, dict) else owner
        if not isinstance(urn, str):
            continue
        if urn.startswith("urn:li:corpGroup:"):
            record.skipped.append(Skipped(reader.file, f"owners[{index}]", "a group cannot own a product in meshvalue"))
            continue
        if record.owner is None:
            record.owner = reader.text(_strip(urn, "urn:li:corpuser:"), f"owners[{index}]")
    properties = document.get("properties") or {}
    for key, value in properties.items():
        if not key.startswith(PREFIX):
            continue
        name, path = key[len(PREFIX) :], f"properties.{key}"
        if name == "lifecycle":
            record.fields["lifecycle"] = reader.lifecycle(DATAHUB, value, path)
        elif name in ("launchedOn", "sunsetOn"):
            record.fields["launched_on" if name == "launchedOn" else "sunset_on"] = reader.day(value, path)
        elif name == "goals":
            record.goals = reader.slugs(value, path)
        else:
            record.skipped.append(Skipped(reader.file, path, "not a field meshvalue reads"))
    return record
