"""Value bets: a hypothesis that a data product will move a goal, reviewed honestly."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.core.audit import audit_trail


class BetStatus(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    VOID = "void", "Void"


class ValueBet(models.Model):
    hypothesis = models.TextField()
    data_product = models.ForeignKey("catalog.DataProduct", on_delete=models.PROTECT, related_name="bets")
    goal = models.ForeignKey("catalog.BusinessGoal", on_delete=models.PROTECT, related_name="bets")
    expected_value = models.DecimalField(max_digits=16, decimal_places=2)
    expected_cost = models.DecimalField(max_digits=16, decimal_places=2)
    opens_on = models.DateField()
    review_on = models.DateField()
    status = models.CharField(max_length=8, choices=BetStatus.choices, default=BetStatus.OPEN)
    realised_value = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    realised_cost = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    settled_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = audit_trail()

    class Meta:
        ordering = ["review_on", "id"]
        indexes = [models.Index(fields=["status", "review_on"], name="bet_status_review")]
        constraints = [
            models.CheckConstraint(condition=Q(review_on__gte=F("opens_on")), name="bet_review_after_open"),
            models.CheckConstraint(condition=Q(expected_cost__gte=0), name="bet_expected_cost_non_negative"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(status="void") | Q(realised_value__isnull=False),
                name="bet_settled_has_realised_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.data_product}: {self.hypothesis[:60]}"
