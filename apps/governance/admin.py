from django.contrib import admin

from apps.governance.models import Alert, Decision


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    fields = ("action", "rationale", "sunset_on", "new_owner", "decided_by", "decided_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        # Decisions are made through the inbox or the API, where they are also applied.
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("data_product", "kind", "status", "opened_on", "snoozed_until", "resolved_at")
    list_filter = ("status", "kind", "data_product__domain")
    search_fields = ("data_product__name", "message", "resolution")
    date_hierarchy = "opened_on"
    list_select_related = ("data_product",)
    raw_id_fields = ("evaluation",)
    autocomplete_fields = ("data_product", "acknowledged_by")
    inlines = [DecisionInline]
    ordering = ("-created_at",)


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    list_display = ("data_product", "action", "decided_by", "decided_at", "sunset_on", "new_owner")
    list_filter = ("action", "data_product__domain")
    search_fields = ("data_product__name", "rationale", "decided_by__username")
    date_hierarchy = "decided_at"
    list_select_related = ("data_product", "decided_by", "new_owner")
    autocomplete_fields = ("data_product", "new_owner", "decided_by", "previous_owner")
    raw_id_fields = ("alert",)
    ordering = ("-decided_at",)
