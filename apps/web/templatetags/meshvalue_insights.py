"""Filters of the decision-loop and readiness pages."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def share(value: object) -> str:
    """A share in [0, 1] as a whole percentage ("67%"); a dash when there was nothing to measure."""
    figure = _decimal(value)
    if figure is None:
        return "—"
    return f"{(figure * 100).quantize(Decimal('1'), ROUND_HALF_UP)}%"


@register.filter
def days(value: object) -> str:
    """A number of days ("11.5 days", "1 day"); a dash when unknown."""
    figure = _decimal(value)
    if figure is None:
        return "—"
    text = f"{figure.quantize(Decimal('0.1'), ROUND_HALF_UP)}".removesuffix(".0")
    return f"{text} day" if text == "1" else f"{text} days"
