"""Under /api/ every answer is JSON: unknown paths, server errors and database outages included.

- A path under /api/ that matches no view answers a JSON 404 (Django would render its HTML page).
- A PostgreSQL restart or failover makes queries raise `OperationalError` (or `InterfaceError` on a
  connection that died under it) for a few seconds. A client can retry such a request, so it gets
  503 with `Retry-After`, in JSON, rather than an HTML 500.
- Any other HTML error page Django renders under /api/ (a 500) becomes a JSON answer with the same
  status; the error itself is logged as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
# Seconds a client should wait before retrying: about as long as a PostgreSQL restart takes.
RETRY_AFTER_SECONDS = 5
_DETAILS = {
    404: "No such API path. The API's paths are listed in the schema at /api/schema/.",
    500: "Server error; nothing is known to have changed. Retry later or report it.",
}


def database_outage_response() -> JsonResponse:
    response = JsonResponse(
        {"detail": "The database is unavailable right now; nothing was changed. Retry later."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class ApiJsonErrorsMiddleware:
    """Keeps the answers under /api/ JSON when Django itself would answer an HTML error page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and response.status_code >= 400 and _is_html(response):
            status = response.status_code
            detail = _DETAILS.get(status) or _DETAILS[404 if status < 500 else 500]
            return JsonResponse({"detail": detail}, status=status)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith(API_PREFIX) and isinstance(exception, (OperationalError, InterfaceError)):
            log.warning("database unavailable while answering %s %s: %s", request.method, request.path, exception)
            return database_outage_response()
        return None
