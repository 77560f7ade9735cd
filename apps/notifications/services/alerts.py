"""Alert notifications: who hears about an alert that has just opened."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from apps.governance.models import Alert
from apps.notifications.models import Channel, Event
from apps.notifications.selectors import email_opt_outs, governance_leads_by_domain, webhook_subscriptions_active
from apps.notifications.services.outbox import NewDelivery, deliveries_create


def alerts_opened_notify(*, alert_ids: Sequence[int], batch_key: str = "") -> list[int]:
    """Queue the notifications of alerts that have just opened, in the caller's transaction.

    Each alert is e-mailed to the governance leads of its product's domain and to the
    product's owner (once each, unless they turned e-mail off for that kind of alert) and
    posted to every active webhook subscription whose kinds and domains match (empty means
    all). The outbox rows' unique constraint means a second call for the same alert sends
    nothing: notification happens on the transition to open, never twice. A fixed number of
    queries, whatever the number of alerts. Returns the ids of the deliveries created.

    Each person gets one e-mail listing all their alerts of the batch: `batch_key` names it
    (the evaluation passes its run, so the chunks of one run share one message per person when
    they finish close together); without one, the alerts of this call are the batch.
    """
    batch_key = batch_key or f"call:{uuid.uuid4().hex}"
    alerts = list(Alert.objects.filter(pk__in=list(alert_ids)).select_related("data_product", "data_product__owner"))
    if not alerts:
        return []
    leads = governance_leads_by_domain({alert.data_product.domain_id for alert in alerts})
    recipients = {
        alert.pk: {user.pk: user for user in [*leads.get(alert.data_product.domain_id, []), alert.data_product.owner]}
        for alert in alerts
    }
    opted_out = email_opt_outs(
        user_ids={pk for users in recipients.values() for pk in users}, topics={alert.kind for alert in alerts}
    )
    subscriptions = webhook_subscriptions_active()
    rows: list[NewDelivery] = []
    for alert in alerts:
        common: dict[str, Any] = {
            "event": Event.ALERT_OPENED,
            "event_key": f"alert:{alert.pk}",
            "alert_id": alert.pk,
            "data_product_id": alert.data_product_id,
        }
        for user in recipients[alert.pk].values():
            if (user.pk, alert.kind) in opted_out:
                continue  # the user's choice, not a loss
            reachable = user.is_active and user.email
            rows.append(
                NewDelivery(
                    **common,
                    channel=Channel.EMAIL,
                    recipient=f"user:{user.pk}",
                    user_id=user.pk,
                    batch_key=batch_key,
                    skipped_reason="" if reachable else "No active account with an e-mail address.",
                )
            )
        for subscription in subscriptions:
            if subscription.kinds and alert.kind not in subscription.kinds:
                continue
            domain_ids = subscription.domain_ids  # type: ignore[attr-defined]  # set by the selector
            if domain_ids and alert.data_product.domain_id not in domain_ids:
                continue
            rows.append(
                NewDelivery(
                    **common,
                    channel=Channel.WEBHOOK,
                    recipient=f"webhook:{subscription.pk}",
                    subscription_id=subscription.pk,
                )
            )
    return deliveries_create(deliveries=rows)
