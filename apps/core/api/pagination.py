"""Page-number pagination with a page size the client may choose, within bounds."""

from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    """`?page=N&page_size=M` (at most 500 a page; the default comes from REST_FRAMEWORK["PAGE_SIZE"])."""

    page_size_query_param = "page_size"
    max_page_size = 500
