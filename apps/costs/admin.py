from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.costs.models import AllocationRule, AllocationTarget, CostEntry, CostImport, CostImportAggregate, ExchangeRate


@admin.register(CostEntry)
class CostEntryAdmin(admin.ModelAdmin):
    list_display = (
        "data_product",
        "period_start",
        "amount",
        "currency",
        "category",
        "source",
        "revision",
        "is_current",
        "cost_import",
    )
    list_filter = ("is_current", "source", "category", "currency", "data_product__domain")
    search_fields = ("data_product__name", "note", "external_id", "source_key")
    date_hierarchy = "period_start"
    list_select_related = ("data_product", "cost_import")
    autocomplete_fields = ("data_product",)
    raw_id_fields = ("cost_import",)
    ordering = ("-period_start", "data_product__name", "-revision")


class CostImportAggregateInline(admin.TabularInline):
    model = CostImportAggregate
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False
    fields = (
        "month",
        "billing_account",
        "sub_account",
        "service_name",
        "category",
        "currency",
        "effective",
        "billed",
        "lines",
    )
    readonly_fields = fields


@admin.register(CostImport)
class CostImportAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "file_name",
        "status",
        "rows_read",
        "billing_currency",
        "allocated",
        "unallocated",
        "created_at",
    )
    list_filter = ("status", "format")
    search_fields = ("file_name", "checksum")
    readonly_fields = [field.name for field in CostImport._meta.fields]


class AllocationTargetInline(admin.TabularInline):
    model = AllocationTarget
    extra = 1
    autocomplete_fields = ("data_product",)


@admin.register(AllocationRule)
class AllocationRuleAdmin(SimpleHistoryAdmin):
    list_display = (
        "position",
        "name",
        "tag_key",
        "tag_value",
        "sub_account_id",
        "resource_id_prefix",
        "service_name",
        "split",
    )
    list_display_links = ("name",)
    ordering = ("position", "id")
    inlines = [AllocationTargetInline]


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "month", "rate")
    list_filter = ("currency",)
    ordering = ("-month", "currency")
