"""`field__any_of`: a list of values, or an IdArray written once, filter the same rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.catalog.models import Domain
from apps.core.sql import IdArray
from tests.factories import DomainFactory

pytestmark = pytest.mark.django_db


def test_a_list_and_an_id_array_select_the_same_rows_with_one_parameter(postgres):
    domains = [DomainFactory() for _ in range(4)]
    wanted = [domains[0].pk, domains[2].pk]
    by_list = set(Domain.objects.filter(pk__any_of=wanted).values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        by_array = set(Domain.objects.filter(pk__any_of=IdArray.of(wanted)).values_list("pk", flat=True))
    assert by_list == by_array == set(wanted)
    assert "ANY(" in queries[0]["sql"]
    assert not Domain.objects.filter(pk__any_of=IdArray.of([])).exists()
    assert IdArray.of(wanted).size == 2


def test_an_empty_list_matches_nothing():
    DomainFactory()
    assert not Domain.objects.filter(pk__any_of=[]).exists()
