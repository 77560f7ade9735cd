"""Forms of the web pages. They parse and label input; the rules live in the services they call."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.api.ingest import PLAIN_DECIMAL_MESSAGE, is_plain_decimal

if TYPE_CHECKING:
    from apps.catalog.models import DataProduct
    from apps.kpis.models import KPI
    from apps.sources.models import DataSource


def service_errors_add(form: forms.Form, error: ValidationError) -> None:
    """Show a service's errors on the form: beside their field where the form has it, else on top.

    The services raise the same messages for the API, so the page and the API always agree.
    """
    for field, field_errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class AsOfForm(forms.Form):
    """The as-of date of the dashboard: today unless the reader picks an earlier day."""

    as_of = forms.DateField(label="As of", required=False, widget=DateInput())

    # Two years of monthly history are drawn before the date: keep well inside the calendar.
    EARLIEST = date(2000, 1, 1)

    def clean_as_of(self) -> date:
        as_of = self.cleaned_data.get("as_of") or timezone.localdate()
        if as_of > timezone.localdate():
            raise forms.ValidationError("Choose today or an earlier date: the future has not been measured yet.")
        if as_of < self.EARLIEST:
            raise forms.ValidationError(f"Choose a date from {self.EARLIEST:%-d %B %Y} on.")
        return as_of

    def as_of_or_today(self) -> date:
        """The valid date, or today when the input is missing or bad (the error is shown beside the field)."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["as_of"]
        return timezone.localdate()


def _iso_date(value: str) -> date:
    return date.fromisoformat(value)


class OutcomeForm(forms.Form):
    """Log one KPI outcome. Only the KPIs of the user's products; only periods aligned to the KPI's cadence.

    Number parsing happens here; every rule about the outcome (alignment, size) is the service's,
    so the messages are the same as in the API.
    """

    kpi: forms.ModelChoiceField[KPI] = forms.ModelChoiceField(label="KPI", queryset=None, empty_label="Choose a KPI…")
    period_start = forms.TypedChoiceField(label="Period", coerce=_iso_date, choices=())
    value = forms.DecimalField(label="Value", widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, kpis, today: date, selected_kpi=None, **kwargs) -> None:
        from apps.web.selectors.workspace import period_options

        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["kpi"]).queryset = kpis
        # Not `self.kpi`: templates look `form.kpi` up as the bound field first.
        self.selected_kpi = selected_kpi
        self.period_options = period_options(kpi=selected_kpi, today=today)
        cast(forms.ChoiceField, self.fields["period_start"]).choices = [("", "Choose a period…")] + [
            (option.start.isoformat(), option.choice_label) for option in self.period_options
        ]
        if not self.period_options:
            self.fields["period_start"].help_text = "Choose a KPI first: the periods follow its cadence."

    def selected_period(self):
        """The chosen period's option (with the value it already has), if any."""
        raw = self.data.get(self.add_prefix("period_start")) if self.is_bound else self.initial.get("period_start")
        for option in self.period_options:
            if raw and option.start.isoformat() == str(raw):
                return option
        return None


class PlainDecimalField(forms.DecimalField):
    """A DecimalField that reads plain ASCII amounts only (`-?digits(.digits)?`): no "1_000", no full-width digits."""

    def to_python(self, value):
        number = super().to_python(value)  # "Enter a number." for what Decimal cannot read at all
        if number is not None and isinstance(value, str) and not is_plain_decimal(value):
            raise forms.ValidationError(PLAIN_DECIMAL_MESSAGE, code="invalid")
        return number


class CostForm(forms.Form):
    """Record one month's cost of one of the user's products."""

    data_product: forms.ModelChoiceField[DataProduct] = forms.ModelChoiceField(
        label="Data product", queryset=None, empty_label="Choose a product…"
    )
    period_start = forms.TypedChoiceField(label="Month", coerce=_iso_date, choices=())
    amount = PlainDecimalField(label="Amount", widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    category = forms.ChoiceField(label="Category", choices=())
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args, products, months: list[date], **kwargs) -> None:
        from apps.costs.models import CostCategory

        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["data_product"]).queryset = products
        cast(forms.ChoiceField, self.fields["period_start"]).choices = [(m.isoformat(), f"{m:%B %Y}") for m in months]
        cast(forms.ChoiceField, self.fields["category"]).choices = CostCategory.choices


class CsvUploadForm(forms.Form):
    """A CSV file of outcomes: kpi, period_start, value, note (see the help beside the form)."""

    file = forms.FileField(label="CSV file", help_text="UTF-8, comma-separated, with a header row.")

    MAX_BYTES = 5 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB; split it into smaller files.")
        return upload


class InboxFilterForm(forms.Form):
    """The filters of the governance inbox (GET); unknown values fall back to the defaults."""

    kind = forms.ChoiceField(label="Kind", required=False)
    status = forms.ChoiceField(label="Status", required=False)
    domain = forms.ChoiceField(label="Domain", required=False)
    age = forms.ChoiceField(label="Age", required=False)
    product = forms.SlugField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, domains: list[tuple[str, str]], **kwargs) -> None:
        from apps.governance.models import AlertKind
        from apps.web.selectors.inbox import AGE_FILTERS, STATUS_FILTERS

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = [("", "All kinds"), *AlertKind.choices]
        cast(forms.ChoiceField, self.fields["status"]).choices = list(STATUS_FILTERS.items())
        cast(forms.ChoiceField, self.fields["domain"]).choices = [("", "All domains"), *domains]
        cast(forms.ChoiceField, self.fields["age"]).choices = [
            (key, label) for key, (label, _, _) in AGE_FILTERS.items()
        ]

    def filters(self):
        from apps.web.selectors.inbox import InboxFilters

        # A bad value in one filter (an old bookmark) drops that filter only, not the others.
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return InboxFilters(
            kind=data.get("kind") or "",
            status=data.get("status") or "todo",
            domain=data.get("domain") or "",
            age=data.get("age") or "",
            product=data.get("product") or "",
        )


class SnoozeForm(forms.Form):
    until = forms.DateField(label="Snooze until", widget=DateInput())


class DecideForm(forms.Form):
    """Decide on an alert. The rules (rationale required, sunset date for retire, new owner for reassign)
    are the governance service's, so the messages match the API's."""

    action = forms.ChoiceField(label="Decision", widget=forms.RadioSelect)
    rationale = forms.CharField(
        label="Rationale", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    sunset_on = forms.DateField(label="Sunset date", required=False, widget=DateInput())
    new_owner = forms.TypedChoiceField(label="New owner", required=False, coerce=int, empty_value=None)
    revisit_on = forms.DateField(label="Revisit on", required=False, widget=DateInput())

    def __init__(self, *args, owners: list[tuple[int, str]], **kwargs) -> None:
        from apps.governance.models import DecisionAction

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["action"]).choices = DecisionAction.choices
        cast(forms.ChoiceField, self.fields["new_owner"]).choices = [("", "Choose the new owner…"), *owners]


class KpiSourceForm(forms.Form):
    """Point a KPI at a data source and write its query (both, or neither)."""

    source: forms.ModelChoiceField[DataSource] = forms.ModelChoiceField(
        label="Data source", queryset=None, required=False, empty_label="No source: outcomes are typed in"
    )
    source_query = forms.CharField(
        label="Query",
        required=False,
        max_length=20_000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text="SQL returning two columns, period_start and value; it runs read-only, with a time limit.",
    )

    def __init__(self, *args, sources, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["source"]).queryset = sources
