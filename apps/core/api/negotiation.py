"""Content negotiation that refuses an unknown `?format=` instead of ignoring an empty one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request


class ApiContentNegotiation(DefaultContentNegotiation):
    """DRF ignores `?format=` (empty) and answers 404 to `?format=xml`; both are a 400 here."""

    def select_renderer(self, request: Request, renderers: Iterable[Any], format_suffix: str | None = None) -> Any:
        param = self.settings.URL_FORMAT_OVERRIDE
        if param and not format_suffix and param in request.query_params:
            wanted = request.query_params.get(param)
            formats = [renderer.format for renderer in renderers]
            if wanted not in formats:
                raise ValidationError({param: [f"Choose one of: {', '.join(formats)}."]})
        return super().select_renderer(request, renderers, format_suffix)
