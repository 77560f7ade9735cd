"""Domains, business goals and the data products that serve them."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.audit import audit_trail


class Domain(models.Model):
    """A line of business."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_domains", null=True, blank=True
    )
    description = models.TextField(blank=True)
    history = audit_trail()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GoalStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    ACHIEVED = "achieved", "Achieved"
    ABANDONED = "abandoned", "Abandoned"


class BusinessGoal(models.Model):
    """An objective a domain pursues over a time span, sponsored by someone accountable."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="goals")
    sponsor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sponsored_goals")
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=16, choices=GoalStatus.choices, default=GoalStatus.ACTIVE)
    history = audit_trail()

    class Meta:
        ordering = ["domain__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="goal_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


class Lifecycle(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


class DataProduct(models.Model):
    """A data product: a bet that serving some data well moves one or more business goals."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="data_products")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_data_products")
    description = models.TextField(blank=True)
    lifecycle = models.CharField(max_length=16, choices=Lifecycle.choices, default=Lifecycle.PROPOSED)
    launched_on = models.DateField(null=True, blank=True)
    sunset_on = models.DateField(null=True, blank=True)
    goals = models.ManyToManyField(BusinessGoal, related_name="data_products", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = audit_trail(m2m_fields=["goals"], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["lifecycle", "domain"], name="product_lifecycle_domain"),
            # The product list's order (name, then id): a page is read off it instead of a sort.
            models.Index(fields=["name", "id"], name="product_name_id"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(sunset_on__isnull=True) | Q(launched_on__isnull=True) | Q(sunset_on__gte=F("launched_on")),
                name="product_sunset_after_launch",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ConsciousDebt(models.Model):
    """A shortcut taken on purpose for a product (a manual step, a missing automation, a known gap).

    Written down so that it is revisited: on `revisit_on` an unresolved debt raises `debt_due`.
    """

    data_product = models.ForeignKey(DataProduct, on_delete=models.CASCADE, related_name="debts")
    title = models.CharField(max_length=200)
    why = models.TextField(help_text="Why the shortcut was taken and what it costs to keep it.")
    revisit_on = models.DateField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revisit_on", "id"]
        indexes = [models.Index(fields=["data_product", "revisit_on"], name="debt_product_revisit")]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="debt_title_required"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution=""), name="debt_resolution_when_resolved"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.data_product})"
