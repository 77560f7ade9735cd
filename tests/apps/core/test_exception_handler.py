"""The API's answer when a delete is refused because other rows refer to the one deleted."""

import pytest
from django.db.models import ProtectedError, RestrictedError

from apps.core.api.exceptions import api_exception_handler
from tests.factories import DataProductFactory


@pytest.mark.django_db
@pytest.mark.parametrize("error_class", [ProtectedError, RestrictedError])
def test_a_refused_delete_names_what_still_refers_to_the_row(error_class):
    product = DataProductFactory()
    response = api_exception_handler(error_class("refused", {product}), {})
    assert response is not None and response.status_code == 409
    assert response.data["detail"] == "This cannot be deleted: data products still refer to it."
