"""The request type of pages that answer htmx, as django-htmx documents it for type checkers."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through `django_htmx.middleware.HtmxMiddleware`, which sets `htmx`."""

    htmx: HtmxDetails
