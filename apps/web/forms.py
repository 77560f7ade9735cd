"""Forms of the web pages. They parse and label input; the rules live in the services they call."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.api.ingest import PLAIN_DECIMAL_MESSAGE, is_plain_decimal
from meshvalue.decision_loop import default_period

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


class PeriodForm(forms.Form):
    """The period of the decision-loop page: the twelve months ending today unless the reader picks one."""

    date_from = forms.DateField(label="From", required=False, widget=DateInput())
    date_to = forms.DateField(label="To", required=False, widget=DateInput())
    domain = forms.TypedChoiceField(label="Domain", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, domains: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["domain"]).choices = [("", "All domains"), *domains]

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        to = cleaned.get("date_to") or timezone.localdate()
        start = cleaned.get("date_from") or default_period(to)[0]
        if "date_to" in cleaned and to < AsOfForm.EARLIEST:
            self.add_error("date_to", f"Choose a date from {AsOfForm.EARLIEST:%-d %B %Y} on.")
        elif "date_from" in cleaned and start > to:
            self.add_error("date_from", "The period must start on or before its last day.")
        cleaned["date_from"], cleaned["date_to"] = start, to
        return cleaned

    def period(self) -> tuple[date, date, int | None]:
        """(from, to, domain id) when valid, else the default period over every domain (errors shown)."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["date_from"], self.cleaned_data["date_to"], self.cleaned_data.get("domain")
        start, to = default_period(timezone.localdate())
        return start, to, None


class ReadinessForm(AsOfForm):
    """The date and domain of the readiness page."""

    domain = forms.TypedChoiceField(label="Domain", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, domains: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["domain"]).choices = [("", "All domains"), *domains]


class MoneyInput(forms.TextInput):
    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs={"inputmode": "decimal", **(attrs or {})})


class ProductForm(forms.Form):
    """Register or edit a data product. The lifecycle is chosen only when registering (proposed or active)."""

    name = forms.CharField(label="Name", max_length=200)
    slug = forms.SlugField(
        label="Slug",
        required=False,
        max_length=200,
        help_text="Letters, numbers and hyphens; made from the name if empty.",
    )
    domain: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Domain", queryset=None, empty_label="Choose a domain…"
    )
    description = forms.CharField(label="Description", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lifecycle = forms.ChoiceField(
        label="Start as",
        choices=(("proposed", "Proposed: not serving yet"), ("active", "Active: serving consumers")),
        initial="proposed",
        widget=forms.RadioSelect,
    )
    launched_on = forms.DateField(
        label="Launched on", required=False, widget=DateInput(), help_text="Empty for an active product: today."
    )
    goals: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label="Goals it serves", queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, domains, goals, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["domain"]).queryset = domains
        cast(forms.ModelChoiceField, self.fields["goals"]).queryset = goals
        if editing:
            del self.fields["lifecycle"]
            self.fields["launched_on"].help_text = ""


class KpiLinkForm(forms.Form):
    """Credit the product with part of an existing KPI, from a start date and above a baseline (DESIGN.md v2)."""

    kpi: forms.ModelChoiceField[Any] = forms.ModelChoiceField(label="KPI", queryset=None, empty_label="Choose a KPI…")
    weight = forms.DecimalField(
        label="Weight", max_digits=5, decimal_places=4, widget=MoneyInput(), help_text="Share of the KPI, in (0, 1]."
    )
    starts_on = forms.DateField(
        label="Credited from", required=False, widget=DateInput(), help_text="Empty: the product's launch date."
    )
    baseline = forms.DecimalField(
        label="Baseline",
        required=False,
        max_digits=20,
        decimal_places=4,
        widget=MoneyInput(),
        help_text="The KPI's level when the product started serving it; empty: the KPI's own baseline.",
    )

    def __init__(self, *args, kpis, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["kpi"]).queryset = kpis


