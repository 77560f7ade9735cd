from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.bets.models import ValueBet


@admin.register(ValueBet)
class ValueBetAdmin(SimpleHistoryAdmin):
    list_display = ("data_product", "goal", "status", "expected_value", "realised_value", "opens_on", "review_on")
    list_filter = ("status", "data_product__domain")
    search_fields = ("hypothesis", "data_product__name", "goal__name")
    date_hierarchy = "review_on"
    list_select_related = ("data_product", "goal")
    autocomplete_fields = ("data_product", "goal", "created_by")
    ordering = ("review_on",)
