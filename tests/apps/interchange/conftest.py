"""Fixtures of the catalog-file tests: the real example files, and helpers to import them."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.interchange.files import SourceFile

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def source(path: str) -> SourceFile:
    file = FIXTURES / path
    return SourceFile(file.name, file.read_bytes())


def text_source(name: str, text: str) -> SourceFile:
    return SourceFile(name, text.encode("utf-8"))


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
