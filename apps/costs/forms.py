"""Browser forms of billing imports and allocation rules (the services do the checking)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms

from apps.catalog.models import DataProduct
from apps.costs.models import SplitMethod


class BillUploadForm(forms.Form):
    file = forms.FileField(label="FOCUS export", help_text="A .csv, .csv.gz or .parquet file from your cloud provider.")


class AllocationRuleForm(forms.Form):
    name = forms.CharField(max_length=200)
    tag_key = forms.CharField(max_length=200, required=False, help_text="Compared trimmed and case-insensitively.")
    tag_value = forms.CharField(max_length=300, required=False, help_text="Exact, or a glob such as orders-*.")
    sub_account_id = forms.CharField(max_length=300, required=False, label="Sub account id")
    resource_id_prefix = forms.CharField(max_length=1000, required=False, label="Resource id prefix")
    service_name = forms.CharField(max_length=300, required=False)
    split = forms.ChoiceField(choices=SplitMethod.choices, initial=SplitMethod.SINGLE)
    as_licenses = forms.BooleanField(required=False, label="Record as licenses")
    targets = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Products",
        help_text="One product slug per line; for a fixed split, its weight after it (orders 0.25).",
    )
    position = forms.IntegerField(required=False, min_value=1, help_text="Where it goes in the order (default: last).")

    def clean_targets(self) -> list[tuple[DataProduct, Decimal | None]]:
        lines = [line.split() for line in self.cleaned_data["targets"].splitlines() if line.strip()]
        slugs = [parts[0] for parts in lines]
        products = {p.slug: p for p in DataProduct.objects.filter(slug__in=slugs)}
        unknown = [slug for slug in slugs if slug not in products]
        if unknown:
            raise forms.ValidationError(f"No data product with the slug {', '.join(unknown)}.")
        targets = []
        for parts in lines:
            weight = None
            if len(parts) > 1:
                try:
                    weight = Decimal(parts[1])
                except InvalidOperation:
                    raise forms.ValidationError(f"{parts[1]} is not a weight.") from None
            targets.append((products[parts[0]], weight))
        return targets

    def rule_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("targets", None)
        if not data.get("position"):
            data.pop("position", None)
        return data
