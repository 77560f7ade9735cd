"""The requests and answers of `data-products/import/` and `data-products/export/`."""

from __future__ import annotations

from rest_framework import serializers

from apps.catalog.models import Lifecycle
from apps.interchange.lifecycle import EXPORT_FORMATS, FORMATS


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="One .yaml/.yml file, or a .zip of them (at most 1,000 entries, 1 MB each).")
    format = serializers.ChoiceField(choices=FORMATS, help_text="The files' format.")
    dry_run = serializers.BooleanField(default=False, help_text="Report what would change; store nothing.")
    create_domains = serializers.BooleanField(default=False, help_text="Create domains the files name but are missing.")


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="bitol")
    domain = serializers.SlugField(required=False, help_text="Only the products of this domain (its slug).")
    lifecycle = serializers.ChoiceField(choices=Lifecycle.choices, required=False)
    decided_since = serializers.DateField(required=False, help_text="Only products with a decision since this date.")


class ProductOutcomeSerializer(serializers.Serializer):
    file = serializers.CharField()
    slug = serializers.CharField()
    changes = serializers.ListField(child=serializers.CharField())


class SkippedSerializer(serializers.Serializer):
    file = serializers.CharField()
    what = serializers.CharField()
    why = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    format = serializers.CharField()
    dry_run = serializers.BooleanField()
    created = ProductOutcomeSerializer(many=True)
    updated = ProductOutcomeSerializer(many=True)
    unchanged = ProductOutcomeSerializer(many=True)
    skipped = SkippedSerializer(many=True)
    domains_created = serializers.ListField(child=serializers.SlugField(), help_text="With create_domains.")


class FileProblemSerializer(serializers.Serializer):
    file = serializers.CharField()
    path = serializers.CharField(help_text="The field's path in the file (empty: the file as a whole).")
    message = serializers.CharField()


class ImportErrorSerializer(serializers.Serializer):
    """Problems in the files (`detail` and `problems`), or a bad request (`{field: [messages]}`, e.g. no file)."""

    detail = serializers.CharField(required=False)
    problems = FileProblemSerializer(many=True, required=False)
