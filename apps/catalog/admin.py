from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.catalog.models import BusinessGoal, ConsciousDebt, DataProduct, Domain


@admin.register(Domain)
class DomainAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "owner")
    search_fields = ("name", "slug", "owner__username")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("owner",)
    ordering = ("name",)


@admin.register(BusinessGoal)
class BusinessGoalAdmin(SimpleHistoryAdmin):
    list_display = ("name", "domain", "sponsor", "status", "starts_on", "ends_on")
    list_filter = ("status", "domain")
    search_fields = ("name", "slug", "description", "sponsor__username")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("sponsor", "domain")
    date_hierarchy = "starts_on"
    list_select_related = ("domain", "sponsor")
    ordering = ("domain__name", "name")


@admin.register(DataProduct)
class DataProductAdmin(SimpleHistoryAdmin):
    list_display = ("name", "domain", "owner", "lifecycle", "launched_on", "sunset_on")
    list_filter = ("lifecycle", "domain")
    search_fields = ("name", "slug", "description", "owner__username")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("owner", "domain", "goals")
    list_select_related = ("domain", "owner")
    date_hierarchy = "launched_on"
    ordering = ("name",)


@admin.register(ConsciousDebt)
class ConsciousDebtAdmin(admin.ModelAdmin):
    list_display = ("title", "data_product", "revisit_on", "resolved_at", "created_by")
    list_filter = ("resolved_at",)
    search_fields = ("title", "why", "data_product__name")
    autocomplete_fields = ("data_product",)
    list_select_related = ("data_product", "created_by")
    date_hierarchy = "revisit_on"
