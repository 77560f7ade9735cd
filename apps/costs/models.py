"""Money spent on data products, month by month, and the cloud-bill imports that produce it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.audit import audit_trail


class CostCategory(models.TextChoices):
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    PEOPLE = "people", "People"
    LICENSES = "licenses", "Licenses"
    OTHER = "other", "Other"
    CREDIT = "credit", "Credit"


class CostSource(models.TextChoices):
    FORM = "form", "Form"
    CSV = "csv", "CSV upload"
    API = "api", "API"
    FOCUS = "focus", "FOCUS billing import"


class CostEntry(models.Model):
    """Money spent on a data product in one month (period_start is the 1st of the month).

    Append-only, like measurements: a correction or a restated bill adds a new revision for the same
    (data_product, period_start, category, source_key) and the older one stops being current.
    """

    data_product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.PROTECT, related_name="cost_entries", db_index=False
    )
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    category = models.CharField(max_length=16, choices=CostCategory.choices, default=CostCategory.OTHER)
    note = models.TextField(blank=True)
    # Finance's own id for the line; it is also the line's `source_key`, so re-sending it is a revision.
    # NULL, not "", when finance gave none (as before revisions, so existing API clients see the same value).
    external_id = models.CharField(max_length=200, null=True, blank=True, db_index=True)  # noqa: DJ001
    source = models.CharField(max_length=8, choices=CostSource.choices, default=CostSource.FORM)
    # What the figure stands for within (product, month, category): finance's external_id, the FOCUS
    # importer's aggregate key ("focus:<billing account>[:<sub account>]"), or blank for a typed-in cost.
    source_key = models.CharField(max_length=300, blank=True, default="")
    revision = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    cost_import = models.ForeignKey(
        "costs.CostImport", on_delete=models.SET_NULL, null=True, blank=True, related_name="cost_entries"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "cost entries"
        ordering = ["-period_start", "data_product_id", "id"]
        indexes = [
            models.Index(fields=["data_product", "period_start"], name="cost_product_period"),
            # The API's list of current lines (newest month, product, id): a page off the index, no sort.
            models.Index(
                fields=["-period_start", "data_product", "id"], condition=Q(is_current=True), name="cost_current_list"
            ),
        ]
        constraints = [
            # Refunds, credits and negative adjustments are `credit` entries <= 0; everything else is >= 0.
            models.CheckConstraint(
                condition=(Q(category="credit") & Q(amount__lte=0)) | (~Q(category="credit") & Q(amount__gte=0)),
                name="cost_amount_sign_by_category",
            ),
            models.UniqueConstraint(
                fields=["data_product", "period_start", "category", "source_key"],
                condition=Q(is_current=True),
                name="cost_one_current_per_key",
            ),
            models.UniqueConstraint(
                fields=["data_product", "period_start", "category", "source_key", "revision"],
                name="cost_unique_revision_per_key",
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="cost_revision_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.data_product} {self.period_start:%Y-%m}: {self.amount} {self.currency} ({self.category})"


class CostImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class CostImportFormat(models.TextChoices):
    FOCUS = "focus", "FOCUS 1.0-1.3"


class CostImport(models.Model):
    """One billing-export import: what was read, how it was allocated, what is left unallocated.

    The raw lines are never stored: `aggregates` keeps the file's sums by allocation key, so the
    rules can be re-applied to it or previewed. `result` holds the reconciliation the import page
    shows (per month, per product and category, the unallocated by tag values and accounts).
    """

    file_name = models.CharField(max_length=255)
    # Where the uploaded file waits for the worker; emptied once the import is done.
    file_path = models.CharField(max_length=1000, blank=True)
    checksum = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the file.")
    format = models.CharField(max_length=8, choices=CostImportFormat.choices, default=CostImportFormat.FOCUS)
    billing_currency = models.CharField(max_length=3, blank=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    total_effective = models.DecimalField(max_digits=24, decimal_places=12, default=0)
    total_billed = models.DecimalField(max_digits=24, decimal_places=12, default=0)
    allocated = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    unallocated = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    zero_effective_lines = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=10, choices=CostImportStatus.choices, default=CostImportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="cost_import_progress_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"


class CostImportAggregate(models.Model):
    """The sum of an import's lines sharing one allocation key (what rules match on), in the bill's currency."""

    cost_import = models.ForeignKey(CostImport, on_delete=models.CASCADE, related_name="aggregates")
    month = models.DateField()
    billing_account = models.CharField(max_length=300)
    sub_account = models.CharField(max_length=300, blank=True)
    service_name = models.CharField(max_length=300, blank=True)
    resource_id = models.CharField(max_length=1000, blank=True)
    tags = models.JSONField(default=dict, blank=True, help_text="Keys trimmed and lower-cased.")
    category = models.CharField(max_length=16, choices=CostCategory.choices)
    currency = models.CharField(max_length=3)
    effective = models.DecimalField(max_digits=24, decimal_places=12)
    billed = models.DecimalField(max_digits=24, decimal_places=12)
    lines = models.PositiveBigIntegerField()
    zero_effective_lines = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["cost_import", "month"], name="cost_aggregate_import_month")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.billing_account} {self.category}: {self.effective} {self.currency}"


class SplitMethod(models.TextChoices):
    SINGLE = "single", "One product"
    EVEN = "even", "Even split"
    PROPORTIONAL = "proportional", "Proportional to direct cost"
    FIXED = "fixed", "Fixed weights"


class AllocationRule(models.Model):
    """How a billing line finds its data product; rules are tried in `position` order, the first match wins.

    Every condition given must hold: a tag (key compared trimmed and case-insensitively, value exact
    or a glob such as `orders-*`), a SubAccountId, a ResourceId prefix, a ServiceName.
    """

    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    tag_key = models.CharField(max_length=200, blank=True)
    tag_value = models.CharField(max_length=300, blank=True, help_text="Exact value or a glob (*, ?, [...]).")
    sub_account_id = models.CharField(max_length=300, blank=True)
    resource_id_prefix = models.CharField(max_length=1000, blank=True)
    service_name = models.CharField(max_length=300, blank=True)
    split = models.CharField(max_length=12, choices=SplitMethod.choices, default=SplitMethod.SINGLE)
    # FOCUS charges land in infrastructure (Tax in other, Credit in credit) unless the rule says licenses.
    as_licenses = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    history = audit_trail()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(tag_key="", sub_account_id="", resource_id_prefix="", service_name=""),
                name="allocation_rule_matches_something",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.name}"


class AllocationTarget(models.Model):
    """A product a rule allocates to; `weight` is used by the `fixed` split only (weights sum to 1)."""

    rule = models.ForeignKey(AllocationRule, on_delete=models.CASCADE, related_name="targets")
    data_product = models.ForeignKey("catalog.DataProduct", on_delete=models.PROTECT, related_name="+")
    weight = models.DecimalField(max_digits=7, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["rule_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "data_product"], name="allocation_target_once_per_rule"),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | (Q(weight__gt=0) & Q(weight__lte=1)),
                name="allocation_target_weight_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} -> {self.data_product_id}" + ("" if self.weight is None else f" ({self.weight})")


class ExchangeRate(models.Model):
    """How much one unit of `currency` was worth in MESHVALUE_CURRENCY in `month` (the 1st of it)."""

    currency = models.CharField(max_length=3)
    month = models.DateField()
    rate = models.DecimalField(max_digits=20, decimal_places=10)

    class Meta:
        ordering = ["-month", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "month"], name="exchange_rate_once_per_month"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.month:%Y-%m}: {self.rate}"


class CostEntryCount(models.Model):
    """How many current cost entries a product has, kept by triggers (PostgreSQL; `apps.core.counts`).

    The costs list sums these instead of counting every current entry for its `count`.
    """

    data_product_id = models.BigIntegerField(primary_key=True)
    row_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"product {self.data_product_id}: {self.row_count} current cost entries"
