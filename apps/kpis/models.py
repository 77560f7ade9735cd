"""KPIs of business goals, their attribution to data products, and measured outcomes."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import audit_trail
from meshvalue.periods import Cadence

SOURCE_QUERY_MAX_LENGTH = 20_000


class Direction(models.TextChoices):
    INCREASE = "increase", "Increase is better"
    DECREASE = "decrease", "Decrease is better"


class CadenceChoices(models.TextChoices):
    WEEKLY = Cadence.WEEKLY.value, "Weekly"
    MONTHLY = Cadence.MONTHLY.value, "Monthly"
    QUARTERLY = Cadence.QUARTERLY.value, "Quarterly"


class KPI(models.Model):
    """A success metric of a business goal and what one unit of improvement is worth."""

    goal = models.ForeignKey("catalog.BusinessGoal", on_delete=models.PROTECT, related_name="kpis")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=40)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.INCREASE)
    cadence = models.CharField(max_length=10, choices=CadenceChoices.choices, default=CadenceChoices.MONTHLY)
    baseline = models.DecimalField(max_digits=20, decimal_places=4)
    target = models.DecimalField(max_digits=20, decimal_places=4)
    target_date = models.DateField(null=True, blank=True)
    value_per_unit = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        help_text="Money one unit of improvement over the baseline is worth in one period of the cadence.",
    )
    data_products = models.ManyToManyField(
        "catalog.DataProduct", through="Attribution", related_name="kpis", blank=True
    )
    # Outcomes pulled from a warehouse (apps.sources): the query returns rows (period_start, value).
    source = models.ForeignKey(
        "sources.DataSource", on_delete=models.PROTECT, null=True, blank=True, related_name="kpis"
    )
    source_query = models.TextField(
        blank=True,
        max_length=SOURCE_QUERY_MAX_LENGTH,
        help_text="SQL run read-only on the source, returning rows (period_start, value).",
    )
    history = audit_trail()

    class Meta:
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"
        ordering = ["goal__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "name"], name="kpi_unique_name_per_goal"),
            models.CheckConstraint(condition=Q(value_per_unit__gte=0), name="kpi_value_per_unit_non_negative"),
            # A source and its query come together: one without the other cannot be pulled.
            models.CheckConstraint(
                condition=(Q(source__isnull=True) & Q(source_query=""))
                | (Q(source__isnull=False) & ~Q(source_query="")),
                name="kpi_source_with_query",
                violation_error_message="Choose a source and write its query, or leave both empty.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        self.source_query = self.source_query.strip()
        if self.source_id is not None and not self.source_query:
            raise ValidationError({"source_query": "Write the query that returns period_start, value."})
        if self.source_id is None and self.source_query:
            raise ValidationError({"source": "Choose the source this query runs on."})


class Attribution(models.Model):
    """The share of a KPI's improvement credited to one data product.

    Weights are in (0, 1] (a check constraint); the weights of one KPI sum to at most 1,
    which spans rows and is enforced by `apps.kpis.services.attributions_set` under a lock.
    """

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="attributions")
    data_product = models.ForeignKey("catalog.DataProduct", on_delete=models.CASCADE, related_name="attributions")
    weight = models.DecimalField(max_digits=5, decimal_places=4)
    # DESIGN.md v2: the product is credited only from `credited_from = max(launched_on, starts_on)` and
    # only with the improvement beyond `baseline` (the KPI's own baseline when empty).
    starts_on = models.DateField(
        null=True, blank=True, help_text="Credited from this date (default: the product's launch date)."
    )
    baseline = models.DecimalField(
        max_digits=20,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="The KPI's level when the product started serving it (default: the KPI's baseline).",
    )
    history = audit_trail()

    class Meta:
        ordering = ["kpi_id", "data_product_id"]
        constraints = [
            models.UniqueConstraint(fields=["kpi", "data_product"], name="attribution_unique_kpi_product"),
            models.CheckConstraint(condition=Q(weight__gt=0) & Q(weight__lte=1), name="attribution_weight_in_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} ← {self.data_product} ({self.weight})"


class MeasurementSource(models.TextChoices):
    FORM = "form", "Form"
    CSV = "csv", "CSV upload"
    API = "api", "API"
    SQL = "sql", "Warehouse query"


class Measurement(models.Model):
    """A KPI outcome for one period. Append-only: a correction is a new current revision."""

    # No separate index on kpi_id: the (kpi, period_start, revision) unique index leads with it.
    kpi = models.ForeignKey(KPI, on_delete=models.PROTECT, related_name="measurements", db_index=False)
    period_start = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=4)
    note = models.TextField(blank=True)
    source = models.CharField(max_length=8, choices=MeasurementSource.choices, default=MeasurementSource.FORM)
    revision = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kpi_id", "-period_start", "-revision"]
        get_latest_by = "recorded_at"
        constraints = [
            models.UniqueConstraint(
                fields=["kpi", "period_start", "revision"], name="measurement_unique_revision_per_period"
            ),
            # Covering `value`: the sums over a KPI's periods since a date (an attribution credited
            # from inside the window, a bet's span, a rollup's partial month) read the index alone.
            models.UniqueConstraint(
                fields=["kpi", "period_start"],
                condition=Q(is_current=True),
                include=["value"],
                name="measurement_one_current_per_period",
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="measurement_revision_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.period_start}: {self.value} (rev {self.revision})"


class MeasurementCount(models.Model):
    """How many measurements (every revision) a KPI has, kept by triggers (PostgreSQL; `apps.core.counts`).

    The measurements list sums these instead of counting 2,000,000 rows for its `count`.
    """

    kpi_id = models.BigIntegerField(primary_key=True)
    row_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"KPI {self.kpi_id}: {self.row_count} measurements"
