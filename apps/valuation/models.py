"""Evaluation policies, evaluation runs and the evaluations they produce."""

from decimal import Decimal
from typing import TypedDict

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now

from apps.core.audit import audit_trail


class EvaluationPolicy(models.Model):
    """The thresholds of the valuation rules: one default, optionally one per domain."""

    domain = models.OneToOneField(
        "catalog.Domain", on_delete=models.CASCADE, null=True, blank=True, related_name="evaluation_policy"
    )
    is_default = models.BooleanField(default=False)
    window_days = models.PositiveIntegerField(default=365)
    recent_days = models.PositiveIntegerField(default=90)
    grace_days = models.PositiveIntegerField(default=90)
    retire_below = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("1.0"))
    invest_above = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("3.0"))
    stale_periods = models.PositiveIntegerField(default=2)
    # A decision holds its kind of alert for this many days unless it names its own revisit date.
    decision_quiet_days = models.PositiveIntegerField(default=90)
    # Decisions are expected within this many days of the alert (the decision-loop figures).
    decision_sla_days = models.PositiveIntegerField(default=14)
    updated_at = models.DateTimeField(auto_now=True)
    history = audit_trail(excluded_fields=["updated_at"])

    class Meta:
        verbose_name_plural = "evaluation policies"
        ordering = ["-is_default", "domain__name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="policy_one_default"),
            models.CheckConstraint(
                condition=(Q(is_default=True) & Q(domain__isnull=True))
                | (Q(is_default=False) & Q(domain__isnull=False)),
                name="policy_default_xor_domain",
            ),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="policy_window_positive"),
            models.CheckConstraint(condition=Q(recent_days__gte=1), name="policy_recent_positive"),
            models.CheckConstraint(condition=Q(stale_periods__gte=1), name="policy_stale_periods_positive"),
            models.CheckConstraint(condition=Q(recent_days__lte=F("window_days")), name="policy_recent_within_window"),
            models.CheckConstraint(condition=Q(decision_sla_days__gte=1), name="policy_sla_positive"),
            models.CheckConstraint(condition=Q(retire_below__gte=0), name="policy_retire_below_non_negative"),
            models.CheckConstraint(condition=Q(invest_above__gte=F("retire_below")), name="policy_invest_above_retire"),
        ]

    def __str__(self) -> str:
        return "Default policy" if self.is_default else f"Policy for {self.domain}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class EvaluationRun(models.Model):
    """One request to evaluate the portfolio as of a date (from the API, the command or beat)."""

    as_of = models.DateField()
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trigger = models.CharField(max_length=16, default="api")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    products_evaluated = models.PositiveIntegerField(default=0)
    alerts_opened = models.PositiveIntegerField(default=0)
    alerts_resolved = models.PositiveIntegerField(default=0)
    # A large portfolio is evaluated in chunks (one Celery task each); the run succeeds when every
    # chunk is done. The done list makes a redelivered chunk count once.
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Run {self.pk} as of {self.as_of} ({self.status})"


class Recommendation(models.TextChoices):
    INCUBATING = "incubating", "Incubating"
    REVIEW = "review", "Review"
    HOLD = "hold", "Hold"
    RETIRE = "retire", "Retire"
    INVEST = "invest", "Invest"


class Digits(TypedDict):
    max_digits: int
    decimal_places: int


MONEY: Digits = {"max_digits": 20, "decimal_places": 2}
RATIO: Digits = {"max_digits": 20, "decimal_places": 4}


# What an evaluation states: its figures, recommendation, reasons, signals and the policy it used.
EVALUATION_FIGURES = (
    "value",
    "cost",
    "ratio",
    "net",
    "recent_value",
    "recent_cost",
    "recent_ratio",
    "recommendation",
    "reasons",
    "signals",
    "window_days",
    "recent_days",
    "grace_days",
    "retire_below",
    "invest_above",
    "stale_periods",
)


