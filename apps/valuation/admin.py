"""Admin for evaluation policies (editable), evaluations and runs (read-only records)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from apps.accounts.auth import request_user
from apps.valuation.models import Evaluation, EvaluationPolicy, EvaluationRun
from apps.valuation.services import evaluation_run_start


@admin.register(EvaluationPolicy)
class EvaluationPolicyAdmin(SimpleHistoryAdmin):
    list_display = (
        "__str__",
        "window_days",
        "recent_days",
        "grace_days",
        "retire_below",
        "invest_above",
        "stale_periods",
        "updated_at",
    )
    list_select_related = ("domain",)
    autocomplete_fields = ("domain",)
    fieldsets = (
        (None, {"fields": ("is_default", "domain")}),
        ("Windows", {"fields": ("window_days", "recent_days", "grace_days", "stale_periods")}),
        ("Thresholds of value/cost", {"fields": ("retire_below", "invest_above")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: EvaluationPolicy | None = None) -> bool:
        # The default policy is what every domain without an override uses: keep it.
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evaluations and runs are written by the evaluation only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("data_product", "as_of", "recommendation", "value", "cost", "ratio", "recent_ratio", "net")
    list_filter = ("recommendation", "as_of", "data_product__domain")
    search_fields = ("data_product__name", "data_product__slug")
    date_hierarchy = "as_of"
    list_select_related = ("data_product",)
    raw_id_fields = ("data_product", "run")
    ordering = ("-as_of", "data_product__name")


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "as_of",
        "status",
        "trigger",
        "requested_by",
        "products_evaluated",
        "alerts_opened",
        "alerts_resolved",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "trigger")
    date_hierarchy = "created_at"
    list_select_related = ("requested_by",)
    actions = ["run_again"]

    @admin.action(description="Run the evaluation again for the same date")
    def run_again(self, request: HttpRequest, queryset) -> None:
        for as_of in sorted({run.as_of for run in queryset}):
            run = evaluation_run_start(as_of=as_of, requested_by=request_user(request), trigger="admin")
            self.message_user(request, f"Queued run {run.pk} as of {as_of}.", messages.SUCCESS)
