"""Login lockout (django-axes): the client address it counts by, and the answer a locked-out client gets.

The address follows the same rule as DRF's throttles (`NUM_PROXIES`): with no trusted proxy the
connection's own address, otherwise the entry that many hops from the right of X-Forwarded-For,
the one the nearest trusted proxy saw. A client can therefore not escape a lockout by sending
a made-up X-Forwarded-For.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def client_ip_address(request: HttpRequest) -> str | None:
    """The client's address as DRF's throttles see it (rest_framework.throttling.BaseThrottle.get_ident)."""
    remote_addr = request.META.get("REMOTE_ADDR")
    num_proxies = settings.NUM_PROXIES
    forwarded_for = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not forwarded_for:
        return remote_addr
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    if not hops:
        return remote_addr
    return hops[-min(num_proxies, len(hops))]


def _cool_off_minutes() -> int | None:
    cool_off = settings.AXES_COOLOFF_TIME
    return int(cool_off.total_seconds() // 60) if cool_off else None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """429 for a locked-out username and address: JSON under /api/, the styled lockout page elsewhere."""
    minutes = _cool_off_minutes()
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "detail": "Too many failed logins for this username from this address: login is locked"
                + (f" for {minutes} minutes" if minutes else "")
                + ". An administrator can unlock it sooner."
            },
            status=429,
        )
        if minutes:
            response["Retry-After"] = str(minutes * 60)
        return response
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    response = render(request, "registration/lockout.html", context, status=429)
    if minutes:
        response["Retry-After"] = str(minutes * 60)
    return response
