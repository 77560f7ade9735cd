"""The CSV upload of outcomes: every bad row named, nothing stored until the file is clean and confirmed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.kpis.models import Measurement
from tests.apps.web.conftest import build_portfolio


def _upload(client, text: str, name: str = "outcomes.csv"):
    return client.post("/workspace/upload/", {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


@pytest.fixture
def mine(product_owner):
    return build_portfolio(products=2, owner=product_owner)


@pytest.mark.django_db
def test_a_clean_file_is_previewed_then_stored_only_when_confirmed(client, product_owner, mine):
    first, second = mine.kpis
    client.force_login(product_owner)
    before = Measurement.objects.count()
    response = _upload(
        client,
        f"kpi,period_start,value,note\n{first.pk},2026-03-01,140,march\n{second.pk},2026-02-01,128,fix\n",
    )
    assert response.status_code == 200
    preview = response.context["preview"]
    rows = preview["result"].rows
    assert [(r.row, r.kpi_name, r.period, r.value, r.replaces) for r in rows] == [
        (1, "KPI of product 0", "March 2026", Decimal("140"), None),
        (2, "KPI of product 1", "February 2026", Decimal("128"), Decimal("130.0000")),
    ]
    assert "Confirm and store 2 rows" in response.content.decode()
    assert Measurement.objects.count() == before  # nothing stored by the preview

    response = client.post("/workspace/upload/confirm/", {"token": preview["token"]})
    assert response.status_code == 302
    assert Measurement.objects.count() == before + 2
    stored = Measurement.objects.get(kpi=first, period_start=date(2026, 3, 1))
    assert (stored.value, stored.source, stored.recorded_by, stored.note) == (
        Decimal("140"),
        "csv",
        product_owner,
        "march",
    )
    correction = Measurement.objects.get(kpi=second, period_start=date(2026, 2, 1), is_current=True)
    assert correction.revision == 2
    page = client.get(response["Location"]).content.decode()
    assert "Stored 2 outcomes from outcomes.csv, 1 of them corrections." in page
    # A token is good for one confirmation only.
    again = client.post("/workspace/upload/confirm/", {"token": preview["token"]}, follow=True)
    assert "expired or was already stored" in again.content.decode()
    assert Measurement.objects.count() == before + 2


@pytest.mark.django_db
def test_a_file_with_bad_rows_is_refused_with_every_row_named_and_nothing_stored(client, product_owner, mine):
    other = build_portfolio(products=1)
    kpi = mine.kpis[0]
    client.force_login(product_owner)
    before = Measurement.objects.count()
    response = _upload(
        client,
        "kpi,period_start,value\n"
        f"{kpi.pk},2026-03-01,140\n"  # good
        f"{kpi.pk},2026-03-04,1\n"  # not the 1st of a month
        f"{kpi.pk},2026-02-01,lots\n"  # not a number
        f"{other.kpis[0].pk},2026-03-01,1\n"  # someone else's KPI
        "999999,2026-03-01,1\n",  # no such KPI
    )
    assert response.status_code == 200
    errors = dict(response.context["upload_errors"].errors)
    assert sorted(errors) == [2, 3, 4, 5]
    assert "does not start a monthly period" in errors[2][0][1]
    assert errors[3][0][0] == "value"
    assert "attributed to no product of yours" in errors[4][0][1]
    assert "does not exist" in errors[5][0][1]
    html = response.content.decode()
    assert "The file was refused: 4 rows have problems. Nothing was stored." in html
    assert "Row 2" in html and "Row 5" in html and "Row 1<" not in html
    assert response.context["preview"] is None
    assert Measurement.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"kpi,value\n1,2\n", "period_start"),
        (b"kpi,period_start,value\n", "no data rows"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(client, product_owner, mine, content, message):
    client.force_login(product_owner)
    response = client.post("/workspace/upload/", {"file": SimpleUploadedFile("x.csv", content, "text/csv")})
    assert response.status_code == 200
    (row, problems), *_ = response.context["upload_errors"].errors
    assert row == 0 and message in problems[0][1]
    assert '<th scope="row" class="num">File</th>' in response.content.decode()


@pytest.mark.django_db
def test_an_empty_or_missing_file_is_a_form_error(client, product_owner, mine):
    client.force_login(product_owner)
    empty = client.post("/workspace/upload/", {"file": SimpleUploadedFile("x.csv", b"", "text/csv")})
    assert "The submitted file is empty." in empty.context["upload_form"].errors["file"]
    missing = client.post("/workspace/upload/", {})
    assert "This field is required." in missing.context["upload_form"].errors["file"]


@pytest.mark.django_db
def test_a_file_that_became_bad_before_confirmation_stores_nothing(client, product_owner, mine):
    kpi = mine.kpis[0]
    client.force_login(product_owner)
    preview = _upload(client, f"kpi,period_start,value\n{kpi.pk},2026-03-01,140\n").context["preview"]
    # Meanwhile the product is handed to someone else: the owner may no longer log for its KPI.
    product = mine.products[0]
    product.owner = build_portfolio(products=1).products[0].owner
    product.save()
    before = Measurement.objects.count()
    response = client.post("/workspace/upload/confirm/", {"token": preview["token"]})
    assert response.status_code == 200
    assert "attributed to no product of yours" in response.content.decode()
    assert Measurement.objects.count() == before


def test_previews_wait_in_temporary_files_not_in_the_session_row(client, product_owner, mine, settings, tmp_path):
    """Three large previews used to make a 13 MB session row; now the session holds tokens and names only."""
    from django.contrib.sessions.models import Session

    settings.MESHVALUE_UPLOAD_DIR = str(tmp_path)
    first = mine.kpis[0]
    client.force_login(product_owner)
    note = "x" * 1900
    body = "kpi,period_start,value,note\n" + "".join(
        f"{first.pk},2026-0{month}-01,1{month}0,{note}\n" for month in (1, 2, 3)
    )
    tokens = [_upload(client, body).context["preview"]["token"] for _ in range(4)]
    session = Session.objects.get(session_key=client.session.session_key)
    assert len(session.session_data) < 2000
    # At most three previews are kept; the oldest one's file is gone with it.
    assert sorted(p.stem for p in tmp_path.glob("*.csv")) == sorted(tokens[1:])
    assert client.post("/workspace/upload/confirm/", {"token": tokens[-1]}).status_code == 302
    assert not (tmp_path / f"{tokens[-1]}.csv").exists()


@pytest.mark.django_db
def test_a_row_equal_to_the_current_revision_previews_as_unchanged_and_stores_nothing(client, product_owner, mine):
    kpi = mine.kpis[1]
    current = Measurement.objects.get(kpi=kpi, period_start=date(2026, 2, 1), is_current=True)
    client.force_login(product_owner)
    before = Measurement.objects.count()
    response = _upload(
        client,
        "kpi,period_start,value,note\n"
        f"{kpi.pk},2026-02-01,{current.value},{current.note}\n"  # the same value and note: nothing to store
        f"{kpi.pk},2026-02-01,{current.value},another note\n",  # the same value, a new note: a correction
    )
    preview = response.context["preview"]
    rows = preview["result"].rows
    assert [(r.unchanged, r.replaces) for r in rows] == [(True, None), (False, current.value)]
    assert "unchanged: nothing stored" in response.content.decode()
    client.post("/workspace/upload/confirm/", {"token": preview["token"]})
    assert Measurement.objects.count() == before + 1
    assert Measurement.objects.get(kpi=kpi, period_start=date(2026, 2, 1), is_current=True).note == "another note"