class KpiCreateForm(forms.Form):
    """A new KPI of one of the product's goals, credited to the product."""

    goal: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Goal", queryset=None, empty_label="Choose a goal…"
    )
    name = forms.CharField(label="KPI name", max_length=200)
    unit = forms.CharField(label="Unit", max_length=40)
    direction = forms.ChoiceField(label="Better when it", choices=())
    cadence = forms.ChoiceField(label="Cadence", choices=())
    kpi_baseline = forms.DecimalField(label="KPI baseline", max_digits=20, decimal_places=4, widget=MoneyInput())
    target = forms.DecimalField(label="Target", max_digits=20, decimal_places=4, widget=MoneyInput())
    value_per_unit = forms.DecimalField(
        label="Value per unit",
        max_digits=18,
        decimal_places=4,
        widget=MoneyInput(),
        help_text="Money one unit of improvement is worth in one period.",
    )
    weight = forms.DecimalField(label="Weight", max_digits=5, decimal_places=4, widget=MoneyInput(), initial="1")
    starts_on = forms.DateField(label="Credited from", required=False, widget=DateInput())

    def __init__(self, *args, goals, **kwargs) -> None:
        from apps.kpis.models import CadenceChoices, Direction

        kwargs.setdefault("prefix", "new")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["goal"]).queryset = goals
        cast(forms.ChoiceField, self.fields["direction"]).choices = Direction.choices
        cast(forms.ChoiceField, self.fields["cadence"]).choices = CadenceChoices.choices


class BetForm(forms.Form):
    """Place a value bet: the product moves a goal by the expected value, at the expected cost."""

    hypothesis = forms.CharField(label="Hypothesis", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    goal: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Goal", queryset=None, empty_label="Choose a goal…"
    )
    expected_value = forms.DecimalField(label="Expected value", max_digits=20, decimal_places=2, widget=MoneyInput())
    expected_cost = forms.DecimalField(label="Expected cost", max_digits=20, decimal_places=2, widget=MoneyInput())
    opens_on = forms.DateField(label="Opens on", widget=DateInput())
    review_on = forms.DateField(label="Review on", widget=DateInput())

    def __init__(self, *args, goals, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["goal"]).queryset = goals


class CostCorrectForm(forms.Form):
    """Correct one cost line: the new amount becomes the current revision; the old one is kept."""

    entry = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(label="Corrected amount", max_digits=14, decimal_places=2, widget=MoneyInput())
    note = forms.CharField(label="Why", required=False, max_length=2000)


class DebtForm(forms.Form):
    """A conscious shortcut: what, why, and when to look at it again."""

    title = forms.CharField(label="Shortcut", max_length=200)
    why = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 2}))
    revisit_on = forms.DateField(label="Revisit on", widget=DateInput())


class DebtResolveForm(forms.Form):
    resolution = forms.CharField(label="How it was resolved", widget=forms.Textarea(attrs={"rows": 2}))


class CatalogFilterForm(forms.Form):
    """The catalog's filters (GET); a bad value drops that filter only."""

    recommendation = forms.ChoiceField(label="Recommendation", required=False)
    lifecycle = forms.ChoiceField(label="Lifecycle", required=False)
    domain = forms.ChoiceField(label="Domain", required=False)

    def __init__(self, *args, domains: list[tuple[str, str]], **kwargs) -> None:
        from apps.catalog.models import Lifecycle
        from apps.valuation.models import Recommendation

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["recommendation"]).choices = [
            ("", "Any recommendation"),
            *Recommendation.choices,
        ]
        cast(forms.ChoiceField, self.fields["lifecycle"]).choices = [("", "Not retired"), *Lifecycle.choices]
        cast(forms.ChoiceField, self.fields["domain"]).choices = [("", "All domains"), *domains]

    def filters(self):
        from apps.web.selectors.catalog import CatalogFilters

        self.is_valid()
        data: dict[str, Any] = getattr(self, "cleaned_data", None) or {}
        return CatalogFilters(
            recommendation=data.get("recommendation") or "",
            lifecycle=data.get("lifecycle") or "",
            domain=data.get("domain") or "",
        )


