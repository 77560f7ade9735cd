"""OpenAPI generation: every operation documents the error answers it can give."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from apps.core.api.serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    "400": "Bad input: a message per field (or per row and field for bulk writes); nothing was stored.",
    "401": "Not authenticated: send `Authorization: Token <key>` or log in.",
    "403": "Your role (or ownership) does not allow this; nothing was changed.",
    "404": "No such record (or page).",
    "409": "Conflicts with the stored data (still referenced, or changed meanwhile); nothing was changed.",
    "429": "Too many requests; retry later.",
}


class ApiAutoSchema(AutoSchema):
    """AutoSchema that adds the error answers of the API to every operation."""

    error_codes: tuple[str, ...] = ("400", "401", "403", "404", "409")

    def _get_paginator(self):  # drf-spectacular's hook
        # Only GET lists are paginated; a bulk write answers a plain list of what it stored.
        if self.method != "GET":
            return None
        return super()._get_paginator()

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        codes = getattr(self.view, "error_codes", None) or self.error_codes
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses
