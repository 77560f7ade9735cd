"""Reading catalog files safely: one YAML file, a folder of them, or a zip, into plain JSON-like values.

Every file is untrusted. A file (or zip entry) over `MAX_FILE_BYTES` is refused before it is
decoded; a zip with more than `MAX_ZIP_ENTRIES` entries, or with an entry whose path leaves the
archive (`../`, an absolute path), is refused as a whole. YAML is parsed with PyYAML's safe
loader only, after a scan of its events that refuses aliases (`*name`: the "billion laughs"
bomb expands them), any `!!python/...` tag, and more than `MAX_YAML_EVENTS` nodes. Dates that
YAML reads as dates become ISO strings again, since the schemas are JSON Schemas.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

MAX_FILE_BYTES = 1024 * 1024
MAX_ZIP_ENTRIES = 1000
MAX_ZIP_BYTES = 50 * 1024 * 1024  # all entries together, uncompressed
MAX_YAML_EVENTS = 200_000
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class FileProblem:
    """One problem in one file: `path` is the field's path in the document ("" for the file as a whole)."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path + ': ' if self.path else ''}{self.message}"


class FilesRefused(Exception):
    """The input as a whole cannot be read (a hostile zip, nothing to import); nothing was stored."""

    def __init__(self, problems: list[FileProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class SourceFile:
    """A file to import: its name (inside the zip or folder) and its bytes."""

    name: str
    content: bytes


@dataclass(frozen=True)
class Skipped:
    """Something left out of an import, and why."""

    file: str
    what: str
    why: str


def _too_big(name: str, size: int) -> FileProblem:
    return FileProblem(name, "", f"The file is {size:,} bytes; at most {MAX_FILE_BYTES:,} (1 MB) are accepted.")


def sources_from_upload(name: str, content: bytes) -> tuple[list[SourceFile], list[Skipped]]:
    """The YAML files of one upload: a zip (by its content) or a single YAML file."""
    if zipfile.is_zipfile(io.BytesIO(content)):
        return sources_from_zip(name, content)
    if len(content) > MAX_FILE_BYTES:
        raise FilesRefused([_too_big(name, len(content))])
    return [SourceFile(name, content)], []


def sources_from_zip(name: str, content: bytes) -> tuple[list[SourceFile], list[Skipped]]:
    """The YAML entries of a zip; the whole zip is refused when any entry is hostile."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as error:
        raise FilesRefused([FileProblem(name, "", f"Not a readable zip file: {error}.")]) from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise FilesRefused(
                [
                    FileProblem(
                        name, "", f"The zip has {len(entries):,} entries; at most {MAX_ZIP_ENTRIES:,} are accepted."
                    )
                ]
            )
        problems: list[FileProblem] = []
        for entry in entries:
            path = PurePosixPath(entry.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or (path.parts and path.parts[0].endswith(":")):
                problems.append(
                    FileProblem(name, entry.filename, "An entry path leaves the archive (../ or absolute): refused.")
                )
        if sum(entry.file_size for entry in entries) > MAX_ZIP_BYTES:
            problems.append(FileProblem(name, "", f"The zip expands to more than {MAX_ZIP_BYTES // 2**20} MB."))
        if problems:
            raise FilesRefused(problems)
        sources: list[SourceFile] = []
        skipped: list[Skipped] = []
        for entry in entries:
            if entry.is_dir():
                continue
            if not entry.filename.lower().endswith(YAML_SUFFIXES):
                skipped.append(Skipped(entry.filename, "file", "not a .yaml or .yml file"))
                continue
            if entry.file_size > MAX_FILE_BYTES:
                problems.append(_too_big(entry.filename, entry.file_size))
                continue
            with archive.open(entry) as stream:
                data = stream.read(MAX_FILE_BYTES + 1)  # the declared size may lie
            if len(data) > MAX_FILE_BYTES:
                problems.append(_too_big(entry.filename, len(data)))
                continue
            sources.append(SourceFile(entry.filename, data))
        if problems:
            raise FilesRefused(problems)
    return sources, skipped


def sources_from_path(path: Path) -> tuple[list[SourceFile], list[Skipped]]:
    """The YAML files of a folder (recursively, by name), a zip, or one file."""
    if path.is_dir():
        sources: list[SourceFile] = []
        skipped: list[Skipped] = []
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            name = file.relative_to(path).as_posix()
            if not name.lower().endswith(YAML_SUFFIXES):
                skipped.append(Skipped(name, "file", "not a .yaml or .yml file"))
                continue
            sources.append(_read_limited(file, name))
        return sources, skipped
    if not path.is_file():
        raise FilesRefused([FileProblem(str(path), "", "No such file or folder.")])
    if zipfile.is_zipfile(path):
        if path.stat().st_size > MAX_ZIP_BYTES:
            raise FilesRefused([FileProblem(path.name, "", f"The zip is larger than {MAX_ZIP_BYTES // 2**20} MB.")])
        return sources_from_zip(path.name, path.read_bytes())
    return [_read_limited(path, path.name)], []


def _read_limited(file: Path, name: str) -> SourceFile:
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise FilesRefused([_too_big(name, size)])
    return SourceFile(name, file.read_bytes())


def load_yaml(source: SourceFile) -> tuple[Any, list[FileProblem]]:
    """The document of one YAML file, or the problems that stop it from being read."""
    if len(source.content) > MAX_FILE_BYTES:
        return None, [_too_big(source.name, len(source.content))]
    try:
        text = source.content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, [FileProblem(source.name, "", f"Not UTF-8 text (byte {error.start + 1} cannot be read).")]
    try:
        problem = _scan_events(text)
        if problem:
            return None, [FileProblem(source.name, "", problem)]
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return None, [FileProblem(source.name, "", f"Not valid YAML: {_yaml_message(error)}")]
    if not isinstance(document, dict):
        return None, [FileProblem(source.name, "", "The file must hold one YAML mapping (key: value lines).")]
    problems: list[FileProblem] = []
    return _json_like(document, source.name, "", problems), problems


def _scan_events(text: str) -> str | None:
    """Why the YAML cannot be loaded safely (aliases, Python tags, too many nodes), or None."""
    for count, event in enumerate(yaml.parse(text, Loader=yaml.SafeLoader), start=1):
        if count > MAX_YAML_EVENTS:
            return f"The YAML has more than {MAX_YAML_EVENTS:,} nodes; it is refused."
        line = getattr(getattr(event, "start_mark", None), "line", -1) + 1
        if isinstance(event, yaml.AliasEvent):
            return f"Line {line}: YAML aliases (*{event.anchor}) are not accepted (they can expand into a YAML bomb)."
        tag = getattr(event, "tag", None)
        if tag and (tag.startswith("tag:yaml.org,2002:python/") or tag.startswith("!!python/")):
            return f"Line {line}: the tag {tag} is not accepted (only plain YAML values are read)."
    return None


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    return f"line {mark.line + 1}: {problem}." if mark is not None else f"{problem}."


def _json_like(value: Any, file: str, path: str, problems: list[FileProblem]) -> Any:
    """`value` with dates as ISO strings; a mapping key that is not text is a problem."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(FileProblem(file, path, f"The key {key!r} is not text; quote it."))
                continue
            result[key] = _json_like(item, file, f"{path}.{key}" if path else key, problems)
        return result
    if isinstance(value, list):
        return [_json_like(item, file, f"{path}[{index}]", problems) for index, item in enumerate(value)]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
