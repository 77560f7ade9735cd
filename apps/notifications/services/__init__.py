"""Notifications about alerts and retirements: e-mail, signed webhooks, digests.

The valuation and governance services call `alerts_opened_notify` and
`retirement_decided_notify` inside their transactions; the notifications are written as
outbox rows there and sent by Celery after commit (see `outbox` and `sending`).
"""

from apps.notifications.services.alerts import alerts_opened_notify
from apps.notifications.services.retirement import retirement_decided_notify

__all__ = ["alerts_opened_notify", "retirement_decided_notify"]
