"""Notifications about alerts and retirements (e-mail, webhooks).

The valuation and governance services call these hooks inside their transactions; the
notification work itself is recorded as outbox rows and sent by Celery after commit.
"""

from __future__ import annotations

from collections.abc import Sequence


def alerts_opened_notify(*, alert_ids: Sequence[int]) -> None:
    """Queue notifications for alerts that have just opened (called once per transition)."""
    # Filled in by the notifications feature; a no-op keeps callers stable until then.
    return None


def retirement_decided_notify(*, decision_id: int) -> None:
    """Queue the notices that follow a decision to retire a data product."""
    return None
