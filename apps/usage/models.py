"""How often consumers used a data product, day by day."""

from django.db import models
from django.db.models import Q


class UsageRecord(models.Model):
    """Uses of a data product by one consumer (a username or a team name) on one day."""

    data_product = models.ForeignKey(
        "catalog.DataProduct", on_delete=models.CASCADE, related_name="usage_records", db_index=False
    )
    consumer = models.CharField(max_length=150)
    day = models.DateField()
    count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-day", "data_product_id", "consumer"]
        indexes = [
            # The API list's order (`usage_record_list`): a page off the index, not a sort of every day's rows.
            models.Index(fields=["-day", "data_product", "consumer", "id"], name="usage_list_order"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["data_product", "day", "consumer"], name="usage_unique_product_day_consumer"
            ),
            models.CheckConstraint(condition=Q(count__gte=0), name="usage_count_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.data_product} used by {self.consumer} on {self.day}: {self.count}"
