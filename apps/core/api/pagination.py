"""Page-number pagination with a page size the client may choose, within bounds."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from apps.core.counts import CountedPaginator


class ApiPagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 500 a page; the default comes from REST_FRAMEWORK["PAGE_SIZE"]).

    DRF would quietly use the default for `?page_size=abc` and cut `?page_size=9999` to the
    maximum; here both are refused (400), as the schema says: an integer from 1 to 500.
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    # The whole list of a big table counts from the counts its triggers keep (apps.core.counts).
    django_paginator_class = CountedPaginator

    def get_page_size(self, request: Request) -> int | None:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [f"Enter a whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def check_parameters(self, request: Request) -> None:
        """Refuse (400) a `page_size` or `page` that is not a whole number within bounds."""
        self.get_page_size(request)
        page = request.query_params.get(self.page_query_param)
        if page is not None and not (page.isascii() and page.isdigit() and int(page) >= 1):
            raise ValidationError({self.page_query_param: ["Enter a whole number from 1."]})

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
