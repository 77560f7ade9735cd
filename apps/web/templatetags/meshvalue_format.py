"""Formatting of money, ratios and changes for the pages: display only, no arithmetic of the domain."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.html import format_html

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
MINUS = "\u2212"  # a real minus sign: a hyphen is easy to miss next to a currency symbol
TIMES = "\u00d7"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def money_text(amount: object, currency: str | None = None, places: int = 0) -> str:
    """`amount` as money with thousands separators: "€1,234,567", "-€320" (a real minus), "€12.50" with places=2."""
    number = _decimal(amount)
    if number is None:
        return "—"
    currency = (currency or settings.MESHVALUE_CURRENCY).upper()
    rounded = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = MINUS if rounded < 0 else ""
    digits = f"{abs(rounded):,.{places}f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


@register.filter
def money(amount: object, currency: str | None = None) -> str:
    """Whole currency units: `{{ figure|money }}`."""
    return money_text(amount, currency)


@register.filter
def signed_money(amount: object, currency: str | None = None) -> str:
    """A change of money with its sign: "+€600", "-€320" (a real minus), "±€0" (the digests' week-on-week changes)."""
    text = money_text(amount, currency)
    number = _decimal(amount)
    if number is None or text.startswith(MINUS):
        return text
    return ("+" if number.quantize(Decimal(1), ROUND_HALF_UP) > 0 else "±") + text


@register.filter
def money_exact(amount: object, currency: str | None = None) -> str:
    """Money to the cent: `{{ entry.amount|money_exact }}`."""
    return money_text(amount, currency, places=2)


@register.filter
def compact_money(amount: object, currency: str | None = None) -> str:
    """Large sums shortened for headline cards: €1.23M, €845k."""
    number = _decimal(amount)
    if number is None:
        return "—"
    size = abs(number)
    # (shorten from, divide by, suffix, decimals): under 10,000 the full figure is short enough.
    for threshold, divisor, suffix, places in (
        (Decimal("1e9"), Decimal("1e9"), "B", 2),
        (Decimal("1e6"), Decimal("1e6"), "M", 2),
        (Decimal("1e4"), Decimal("1e3"), "k", 0),
    ):
        if size >= threshold:
            return f"{money_text(number / divisor, currency, places=places)}{suffix}"
    return money_text(number, currency)


@register.filter
def ratio(value: object) -> str:
    """A value/cost ratio as "2.35" and a multiplication sign; a dash when there was no cost."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number.quantize(Decimal('0.01'), ROUND_HALF_UP)}{TIMES}"


@register.filter
def number(value: object, places: int = 2) -> str:
    """A measured value with thousands separators and trailing zeros removed: 1,234.5."""
    figure = _decimal(value)
    if figure is None:
        return "—"
    text = f"{figure.quantize(Decimal(1).scaleb(-int(places)), ROUND_HALF_UP):,.{int(places)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace("-", MINUS)


@register.filter
def percent(value: object) -> str:
    """A fraction as a whole percentage, "125%" for 1.25 (ROI); a dash when unknown."""
    figure = _decimal(value)
    if figure is None:
        return "—"
    rounded = (figure * 100).quantize(Decimal(1), ROUND_HALF_UP)
    return f"{rounded}%".replace("-", MINUS)


@register.filter
def signed_percent(value: object) -> str:
    """+12.5% or -3.0% (with a real minus) for changes; a dash when unknown."""
    figure = _decimal(value)
    if figure is None:
        return "—"
    sign = "+" if figure > 0 else (MINUS if figure < 0 else "±")
    return f"{sign}{abs(figure):.1f}%"


@register.filter
def trend_class(value: object, better: str = "up") -> str:
    """CSS class of a change: good, bad or flat; `better="down"` for costs, where a rise is bad."""
    figure = _decimal(value)
    if figure is None or figure == 0:
        return "flat"
    rising = figure > 0
    return "good" if rising == (better == "up") else "bad"


@register.filter
def duration_text(value: timedelta | None) -> str:
    """A duration as "3 d 4 h", "5 h 12 min" or "12 min"."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@register.filter
def age_days(value: date | None, today: date) -> int | None:
    if value is None:
        return None
    return (today - value).days


@register.simple_tag
def rec_badge(recommendation: str | None, label: str | None = None) -> str:
    """A coloured badge for a recommendation (colours: CSS classes rec-*)."""
    if not recommendation:
        return format_html('<span class="badge badge-muted">Not evaluated</span>')
    return format_html(
        '<span class="badge rec-{}">{}</span>', recommendation, label or recommendation.replace("_", " ").capitalize()
    )


@register.filter
def accessible(field, help_text: str = ""):
    """Render a form field's widget linked to its help text and error (aria-describedby, aria-invalid)."""
    described_by = []
    if help_text or field.help_text:
        described_by.append(f"{field.auto_id}_helptext")
    if field.errors:
        described_by.append(f"{field.auto_id}_error")
    attrs = {}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.simple_tag
def page_query(query, param: str, number: int) -> str:
    """The query string `query` (a QueryDict) with `param` set to page `number`, the rest kept."""
    params = query.copy()
    params[param] = str(number)
    return params.urlencode()
