"""Running a KPI's query on its source: read-only, with a time limit and a row cap, and nothing else.

The connection string comes from the environment (`MESHVALUE_SOURCE_<NAME>_URL`) at the moment the
query runs, and never leaves this module: every error is turned into a `SourceError` whose message
has the connection string, its password, user, host and file path scrubbed out.

URL forms (README, "Outcomes from your warehouse"):

- `postgresql://user:password@host:5432/dbname?sslmode=require` (or `postgres://...`, or any libpq
  connection string): psycopg 3, in a `READ ONLY` transaction with `SET LOCAL statement_timeout`,
  the query sent with the extended protocol (one statement: `SELECT 1; COMMIT; DELETE ...` is refused);
- `duckdb:///absolute/path/warehouse.duckdb` (`duckdb://relative/path.duckdb` from the working
  directory): the database file opened with `read_only=True`;
- `duckdb:///path/file.parquet`, `.csv`, `.csv.gz`, `.tsv`: the file as a view named `source` in an
  in-memory DuckDB.

DuckDB runs with external access off and its configuration locked, so a query can read neither
other files nor the network, and write nothing outside its connection; a timer thread interrupts
a query that outlives the timeout. The user's SQL is run as written, never formatted into another
statement; only our own values (the timeout) travel as parameters.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from apps.sources.models import DataSource, SourceKind

FILE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv", ".tsv.gz")
MAX_CONNECT_SECONDS = 10
SCRUBBED = "[hidden]"


class SourceError(Exception):
    """A query could not run or its answer cannot be used; the message is safe to show and store."""


@dataclass(frozen=True)
class QueryAnswer:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def source_url(source: DataSource) -> str | None:
    """The connection string of `source` from the environment, or None when the variable is not set."""
    return os.environ.get(source.env_var) or None


def _secrets_of(url: str) -> list[str]:
    """The parts of a connection string that must never be shown: the whole, its password, user, host, path."""
    parts = [url]
    try:
        split = urlsplit(url)
        for piece in (split.password, split.username, split.hostname, split.netloc, split.path, split.query):
            if piece:
                parts.extend({piece, unquote(piece), unquote(piece).strip("/")})
    except ValueError:
        pass
    if url.startswith("duckdb:"):
        parts.append(_duckdb_path(url))
    # key=value connection strings: every value (password=..., host=...).
    parts.extend(match.group(1) for match in re.finditer(r"=\s*'?([^\s']+)'?", url))
    # Short fragments ("db", "5432") would blank out ordinary words of an error message.
    return sorted({part for part in parts if len(part) >= 4}, key=len, reverse=True)


def scrub(message: str, url: str | None) -> str:
    """`message` with every part of `url` replaced by a placeholder."""
    if url:
        for secret in _secrets_of(url):
            message = message.replace(secret, SCRUBBED)
    return message


def first_line(message: str) -> str:
    return next((line.strip() for line in message.splitlines() if line.strip()), "")


def _error(prefix: str, error: BaseException, url: str | None) -> SourceError:
    text = scrub(str(error), url).strip() or type(error).__name__
    return SourceError(f"{prefix}: {text}" if prefix else text)


def run_query(source: DataSource, query: str, *, timeout_s: float | None = None) -> QueryAnswer:
    """Run `query` on `source` read-only and return its columns and at most `row_cap + 1` rows.

    `timeout_s` (default: the source's `statement_timeout_s`) bounds the query. Raises SourceError
    with a message that is safe to show: the variable not set, the source down, bad SQL, a timeout,
    a write refused, more rows than the cap.
    """
    url = source_url(source)
    if url is None:
        raise SourceError(f"The variable {source.env_var} is not set on this server; the source cannot be reached.")
    timeout = float(timeout_s if timeout_s is not None else source.statement_timeout_s)
    if source.kind == SourceKind.POSTGRESQL:
        answer = _read_postgresql(url, query, timeout_s=timeout, row_cap=source.row_cap)
    elif source.kind == SourceKind.DUCKDB:
        answer = _read_duckdb(url, query, timeout_s=timeout, row_cap=source.row_cap)
    else:  # pragma: no cover - the model's choices
        raise SourceError(f"Unknown source kind {source.kind!r}.")
    if len(answer.columns) != 2:
        raise SourceError(
            f"The query returns {len(answer.columns)} column(s); it must return exactly two: period_start, value."
        )
    if len(answer.rows) > source.row_cap:
        raise SourceError(
            f"The query returns more than {source.row_cap} rows (the source's row cap); narrow it to recent periods."
        )
    return answer


def _read_postgresql(url: str, query: str, *, timeout_s: float, row_cap: int) -> QueryAnswer:
    import psycopg

    try:
        connection = psycopg.connect(
            url,
            connect_timeout=max(1, int(min(timeout_s, MAX_CONNECT_SECONDS))),
            application_name="meshvalue-source",
        )
    except Exception as error:  # psycopg.OperationalError, a malformed conninfo (ProgrammingError)
        raise _error("Could not connect to the source", error, url) from None
    try:
        # Every transaction psycopg starts on this connection is BEGIN READ ONLY.
        connection.read_only = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(int(timeout_s * 1000))])
            # binary=True sends the query with the extended protocol, which runs exactly one statement.
            cursor.execute(query, binary=True)
            if cursor.description is None:
                raise SourceError("The statement returns no rows; write a SELECT returning period_start, value.")
            columns = [column.name for column in cursor.description]
            rows = [tuple(row) for row in cursor.fetchmany(row_cap + 1)]
        connection.rollback()  # nothing to keep, whatever the statement was
    except SourceError:
        raise
    except psycopg.errors.QueryCanceled as error:
        raise _error(f"The query ran longer than {timeout_s:g} s and was cancelled", error, url) from None
    except psycopg.errors.ReadOnlySqlTransaction as error:
        raise _error("The source is read-only for meshvalue; the statement was refused", error, url) from None
    except psycopg.Error as error:
        raise _error("", error, url) from None
    finally:
        connection.close()
    return QueryAnswer(columns=columns, rows=rows)


def _duckdb_path(url: str) -> str:
    rest = url[len("duckdb:") :]
    if rest.startswith("//"):
        rest = rest[2:]  # duckdb:///abs/path -> /abs/path ; duckdb://rel/path -> rel/path
    return unquote(rest)


def _read_duckdb(url: str, query: str, *, timeout_s: float, row_cap: int) -> QueryAnswer:
    import duckdb

    if not url.startswith("duckdb:"):
        raise SourceError("A DuckDB source's variable must start with duckdb: (duckdb:///path/to/file.duckdb).")
    path = Path(_duckdb_path(url))
    if not path.is_file():
        raise SourceError("The source's file does not exist on this server (check its variable).")
    is_file_table = path.name.lower().endswith(FILE_SUFFIXES)
    try:
        if is_file_table:
            connection = duckdb.connect(":memory:")
            reader = connection.read_parquet if path.name.lower().endswith(".parquet") else connection.read_csv
            reader(str(path)).create_view("source")
            connection.execute("SET allowed_paths = ?", [[str(path.resolve())]])
        else:
            connection = duckdb.connect(str(path), read_only=True)
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
    except duckdb.Error as error:
        raise _error("Could not open the source", error, url) from None
    timed_out = threading.Event()

    def interrupt() -> None:
        timed_out.set()
        connection.interrupt()

    timer = threading.Timer(timeout_s, interrupt)
    timer.daemon = True
    try:
        timer.start()
        result = connection.execute(query)
        if result.description is None:
            raise SourceError("The statement returns no rows; write a SELECT returning period_start, value.")
        columns = [column[0] for column in result.description]
        rows: Sequence[tuple[Any, ...]] = result.fetchmany(row_cap + 1)
    except SourceError:
        raise
    except (duckdb.InterruptException, RuntimeError) as error:
        if timed_out.is_set():
            raise SourceError(f"The query ran longer than {timeout_s:g} s and was cancelled.") from None
        raise _error("", error, url) from None
    except duckdb.Error as error:
        if timed_out.is_set():
            raise SourceError(f"The query ran longer than {timeout_s:g} s and was cancelled.") from None
        raise _error("", error, url) from None
    finally:
        timer.cancel()
        connection.close()
    return QueryAnswer(columns=columns, rows=[tuple(row) for row in rows])


def source_answers(source: DataSource) -> tuple[bool, str]:
    """Whether `source` answers `SELECT 1` (within 5 s), and the first line of the error when not."""
    probe = "SELECT 1 AS period_start, 1 AS value"
    try:
        run_query(source, probe, timeout_s=min(5, source.statement_timeout_s))
    except SourceError as error:
        return False, first_line(str(error))
    return True, ""
