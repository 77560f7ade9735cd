"""Money spent on data products, month by month."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CostCategory(models.TextChoices):
    INFRASTRUCTURE = "infrastructure", "Infrastructure"
    PEOPLE = "people", "People"
    LICENSES = "licenses", "Licenses"
    OTHER = "other", "Other"
    CREDIT = "credit", "Credit"


class CostEntry(models.Model):
    """Money spent on a data product in one month (period_start is the 1st of the month)."""

    data_product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.PROTECT, related_name="cost_entries", db_index=False
    )
    period_start = models.DateField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    category = models.CharField(max_length=16, choices=CostCategory.choices, default=CostCategory.OTHER)
    note = models.TextField(blank=True)
    # Finance's own id for the line: re-importing the same file changes nothing.
    external_id = models.CharField(max_length=200, unique=True, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "cost entries"
        ordering = ["-period_start", "data_product_id", "id"]
        indexes = [models.Index(fields=["data_product", "period_start"], name="cost_product_period")]
        constraints = [
            # Refunds, credits and negative adjustments are `credit` entries <= 0; everything else is >= 0.
            models.CheckConstraint(
                condition=(Q(category="credit") & Q(amount__lte=0)) | (~Q(category="credit") & Q(amount__gte=0)),
                name="cost_amount_sign_by_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_product} {self.period_start:%Y-%m}: {self.amount} {self.currency} ({self.category})"
