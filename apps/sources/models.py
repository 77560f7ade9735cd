"""Where KPI outcomes already live (a warehouse, a DuckDB file) and the record of every pull from there.

A data source holds no secret: its connection string is read from the environment variable
`MESHVALUE_SOURCE_<NAME>_URL` when a query runs (apps.sources.reading), never from the database.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import audit_trail

ENV_PREFIX = "MESHVALUE_SOURCE_"
ENV_SUFFIX = "_URL"


class SourceKind(models.TextChoices):
    POSTGRESQL = "postgresql", "PostgreSQL"
    DUCKDB = "duckdb", "DuckDB (database file, Parquet or CSV)"


class DataSource(models.Model):
    """A named, read-only connection to where outcomes already live."""

    name = models.CharField(
        max_length=40,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z][a-z0-9_]*\Z",
                "Use lower-case letters, digits and underscores, starting with a letter "
                "(it names the variable MESHVALUE_SOURCE_<NAME>_URL).",
            )
        ],
        help_text="Lower-case letters, digits and _; the connection string is read from MESHVALUE_SOURCE_<NAME>_URL.",
    )
    kind = models.CharField(max_length=12, choices=SourceKind.choices)
    description = models.TextField(blank=True)
    statement_timeout_s = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text="A query running longer is cancelled (seconds).",
    )
    row_cap = models.PositiveIntegerField(
        default=10_000,
        validators=[MinValueValidator(1), MaxValueValidator(100_000)],
        help_text="A query returning more rows fails and stores nothing.",
    )

    history = audit_trail()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(statement_timeout_s__gte=1), name="datasource_timeout_positive"),
            models.CheckConstraint(condition=Q(row_cap__gte=1), name="datasource_row_cap_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def env_var(self) -> str:
        """The name of the environment variable holding this source's connection string."""
        return f"{ENV_PREFIX}{self.name.upper()}{ENV_SUFFIX}"


class PullTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Manual"
    COMMAND = "command", "Command"


class PullStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class PullRun(models.Model):
    """One pull of a KPI's query: what was read, stored, left unchanged and refused, or the error.

    Written once, when the pull ends, in the same transaction as the outcomes it stored: a pull
    whose worker died leaves no half-written run behind.
    """

    kpi = models.ForeignKey("kpis.KPI", on_delete=models.CASCADE, related_name="pull_runs", db_index=False)
    source = models.ForeignKey(DataSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="runs")
    query = models.TextField(help_text="The query as it ran.")
    trigger = models.CharField(max_length=10, choices=PullTrigger.choices)
    status = models.CharField(max_length=10, choices=PullStatus.choices)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(default=timezone.now)
    rows_read = models.PositiveIntegerField(default=0)
    rows_stored = models.PositiveIntegerField(default=0, help_text="New outcomes and corrections stored.")
    rows_corrected = models.PositiveIntegerField(
        default=0, help_text="Of the stored rows, those that were corrections."
    )
    rows_unchanged = models.PositiveIntegerField(default=0)
    refused = models.JSONField(
        default=list, blank=True, help_text="The rows refused: [{row, period_start, value, reason}]."
    )
    error = models.TextField(blank=True, help_text="Why the pull failed (no connection string, ever).")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kpi", "-started_at", "-id"], name="pullrun_kpi_latest")]
        constraints = [
            models.CheckConstraint(condition=Q(status="succeeded") | ~Q(error=""), name="pullrun_failed_has_error"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi_id} pull {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def rows_refused(self) -> int:
        return len(self.refused)