class Evaluation(models.Model):
    """One product's figures and recommendation as of a date, with the policy values used."""

    data_product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.CASCADE, related_name="evaluations", db_index=False
    )
    as_of = models.DateField()
    run = models.ForeignKey(EvaluationRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    value = models.DecimalField(**MONEY)
    cost = models.DecimalField(**MONEY)
    ratio = models.DecimalField(**RATIO, null=True, blank=True)
    net = models.DecimalField(**MONEY)
    recent_value = models.DecimalField(**MONEY)
    recent_cost = models.DecimalField(**MONEY)
    recent_ratio = models.DecimalField(**RATIO, null=True, blank=True)
    recommendation = models.CharField(max_length=12, choices=Recommendation.choices)
    reasons = models.JSONField(default=list, blank=True)
    signals = models.JSONField(default=list, blank=True, help_text="stale_kpi, orphaned, bet_due signals raised.")
    # The policy values this evaluation used, so a later policy change does not rewrite history.
    window_days = models.PositiveIntegerField()
    recent_days = models.PositiveIntegerField()
    grace_days = models.PositiveIntegerField()
    retire_below = models.DecimalField(max_digits=8, decimal_places=4)
    invest_above = models.DecimalField(max_digits=8, decimal_places=4)
    stale_periods = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-as_of", "data_product_id"]
        get_latest_by = "as_of"
        indexes = [
            models.Index(fields=["as_of", "recommendation"], name="evaluation_asof_recommendation"),
            # The API's order (newest date, then product): a page of one date is read off this index.
            models.Index(fields=["-as_of", "data_product"], name="evaluation_date_product"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["data_product", "as_of"], name="evaluation_unique_product_date"),
        ]

    def __str__(self) -> str:
        return f"{self.data_product} as of {self.as_of}: {self.recommendation}"


class DomainReadiness(models.Model):
    """A domain's value-tracking readiness as of an evaluation date (DESIGN.md v2).

    `passing` counts, per check (`meshvalue.readiness.Check`), the domain's active products that
    pass it; `failing` lists, per check, the ids of those that do not. Written once per pass
    (unique per domain and date, so a re-run rewrites the same rows); kept so a trend can be drawn.
    """

    domain = models.ForeignKey("catalog.Domain", on_delete=models.CASCADE, related_name="readiness")
    as_of = models.DateField()
    products = models.PositiveIntegerField(default=0)
    ready = models.PositiveIntegerField(default=0, help_text="Products passing all six checks.")
    passing = models.JSONField(default=dict, blank=True)
    failing = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "domain readiness"
        ordering = ["-as_of", "domain_id"]
        constraints = [
            models.UniqueConstraint(fields=["domain", "as_of"], name="readiness_unique_domain_date"),
        ]

    def __str__(self) -> str:
        return f"Readiness of {self.domain} as of {self.as_of}: {self.ready}/{self.products}"


class MonthlyFigure(models.Model):
    """A product's realised value and cost in one calendar month: the maintained monthly rollup.

    Value follows DESIGN.md v2 (credited from, attribution baselines, current revisions only),
    cost is the month's current cost entries (credits included). Kept exact at full precision
    (rounded to money only when shown). Maintained by `apps.valuation.services.rollup` from the
    changes the database records in `RollupChange`; `manage.py rollup_check` recomputes it from
    the raw rows and reports any difference.
    """

    data_product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.CASCADE, related_name="monthly_figures", db_index=False
    )
    month = models.DateField(help_text="The first day of the month.")
    value = models.DecimalField(max_digits=30, decimal_places=10, default=Decimal("0"))
    cost = models.DecimalField(max_digits=30, decimal_places=10, default=Decimal("0"))

    class Meta:
        ordering = ["data_product_id", "month"]
        constraints = [models.UniqueConstraint(fields=["data_product", "month"], name="monthly_figure_unique")]
        indexes = [models.Index(fields=["month"], name="monthly_figure_month")]

    def __str__(self) -> str:
        return f"{self.data_product_id} {self.month:%Y-%m}: value {self.value}, cost {self.cost}"


class RollupChange(models.Model):
    """What changed since the rollup's last refresh, written by database triggers in the writer's transaction.

    A row names a KPI or a product, and a month (None: every month). Triggers rather than
    service calls, so no write path (bulk, COPY, admin, a migration) can forget to report, and
    the mark commits or rolls back with the write itself. No foreign keys: a deleted row's mark
    must outlive it, and the writers should not pay for the checks.
    """

    kpi_id = models.BigIntegerField(null=True, blank=True)
    data_product_id = models.BigIntegerField(null=True, blank=True)
    month = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        subject = f"KPI {self.kpi_id}" if self.kpi_id is not None else f"product {self.data_product_id}"
        return f"{subject}, {'every month' if self.month is None else f'{self.month:%Y-%m}'}"


