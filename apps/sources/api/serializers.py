"""Data sources (never their connection string), pull runs, and the Test action's preview."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import ApiModelSerializer
from apps.kpis.models import SOURCE_QUERY_MAX_LENGTH
from apps.sources.models import DataSource, PullRun
from apps.sources.reading import source_url


class DataSourceSerializer(ApiModelSerializer):
    env_var = serializers.CharField(read_only=True, help_text="The environment variable holding the connection string.")
    variable_set = serializers.SerializerMethodField(help_text="Whether that variable is set on this server.")

    class Meta:
        model = DataSource
        fields = ["id", "name", "kind", "description", "statement_timeout_s", "row_cap", "env_var", "variable_set"]
        read_only_fields = fields

    def get_variable_set(self, source: DataSource) -> bool:
        return source_url(source) is not None


class PullRunSerializer(ApiModelSerializer):
    source_name = serializers.CharField(source="source.name", read_only=True, default=None, allow_null=True)
    rows_refused = serializers.IntegerField(read_only=True)

    class Meta:
        model = PullRun
        fields = [
            "id",
            "kpi",
            "source",
            "source_name",
            "query",
            "trigger",
            "status",
            "started_at",
            "finished_at",
            "rows_read",
            "rows_stored",
            "rows_corrected",
            "rows_unchanged",
            "rows_refused",
            "refused",
            "error",
        ]
        read_only_fields = fields


class SourceTestInputSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=SOURCE_QUERY_MAX_LENGTH, help_text="SQL returning (period_start, value).")
    kpi = serializers.IntegerField(min_value=1, help_text="The KPI whose outcomes the rows are checked against.")


class PreviewRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    period_start = serializers.CharField()
    value = serializers.CharField()
    status = serializers.ChoiceField(choices=["new", "unchanged", "correction", "refused"])
    reason = serializers.CharField(allow_blank=True)
    previous = serializers.CharField(allow_null=True, help_text="The stored value a correction replaces.")


class PreviewCountsSerializer(serializers.Serializer):
    new = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    correction = serializers.IntegerField()
    refused = serializers.IntegerField()


class SourceTestResultSerializer(serializers.Serializer):
    error = serializers.CharField(allow_blank=True, help_text="Why the query could not run (empty when it ran).")
    counts = PreviewCountsSerializer()
    rows = PreviewRowSerializer(many=True)
