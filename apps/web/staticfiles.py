"""Serve Plotly's JavaScript from the `plotly` pip package, so charts need nothing from other hosts.

The package ships `plotly.min.js` in its `package_data` folder. This finder exposes that one
file (not the datasets and widget bundles beside it) as `static/vendor/plotly/plotly.min.js`,
for `runserver`, WhiteNoise's finder mode and `collectstatic` alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PLOTLY_PREFIX = "vendor/plotly"
PLOTLY_FILE = "plotly.min.js"
PLOTLY_STATIC_PATH = f"{PLOTLY_PREFIX}/{PLOTLY_FILE}"


class PlotlyFinder(BaseFinder):
    """A staticfiles finder for exactly one file: plotly.min.js of the installed plotly package."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(Path(plotly.__file__).resolve().parent / "package_data"))
        # collectstatic and WhiteNoise put a storage's files under its `prefix`.
        self.storage.prefix = PLOTLY_PREFIX  # type: ignore[attr-defined]  # read by collectstatic, not in the stubs

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if not self.storage.exists(PLOTLY_FILE):
            return [Error(f"{PLOTLY_FILE} is missing from the plotly package at {self.storage.location}.")]
        return []

    # One signature for the stubs' two overloads (find_all False: a path or None; True: a list).
    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> str | list[str]:  # type: ignore[override]
        if path == PLOTLY_STATIC_PATH and self.storage.exists(PLOTLY_FILE):
            found = self.storage.path(PLOTLY_FILE)
            return [found] if find_all else found
        # Like Django's own finders: an empty list, never None (`finders.find` would report [None]).
        return []

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        yield PLOTLY_FILE, self.storage