class _ArrayOf(models.Field):
    """A PostgreSQL array of `base` (text elsewhere, where nothing reads it): written and read in SQL only."""

    def __init__(self, base: str, *args: object, **kwargs: object) -> None:
        self.base = base
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, path, [self.base, *args], kwargs

    def db_type(self, connection) -> str:
        return f"{self.base}[]" if connection.vendor == "postgresql" else "text"


class KpiMonthTotal(models.Model):
    """A KPI's current outcomes in one calendar month, with the running totals of every month before it.

    What an evaluation reads instead of the raw measurements (PostgreSQL): the totals of a KPI's
    current outcomes before any date `t` are those before `t`'s month plus the month's own periods
    before `t` (`periods` ascending, `running_sums[i]` the sum of the first `i`), so a window's
    sums are two such lookups. Rows run without a gap from the KPI's first month with an outcome
    to its last (months without one have empty arrays); `KpiTotal` holds what comes after the last.
    Maintained with the monthly rollup, from the same marks (`apps.valuation.services.kpi_totals`).
    """

    pk = models.CompositePrimaryKey("month", "kpi_id")
    month = models.DateField(help_text="The first day of the month.")
    kpi_id = models.BigIntegerField()  # no foreign key: the refresh writes thousands of rows at once
    count_before = models.BigIntegerField()
    sum_before = models.DecimalField(max_digits=34, decimal_places=4)
    latest_before = models.DateField(null=True)
    periods = _ArrayOf("date")
    running_sums = _ArrayOf("numeric")

    class Meta:
        indexes = [models.Index(fields=["kpi_id", "month"], name="kpi_month_total_kpi")]

    def __str__(self) -> str:
        return f"KPI {self.kpi_id} {self.month:%Y-%m}"


class KpiTotal(models.Model):
    """All of a KPI's current outcomes: how many, their sum, the latest period and its last month in `KpiMonthTotal`."""

    kpi_id = models.BigIntegerField(primary_key=True)
    last_month = models.DateField()
    count = models.BigIntegerField()
    total = models.DecimalField(max_digits=34, decimal_places=4)
    latest = models.DateField(null=True)

    def __str__(self) -> str:
        return f"KPI {self.kpi_id}: {self.count} outcomes"


class DomainMonthlyFigure(models.Model):
    """The sum of `MonthlyFigure` over a domain's products in one month, kept with it by each refresh.

    A portfolio's monthly series reads a few rows per month from here instead of one per product.
    """

    domain = models.ForeignKey("catalog.Domain", on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()
    value = models.DecimalField(max_digits=30, decimal_places=10, default=Decimal("0"))
    cost = models.DecimalField(max_digits=30, decimal_places=10, default=Decimal("0"))

    class Meta:
        ordering = ["domain_id", "month"]
        constraints = [models.UniqueConstraint(fields=["domain", "month"], name="domain_monthly_figure_unique")]
        indexes = [models.Index(fields=["month"], name="domain_monthly_figure_month")]

    def __str__(self) -> str:
        return f"domain {self.domain_id} {self.month:%Y-%m}: value {self.value}, cost {self.cost}"


class PortfolioChange(models.Model):
    """A row per committed write that can change the portfolio's summed figures, or which products
    serve a goal and in what order (PostgreSQL triggers).

    Written by statement-level triggers, in the writer's own transaction, on: the evaluations; the
    products' insert, delete and change of lifecycle, sunset date or domain (migration 0013) or
    name; the attributions' insert, delete and move to another KPI or product; the KPIs' delete
    and move to another goal; the products' links to goals (0014). `portfolio_cached` keys what it
    caches by how many rows there are and the newest id, so a cached figure is never read after a
    write that could change it committed. Rows are never deleted (a few per evaluation run): a
    deletion could bring back an earlier key.
    """

    # Part of the key too: a database emptied with its sequences restarted counts from 1 again.
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"portfolio change {self.pk}"
