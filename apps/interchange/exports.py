"""Exporting products as catalog files: one `<slug>.yaml` per product, in a folder or a zip."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from datetime import date

import yaml

from apps.interchange import bitol, odps4
from apps.interchange.lifecycle import BITOL, ODPS4
from apps.interchange.selectors import product_exports

RENDERERS = {BITOL: bitol.render, ODPS4: odps4.render}


def products_export(
    *,
    file_format: str,
    domain_slug: str | None = None,
    lifecycle: str | None = None,
    decided_since: date | None = None,
) -> dict[str, bytes]:
    """`<slug>.yaml` -> its YAML, for every product matching the filters (a fixed number of queries)."""
    if file_format not in RENDERERS:
        raise ValueError(f"Unknown export format {file_format!r}; accepted: {', '.join(RENDERERS)}.")
    render = RENDERERS[file_format]
    return {
        f"{product.slug}.yaml": yaml.safe_dump(
            render(product), sort_keys=False, allow_unicode=True, default_flow_style=False
        ).encode("utf-8")
        for product in product_exports(domain_slug=domain_slug, lifecycle=lifecycle, decided_since=decided_since)
    }


def zip_of(files: Mapping[str, bytes]) -> bytes:
    """A zip of the files (deflated), in name order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            archive.writestr(name, files[name])
    return buffer.getvalue()
