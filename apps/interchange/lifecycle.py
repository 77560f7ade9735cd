"""The lifecycle of a data product in each file format, and back: the one mapping (DESIGN.md, "Standards").

| meshvalue | Bitol ODPS v1 | ODPS 4.x | DataHub `properties.meshvalue.lifecycle` |
|---|---|---|---|
| proposed | `proposed`, `draft` | `announcement`, `draft`, `development`, `testing`, `acceptance` | `proposed` |
| active | `active` | `production` | `active` |
| deprecated | `deprecated` | `sunset` | `deprecated` |
| retired | `retired` | `retired` | `retired` |

Statuses are compared ignoring case and surrounding spaces. Any other status is refused, with
the list of the accepted ones: a status meshvalue does not know is never guessed.
"""

from __future__ import annotations

from types import MappingProxyType

from apps.catalog.models import Lifecycle

BITOL, ODPS4, DATAHUB = "bitol", "odps4", "datahub"
FORMATS = (BITOL, ODPS4, DATAHUB)
EXPORT_FORMATS = (BITOL, ODPS4)

PROPOSED, ACTIVE, DEPRECATED, RETIRED = Lifecycle.PROPOSED, Lifecycle.ACTIVE, Lifecycle.DEPRECATED, Lifecycle.RETIRED

# The statuses a file may carry, per format, and the lifecycle each means.
_READ: dict[str, dict[str, str]] = {
    BITOL: {"proposed": PROPOSED, "draft": PROPOSED, "active": ACTIVE, "deprecated": DEPRECATED, "retired": RETIRED},
    ODPS4: {
        "announcement": PROPOSED,
        "draft": PROPOSED,
        "development": PROPOSED,
        "testing": PROPOSED,
        "acceptance": PROPOSED,
        "production": ACTIVE,
        "sunset": DEPRECATED,
        "retired": RETIRED,
    },
    DATAHUB: {PROPOSED: PROPOSED, ACTIVE: ACTIVE, DEPRECATED: DEPRECATED, RETIRED: RETIRED},
}
# The status an export writes for each lifecycle (the first accepted name of each, read back the same).
_WRITE: dict[str, dict[str, str]] = {
    BITOL: {PROPOSED: "proposed", ACTIVE: "active", DEPRECATED: "deprecated", RETIRED: "retired"},
    ODPS4: {PROPOSED: "draft", ACTIVE: "production", DEPRECATED: "sunset", RETIRED: "retired"},
}
READ = MappingProxyType({fmt: MappingProxyType(table) for fmt, table in _READ.items()})
WRITE = MappingProxyType({fmt: MappingProxyType(table) for fmt, table in _WRITE.items()})


class UnknownStatus(ValueError):
    """A status the format's mapping does not know; the message lists the accepted ones."""


def accepted_statuses(file_format: str) -> list[str]:
    return list(READ[file_format])


def lifecycle_from_status(file_format: str, status: object) -> str:
    """The meshvalue lifecycle a file's status means; UnknownStatus (with the accepted list) otherwise."""
    key = status.strip().lower() if isinstance(status, str) else None
    if key is None or key not in READ[file_format]:
        raise UnknownStatus(f"Unknown status {status!r}; accepted: {', '.join(accepted_statuses(file_format))}.")
    return READ[file_format][key]


def status_for_lifecycle(file_format: str, lifecycle: str) -> str:
    """The status an export in `file_format` writes for a meshvalue lifecycle."""
    return WRITE[file_format][lifecycle]
