from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.kpis.models import KPI, Attribution, Measurement


class AttributionInline(admin.TabularInline):
    model = Attribution
    extra = 0
    autocomplete_fields = ("data_product",)


@admin.register(KPI)
class KPIAdmin(SimpleHistoryAdmin):
    list_display = ("name", "goal", "unit", "direction", "cadence", "baseline", "target", "value_per_unit", "source")
    list_filter = ("cadence", "direction", "goal__domain", "source")
    search_fields = ("name", "description", "goal__name")
    autocomplete_fields = ("goal",)
    list_select_related = ("goal", "source")
    inlines = [AttributionInline]
    ordering = ("goal__name", "name")


@admin.register(Attribution)
class AttributionAdmin(SimpleHistoryAdmin):
    list_display = ("kpi", "data_product", "weight")
    list_filter = ("kpi__goal__domain",)
    search_fields = ("kpi__name", "data_product__name")
    autocomplete_fields = ("kpi", "data_product")
    list_select_related = ("kpi", "data_product")


@admin.register(Measurement)
class MeasurementAdmin(admin.ModelAdmin):
    """Measurements are append-only: corrections are recorded as new revisions, never edited here."""

    list_display = ("kpi", "period_start", "value", "revision", "is_current", "source", "recorded_by", "recorded_at")
    list_filter = ("is_current", "source", "kpi__cadence", "kpi__goal__domain")
    search_fields = ("kpi__name", "note", "recorded_by__username")
    date_hierarchy = "period_start"
    list_select_related = ("kpi", "recorded_by")
    ordering = ("-period_start", "kpi__name", "-revision")
    readonly_fields = ("revision", "is_current", "recorded_at")
    autocomplete_fields = ("kpi",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False
