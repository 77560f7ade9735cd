"""The graceful retirement of a data product: notices, the reminder, and the sunset itself."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from apps.accounts.models import User
from apps.catalog.models import DataProduct, Lifecycle
from apps.core.locks import job_try_lock
from apps.governance.models import Decision, DecisionAction
from apps.notifications.models import Channel, Event
from apps.notifications.selectors import (
    CONSUMER_WINDOW_DAYS,
    ConsumerRecipients,
    consumer_recipients,
    consumers_by_product,
)
from apps.notifications.services.outbox import NewDelivery, deliveries_create


def _notices(
    *,
    event: str,
    event_key: str,
    product: DataProduct,
    consumers: list[str],
    resolved: ConsumerRecipients,
    owner: User,
    extra: dict,
    **links,
) -> list[NewDelivery]:
    """One e-mail per person among the consumers and the owner; a skipped row per unreachable consumer."""
    people: dict[int, tuple[User, list[str]]] = {}
    for name in consumers:
        for user in resolved.users_by_name.get(name, []):
            people.setdefault(user.pk, (user, []))[1].append(name)
    if owner.is_active and owner.email:
        people.setdefault(owner.pk, (owner, []))
    rows = [
        NewDelivery(
            event=event,
            event_key=event_key,
            channel=Channel.EMAIL,
            recipient=f"user:{user.pk}",
            user_id=user.pk,
            data_product_id=product.pk,
            payload={**extra, "as_consumer": sorted(names), "is_owner": user.pk == product.owner_id},
            **links,
        )
        for user, names in people.values()
    ]
    rows += [
        NewDelivery(
            event=event,
            event_key=event_key,
            channel=Channel.EMAIL,
            recipient=f"consumer:{name}"[:200],
            data_product_id=product.pk,
            payload={**extra, "consumer": name},
            skipped_reason=f"No user or team member named {name!r} has an e-mail address.",
            **links,
        )
        for name in consumers
        if name not in resolved.users_by_name
    ]
    return rows


def retirement_decided_notify(*, decision_id: int) -> list[int]:
    """Queue the notices of a decision to retire, in the decision's transaction.

    The product's consumers (users and teams in its usage records of the last 90 days; a team
    reaches its members) and its owner get an e-mail with the sunset date and the rationale.
    A consumer nobody answers to by e-mail is recorded as a skipped delivery, visible in the
    admin. Returns the ids of the deliveries created.
    """
    decision = Decision.objects.select_related("data_product", "data_product__owner").filter(pk=decision_id).first()
    if decision is None or decision.action != DecisionAction.RETIRE:
        return []
    product = decision.data_product
    as_of = timezone.localdate()
    consumers = consumers_by_product(product_ids=[product.pk], as_of=as_of).get(product.pk, [])
    rows = _notices(
        event=Event.RETIREMENT_NOTICE,
        event_key=f"decision:{decision.pk}",
        product=product,
        consumers=consumers,
        resolved=consumer_recipients(consumers),
        owner=product.owner,
        extra={"sunset_on": decision.sunset_on.isoformat()},  # type: ignore[union-attr]  # a retire decision has one
        decision_id=decision.pk,
    )
    return deliveries_create(deliveries=rows)


def sunset_reminders_queue(*, as_of: date) -> list[int]:
    """Queue the reminders of sunsets coming within `NOTIFICATION_SUNSET_REMINDER_DAYS` of `as_of`.

    One reminder per product and sunset date (a moved sunset gets its own), to its owner and
    its consumers: those of the 90 days before the decision and anyone who used it since. A
    product whose retirement was decided inside the reminder window skips it: its notice went
    out days ago. Run daily; a missed day is caught up by the next run, and a second run the
    same day queues nothing new.
    """
    days = settings.NOTIFICATION_SUNSET_REMINDER_DAYS
    with transaction.atomic():
        if not job_try_lock("notifications.sunset_reminders"):
            return []
        products = list(
            DataProduct.objects.filter(
                lifecycle=Lifecycle.DEPRECATED, sunset_on__gt=as_of, sunset_on__lte=as_of + timedelta(days=days)
            )
            .select_related("owner")
            .annotate(decided_at=Max("decisions__decided_at", filter=Q(decisions__action=DecisionAction.RETIRE)))
            .order_by("pk")
        )
        due = [
            product
            for product in products
            if product.decided_at is None
            or timezone.localdate(product.decided_at) < product.sunset_on - timedelta(days=days)  # type: ignore[operator]
        ]
        # Those told at the decision are reminded too, even if they stopped using it since.
        since = {
            product.pk: min(as_of, timezone.localdate(product.decided_at)) - timedelta(days=CONSUMER_WINDOW_DAYS)
            for product in due
            if product.decided_at is not None
        }
        consumers = consumers_by_product(product_ids=[product.pk for product in due], as_of=as_of, since=since)
        resolved = consumer_recipients({name for names in consumers.values() for name in names})
        rows: list[NewDelivery] = []
        for product in due:
            rows += _notices(
                event=Event.SUNSET_REMINDER,
                event_key=f"product:{product.pk}:{product.sunset_on.isoformat()}",  # type: ignore[union-attr]
                product=product,
                consumers=consumers.get(product.pk, []),
                resolved=resolved,
                owner=product.owner,
                extra={"sunset_on": product.sunset_on.isoformat(), "days_left": (product.sunset_on - as_of).days},  # type: ignore[union-attr,operator]
            )
        return deliveries_create(deliveries=rows)
