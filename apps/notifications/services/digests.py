"""Weekly digests: the portfolio for executives, the governance backlog for governance leads."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction

from apps.accounts.roles import Role
from apps.core.locks import job_try_lock
from apps.notifications.models import WEEKLY_DIGEST_TOPIC, Channel, Event
from apps.notifications.selectors import (
    email_opt_outs,
    executive_digest_data,
    governance_leads_by_domain,
    governance_week,
    role_members,
)
from apps.notifications.services.messages import alert_link, product_link
from apps.notifications.services.outbox import NewDelivery, deliveries_create
from apps.valuation.decision_loop import DecisionLoop, OverdueAlert, decision_loop
from meshvalue.decision_loop import default_period

# Rows listed in one e-mail per section; the counts always cover everything.
DIGEST_LIST_LIMIT = 20


def _week_key(as_of: date) -> str:
    """The Monday of `as_of`'s ISO week: one digest per person and week, however often the job runs."""
    return (as_of - timedelta(days=as_of.weekday())).isoformat()


def _past_sla_row(alert: OverdueAlert, domains: dict[int, str]) -> dict:
    return {
        "kind": alert.kind,
        "product": alert.product,
        "domain": domains.get(alert.domain_id, ""),
        "raised_on": alert.raised_on.isoformat(),
        "days_open": alert.days_open,
        "sla_days": alert.sla_days,
        "link": alert_link(alert.alert_id),
    }


def _loop_of_the_year(as_of: date) -> DecisionLoop:
    """The decision loop of the twelve months ending the day before `as_of` (the digest's last full day)."""
    date_from, date_to = default_period(as_of - timedelta(days=1))
    return decision_loop(date_from=date_from, date_to=date_to)


def _executive_loop(loop: DecisionLoop) -> dict:
    """The digest's decision-loop lines: the period's win rate, avoided cost and alerts past the SLA."""
    domains = {domain.domain_id: domain.name for domain in loop.domains}
    total = loop.total
    return {
        "from": loop.date_from.isoformat(),
        "to": loop.date_to.isoformat(),
        "won": total.bets.won,
        "lost": total.bets.lost,
        "win_rate": None if total.win_rate is None else str(total.win_rate),
        "avoided_cost": str(total.avoided_cost),
        "retirements": total.retirements,
        "alerts_past_sla_count": len(loop.alerts_past_sla),
        "alerts_past_sla": [_past_sla_row(alert, domains) for alert in loop.alerts_past_sla[:DIGEST_LIST_LIMIT]],
    }


