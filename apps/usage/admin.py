from django.contrib import admin

from apps.usage.models import UsageRecord


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ("data_product", "consumer", "day", "count")
    list_filter = ("data_product__domain",)
    search_fields = ("data_product__name", "consumer")
    date_hierarchy = "day"
    list_select_related = ("data_product",)
    autocomplete_fields = ("data_product",)
    ordering = ("-day", "data_product__name")
