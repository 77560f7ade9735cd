"""Database locks that keep two runs of the same job (or of the same slice of it) from overlapping.

One helper for every job. On PostgreSQL these are transaction-level advisory locks: released at
commit or rollback, and when a worker is killed its connection drops and PostgreSQL releases
them, so a redelivered task never waits for a dead one. SQLite has a single writer: taking its
write lock at the start of the transaction (a no-op write) serialises the jobs there, and
`job_try_lock` always succeeds (the jobs stay correct through unique constraints).

Keys are 64-bit: a job name hashed into the high bits and up to 47 bits of the caller's own
key (a date, a chunk number, a checksum) below, so keys of different jobs never collide.
"""

from __future__ import annotations

import hashlib

from django.db import connection

_KEY_BITS = 47


def lock_key(job: str, key: int = 0) -> int:
    """The advisory-lock key of `job` for its sub-key `key` (a signed 64-bit integer)."""
    namespace = int.from_bytes(hashlib.blake2b(job.encode(), digest_size=2).digest(), "big")
    return (namespace << _KEY_BITS) | (key & ((1 << _KEY_BITS) - 1))


def job_lock(job: str, key: int = 0) -> None:
    """Wait until no other transaction holds the lock of `job` for `key`; held until this transaction ends.

    Must be called inside a transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_key(job, key)])
    else:
        with connection.cursor() as cursor:
            # Any write statement takes SQLite's database write lock until the transaction ends.
            cursor.execute("UPDATE django_migrations SET id = id WHERE id = -1")


def job_try_lock(job: str, key: int = 0) -> bool:
    """Take the lock of `job` for `key` if it is free; False when another transaction holds it.

    For periodic jobs whose overlapping run should simply skip. Must be called inside a transaction.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(job, key)])
        return bool(cursor.fetchone()[0])
