from django.contrib import admin

from apps.costs.models import CostEntry


@admin.register(CostEntry)
class CostEntryAdmin(admin.ModelAdmin):
    list_display = ("data_product", "period_start", "amount", "currency", "category", "external_id")
    list_filter = ("category", "currency", "data_product__domain")
    search_fields = ("data_product__name", "note", "external_id")
    date_hierarchy = "period_start"
    list_select_related = ("data_product",)
    autocomplete_fields = ("data_product",)
    ordering = ("-period_start", "data_product__name")