def _governance_payloads(*, as_of: date, loop: DecisionLoop | None = None) -> dict[int, dict]:
    """Each governance lead's digest content, for the domains they lead (see governance_leads_by_domain)."""
    overdue_days = settings.NOTIFICATION_DECISION_OVERDUE_DAYS
    week = governance_week(as_of=as_of, horizon_days=settings.NOTIFICATION_SUNSET_HORIZON_DAYS)
    leads_by_domain = governance_leads_by_domain()
    domains_by_lead: dict[int, set[int]] = {}
    for domain_id, leads in leads_by_domain.items():
        for lead in leads:
            domains_by_lead.setdefault(lead.pk, set()).add(domain_id)

    def alert_row(alert) -> dict:
        return {
            "kind": alert.get_kind_display(),
            "status": alert.status,
            "product": alert.data_product.name,
            "domain": alert.data_product.domain.name,
            "opened_on": alert.opened_on.isoformat(),
            "days_open": (as_of - alert.opened_on).days,
            "message": alert.message,
            "link": alert_link(alert.pk),
        }

    loop = loop or _loop_of_the_year(as_of)
    domain_names = {domain.domain_id: domain.name for domain in loop.domains}
    payloads: dict[int, dict] = {}
    for lead_id, domain_ids in domains_by_lead.items():
        past_sla = [alert for alert in loop.alerts_past_sla if alert.domain_id in domain_ids]
        alerts = [alert for alert in week.open_alerts if alert.data_product.domain_id in domain_ids]
        overdue = [alert for alert in alerts if (as_of - alert.opened_on).days > overdue_days]
        sunsets = [product for product in week.upcoming_sunsets if product.domain_id in domain_ids]
        late = [
            (week.late_cost_products[pid], late)
            for pid, late in sorted(week.late_costs.items())
            if pid in week.late_cost_products and week.late_cost_products[pid].domain_id in domain_ids
        ]
        payloads[lead_id] = {
            "as_of": as_of.isoformat(),
            "overdue_days": overdue_days,
            "open_alerts_count": len(alerts),
            "open_alerts": [alert_row(alert) for alert in alerts[:DIGEST_LIST_LIMIT]],
            "overdue_count": len(overdue),
            "overdue": [alert_row(alert) for alert in overdue[:DIGEST_LIST_LIMIT]],
            "past_sla_count": len(past_sla),
            "past_sla": [_past_sla_row(alert, domain_names) for alert in past_sla[:DIGEST_LIST_LIMIT]],
            "sunsets_count": len(sunsets),
            "sunsets": [
                {
                    "product": product.name,
                    "domain": product.domain.name,
                    "owner": product.owner.username,
                    "sunset_on": product.sunset_on.isoformat(),  # type: ignore[union-attr]  # deprecated: set
                    "link": product_link(product.slug),
                }
                for product in sunsets[:DIGEST_LIST_LIMIT]
            ],
            "late_costs": [
                {
                    "product": product.name,
                    "sunset_on": late.sunset_on.isoformat(),
                    "total": str(late.total),
                    "entries": late.entries,
                    "link": product_link(product.slug),
                }
                for product, late in late[:DIGEST_LIST_LIMIT]
            ],
        }
    return payloads


def weekly_digests_queue(*, as_of: date) -> list[int]:
    """Queue this week's digests: one per executive and one per governance lead.

    Executives get the portfolio's value, cost and net with their change over the week,
    alerts opened, decisions made and bets settled, and the decision loop of the last twelve
    months (win rate, avoided cost, alerts past the SLA). Governance leads get the unresolved
    alerts of their domains, those waiting for a decision longer than
    `NOTIFICATION_DECISION_OVERDUE_DAYS`, those past their domain's decision SLA, sunsets within
    `NOTIFICATION_SUNSET_HORIZON_DAYS`
    and costs recorded after a sunset. Users who turned the weekly digest off get none.
    Idempotent per ISO week. Returns the ids of the deliveries created.
    """
    with transaction.atomic():
        if not job_try_lock("notifications.weekly_digests"):
            return []
        week = _week_key(as_of)
        executives = [user for user in role_members(Role.EXECUTIVE) if user.email]
        leads = [user for user in role_members(Role.GOVERNANCE_LEAD) if user.email]
        opted_out = {
            user_id
            for user_id, _ in email_opt_outs(
                user_ids={user.pk for user in [*executives, *leads]}, topics=[WEEKLY_DIGEST_TOPIC]
            )
        }
        rows: list[NewDelivery] = []
        loop = _loop_of_the_year(as_of) if executives or leads else None
        if executives and loop is not None:
            summary = {**executive_digest_data(as_of=as_of), "decision_loop": _executive_loop(loop)}
            rows += [
                NewDelivery(
                    event=Event.EXECUTIVE_DIGEST,
                    event_key=week,
                    channel=Channel.EMAIL,
                    recipient=f"user:{user.pk}",
                    user_id=user.pk,
                    payload=summary,
                )
                for user in executives
                if user.pk not in opted_out
            ]
        if leads:
            payloads = _governance_payloads(as_of=as_of, loop=loop)
            rows += [
                NewDelivery(
                    event=Event.GOVERNANCE_DIGEST,
                    event_key=week,
                    channel=Channel.EMAIL,
                    recipient=f"user:{user.pk}",
                    user_id=user.pk,
                    payload=payloads[user.pk],
                )
                for user in leads
                if user.pk not in opted_out and user.pk in payloads
            ]
        return deliveries_create(deliveries=rows)