class PolicyForm(forms.Form):
    """The thresholds of an evaluation policy. The order checks are said per field here; the database has them too."""

    window_days = forms.IntegerField(label="Main window (days)", min_value=1, max_value=3650)
    recent_days = forms.IntegerField(
        label="Recent window (days)", min_value=1, max_value=3650, help_text="At most the main window."
    )
    grace_days = forms.IntegerField(
        label="Incubation (days)", min_value=0, max_value=3650, help_text="New products are not judged before this."
    )
    retire_below = forms.DecimalField(
        label="Retire below (value/cost)", min_value=0, max_digits=8, decimal_places=4, widget=MoneyInput()
    )
    invest_above = forms.DecimalField(
        label="Invest from (value/cost)",
        min_value=0,
        max_digits=8,
        decimal_places=4,
        widget=MoneyInput(),
        help_text="At least the retire threshold.",
    )
    stale_periods = forms.IntegerField(
        label="Stale after (periods)",
        min_value=1,
        max_value=100,
        help_text="Periods of a KPI's cadence without an outcome.",
    )
    decision_quiet_days = forms.IntegerField(
        label="Quiet after a decision (days)",
        min_value=0,
        max_value=3650,
        help_text="The same alert is not raised again for this long after a decision.",
    )
    decision_sla_days = forms.IntegerField(
        label="Decide within (days)", min_value=1, max_value=365, help_text="The target time from alert to decision."
    )

    FIELDS = (
        "window_days",
        "recent_days",
        "grace_days",
        "retire_below",
        "invest_above",
        "stale_periods",
        "decision_quiet_days",
        "decision_sla_days",
    )

    def clean(self):
        data = super().clean() or {}
        window, recent = data.get("window_days"), data.get("recent_days")
        if window is not None and recent is not None and recent > window:
            self.add_error(
                "recent_days",
                f"The recent window ({recent} days) cannot be longer than the main window ({window} days).",
            )
        retire, invest = data.get("retire_below"), data.get("invest_above")
        if retire is not None and invest is not None and invest < retire:
            self.add_error(
                "invest_above",
                f"The invest threshold ({invest.normalize():f}) cannot be below the retire threshold "
                f"({retire.normalize():f}): thresholds go retire ≤ invest.",
            )
        return data


class SunsetPushForm(forms.Form):
    sunset_on = forms.DateField(label="New sunset date", widget=DateInput())

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_sunset_on(self) -> date:
        sunset_on = self.cleaned_data["sunset_on"]
        if sunset_on <= self.today:
            raise forms.ValidationError("Choose a date after today: to retire it now, confirm the retirement.")
        return sunset_on


class RetirementCancelForm(forms.Form):
    rationale = forms.CharField(label="Why it stays", widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class ProductTableForm(forms.Form):
    """The dashboard table's state (GET): sort, filters, search, page size and page.

    A bad value (an old bookmark, a hand-edited link) drops that part only and the table falls
    back to its default for it; nothing here ever answers an error.
    """

    sort = forms.CharField(required=False, max_length=20)
    domain = forms.ChoiceField(label="Domain", required=False)
    recommendation = forms.ChoiceField(label="Recommendation", required=False)
    q = forms.CharField(label="Name contains", required=False, max_length=100)
    per_page = forms.TypedChoiceField(label="Per page", required=False, coerce=int, empty_value=None)
    page = forms.IntegerField(required=False, min_value=1, max_value=10**9)

    def __init__(self, *args, domains: list[tuple[str, str]], **kwargs) -> None:
        from apps.valuation.models import Recommendation
        from apps.web.selectors.portfolio_table import PAGE_SIZES

        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["domain"]).choices = [("", "All domains"), *domains]
        cast(forms.ChoiceField, self.fields["recommendation"]).choices = [
            ("", "Any recommendation"),
            *Recommendation.choices,
        ]
        cast(forms.ChoiceField, self.fields["per_page"]).choices = [(str(n), str(n)) for n in PAGE_SIZES]

    def table_query(self):
        from apps.web.selectors.portfolio_table import DEFAULT_PAGE_SIZE, DEFAULT_SORT, SORT_FIELDS, ProductTableQuery

        self.is_valid()
        data: dict[str, Any] = {
            name: value
            for name, value in (getattr(self, "cleaned_data", None) or {}).items()
            if name not in self.errors
        }
        sort = data.get("sort") or DEFAULT_SORT
        descending = sort.startswith("-")
        sort = sort.removeprefix("-")
        if sort not in SORT_FIELDS:
            sort, descending = DEFAULT_SORT, False
        return ProductTableQuery(
            sort=sort,
            descending=descending,
            domain=data.get("domain") or "",
            recommendation=data.get("recommendation") or "",
            search=(data.get("q") or "").strip(),
            per_page=data.get("per_page") or DEFAULT_PAGE_SIZE,
            page=data.get("page") or 1,
        )
