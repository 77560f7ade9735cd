"""Alerts about data products and the decisions governance leads record on them."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class AlertKind(models.TextChoices):
    RETIRE = "retire", "Retire"
    INVEST = "invest", "Invest"
    REVIEW = "review", "Review"
    STALE_KPI = "stale_kpi", "Stale KPI"
    ORPHANED = "orphaned", "Orphaned"
    BET_DUE = "bet_due", "Bet due"
    DEBT_DUE = "debt_due", "Conscious debt due"
    SOURCE_FAILING = "source_failing", "KPI source failing"


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


UNRESOLVED_STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED)


class Alert(models.Model):
    """A signal about a product; at most one unresolved alert per (product, kind)."""

    data_product = models.ForeignKey("catalog.DataProduct", on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=16, choices=AlertKind.choices)
    status = models.CharField(max_length=14, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    evaluation = models.ForeignKey(
        "valuation.Evaluation", on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    message = models.TextField()
    opened_on = models.DateField(help_text="The evaluation date that raised the alert.")
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True, help_text="Why the alert was resolved.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "kind"], name="alert_status_kind"),
            models.Index(fields=["data_product", "status"], name="alert_product_status"),
            # The inbox's order: its first page off the index instead of sorting every unresolved
            # alert with its product, owner and evaluation joined (34 ms at 7,676 alerts).
            models.Index(fields=["-opened_on", "-id"], name="alert_newest_first"),
            # The API list's order (`alert_list`): a page off the index instead of sorting every alert.
            models.Index(fields=["-created_at", "-id"], name="alert_created_list"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["data_product", "kind"],
                condition=~Q(status=AlertStatus.RESOLVED),
                name="alert_one_unresolved_per_product_kind",
            ),
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.SNOOZED) | Q(snoozed_until__isnull=False),
                name="alert_snoozed_has_until",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alert on {self.data_product} ({self.status})"


class DecisionAction(models.TextChoices):
    RETIRE = "retire", "Retire"
    INVEST = "invest", "Invest"
    KEEP = "keep", "Keep"
    REASSIGN_OWNER = "reassign_owner", "Reassign owner"


class Decision(models.Model):
    """What governance decided on an alert or a product, and why."""

    alert = models.ForeignKey(Alert, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions")
    data_product = models.ForeignKey("catalog.DataProduct", on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=16, choices=DecisionAction.choices)
    rationale = models.TextField()
    sunset_on = models.DateField(null=True, blank=True)
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="decisions")
    decided_at = models.DateTimeField(auto_now_add=True)
    # Until this date the same kind of alert is not raised again for the product (DESIGN.md v2).
    revisit_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]
        # The decision log's order (`decision_list`): a page off the index, not a sort of every decision.
        indexes = [models.Index(fields=["-decided_at", "-id"], name="decision_newest_first")]
        constraints = [
            models.CheckConstraint(condition=~Q(rationale=""), name="decision_rationale_required"),
            models.CheckConstraint(
                condition=~Q(action=DecisionAction.RETIRE) | Q(sunset_on__isnull=False),
                name="decision_retire_has_sunset",
            ),
            models.CheckConstraint(
                condition=~Q(action=DecisionAction.REASSIGN_OWNER) | Q(new_owner__isnull=False),
                name="decision_reassign_has_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.data_product}"
