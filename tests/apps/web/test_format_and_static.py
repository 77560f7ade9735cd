"""Money and figures as the pages print them; Plotly and htmx served by this server, not a CDN."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders

from apps.web.templatetags.meshvalue_format import (
    compact_money,
    duration_text,
    money,
    money_exact,
    number,
    ratio,
    signed_percent,
    trend_class,
)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234567.49"), "€1,234,567"),
        (Decimal("1234567.50"), "€1,234,568"),
        (Decimal("-320"), "\u2212€320"),
        (Decimal("0"), "€0"),
        (None, "—"),
        ("garbage", "—"),
        (Decimal("NaN"), "—"),
    ],
)
def test_money_in_whole_euros_with_thousands_separators(amount, expected):
    assert money(amount) == expected


def test_money_exact_compact_and_other_currencies():
    assert money_exact(Decimal("12500.5")) == "€12,500.50"
    assert money(Decimal("1000"), "USD") == "$1,000"
    assert money(Decimal("1000"), "SEK") == "1,000 SEK"
    assert compact_money(Decimal("1426300.74")) == "€1.43M"
    assert compact_money(Decimal("356139")) == "€356k"
    assert compact_money(Decimal("4172.40")) == "€4,172"
    assert compact_money(Decimal("2.5e9")) == "€2.50B"


def test_ratios_numbers_changes_and_durations():
    assert ratio(Decimal("2.9249")) == "2.92\u00d7"
    assert ratio(None) == "—"
    assert number(Decimal("1234.5000")) == "1,234.5"
    assert number(Decimal("-3.0000")) == "\u22123"
    assert signed_percent(Decimal("12.5")) == "+12.5%"
    assert signed_percent(Decimal("-3")) == "\u22123.0%"
    assert signed_percent(None) == "—"
    assert trend_class(Decimal("5"), "up") == "good"
    assert trend_class(Decimal("5"), "down") == "bad"
    assert trend_class(Decimal("0")) == "flat"
    assert duration_text(timedelta(days=1, hours=6)) == "1 d 6 h"
    assert duration_text(timedelta(hours=5, minutes=12)) == "5 h 12 min"
    assert duration_text(timedelta(minutes=3)) == "3 min"
    assert duration_text(None) == "—"


def test_plotly_is_found_in_the_pip_package_and_nothing_else_of_it():
    found = finders.find("vendor/plotly/plotly.min.js")
    assert found and found.replace("\\", "/").endswith("plotly/package_data/plotly.min.js")
    assert finders.find("vendor/plotly/widgetbundle.js") is None
    listed = [path for finder in finders.get_finders() for path, storage in finder.list(None) if "plotly" in path]
    assert listed == ["plotly.min.js"]


@pytest.mark.django_db
def test_pages_load_scripts_only_from_this_server(client, executive):
    client.force_login(executive)
    html = client.get("/").content.decode()
    assert 'src="/static/vendor/plotly/plotly.min.js"' in html
    assert "/static/django_htmx/htmx-2" in html
    assert "https://" not in html.split("<body", 1)[0]
    assert "cdn" not in html.lower()
    response = client.get("/static/vendor/plotly/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()
