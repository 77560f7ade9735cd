"""Admins declare data sources here. The page says whether the variable is set and whether the source
answers (the first line of its error when not); the connection string itself is never shown."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from apps.sources.models import DataSource, PullRun
from apps.sources.reading import source_answers, source_url


@admin.register(DataSource)
class DataSourceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "kind", "env_var", "variable_set", "statement_timeout_s", "row_cap")
    list_filter = ("kind",)
    search_fields = ("name", "description")
    readonly_fields = ("env_var", "variable_set", "answers")
    fields = ("name", "kind", "description", "statement_timeout_s", "row_cap", "env_var", "variable_set", "answers")

    @admin.display(description="environment variable")
    def env_var(self, source: DataSource) -> str:
        return source.env_var if source.name else "MESHVALUE_SOURCE_<NAME>_URL"

    @admin.display(description="variable set")
    def variable_set(self, source: DataSource) -> str:
        if not source.name:
            return "-"
        return "yes" if source_url(source) is not None else "no"

    @admin.display(description="answers")
    def answers(self, source: DataSource) -> str:
        """Runs a trivial query on the detail page only (a list of sources never connects anywhere)."""
        if not source.pk:
            return "-"
        answered, error = source_answers(source)
        return "yes" if answered else f"no ({error})"


@admin.register(PullRun)
class PullRunAdmin(admin.ModelAdmin):
    """Pull runs are a record: read them here, never edit them."""

    list_display = ("kpi", "source", "trigger", "status", "started_at", "rows_read", "rows_stored", "rows_unchanged")
    list_filter = ("status", "trigger", "source")
    search_fields = ("kpi__name", "error")
    list_select_related = ("kpi", "source")
    date_hierarchy = "started_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
