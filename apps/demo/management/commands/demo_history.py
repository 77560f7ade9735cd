"""Give the demo a past: monthly evaluations over the last year and a few recorded decisions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.governance.models import Alert, AlertStatus, Decision
from apps.governance.services import alert_decide
from apps.valuation.models import EvaluationRun
from apps.valuation.services import portfolio_evaluate
from meshvalue.periods import add_months

DEMO_RATIONALE_MARK = "[demo]"
# (product slug, alert kind, action, days from the alert to the decision, rationale, days after today
# to revisit, None for the policy's default)
DEMO_DECISIONS = [
    ("customer-360", "invest", "invest", 6, "Repeat-rate gains hold up; fund the real-time profile.", None),
    ("fraud-signals", "invest", "invest", 11, "Chargebacks keep falling; extend scoring to marketplace sellers.", None),
    (
        "vendor-spend",
        "stale_kpi",
        "keep",
        3,
        "Procurement re-baselines savings next quarter; logging resumes then.",
        None,
    ),
    # Held: the retire alert does not come back before the audit (DESIGN.md v2, revisit_on).
    ("cost-allocation", "retire", "keep", 19, "Needed for the audit this year; revisit after the audit.", 75),
]


def _aware(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


class Command(BaseCommand):
    help = (
        "Evaluate the demo portfolio on the 1st of each of the last MONTHS months and today, then decide a few alerts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--months", type=int, default=12, help="How many months of history (default 12).")
        parser.add_argument("--today", help="The last evaluation date, YYYY-MM-DD (default: today).")

    def handle(self, *args, **options) -> None:
        if not 0 <= options["months"] <= 36:
            raise CommandError("--months must be between 0 and 36.")
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--today must be a date as YYYY-MM-DD, not {options['today']!r}.") from None
        dates = [add_months(today, -offset) for offset in range(options["months"], 0, -1)] + [today]
        for as_of in dates:
            run = EvaluationRun.objects.create(as_of=as_of, trigger="demo")
            summary = portfolio_evaluate(as_of=as_of, run=run)
            # Alerts of a past evaluation were raised on that day, not now.
            Alert.objects.filter(opened_on=as_of, created_at__date__gt=as_of).update(created_at=_aware(as_of))
            self.stdout.write(
                f"  evaluated {summary.products_evaluated} products as of {as_of}: "
                f"{summary.alerts_opened} alerts opened, {summary.alerts_resolved} resolved"
            )
        decided = self._decide(today)
        # Today's evaluation again, now that decisions hold their alerts: its reasons say so.
        portfolio_evaluate(as_of=today)
        self.stdout.write(
            self.style.SUCCESS(f"Demo history ready: {len(dates)} evaluation dates, {decided} decisions.")
        )

    @transaction.atomic
    def _decide(self, today: date) -> int:
        lead = User.objects.filter(username="gov").first()
        if lead is None:
            raise CommandError("Run seed_demo first: the governance lead 'gov' does not exist.")
        decided = 0
        for slug, kind, action, days, rationale, revisit_days in DEMO_DECISIONS:
            if Decision.objects.filter(data_product__slug=slug, rationale__startswith=DEMO_RATIONALE_MARK).exists():
                continue
            alert = (
                Alert.objects.filter(data_product__slug=slug, kind=kind)
                .exclude(status=AlertStatus.RESOLVED)
                .order_by("opened_on")
                .first()
            )
            if alert is None:
                continue
            decision = alert_decide(
                alert=alert,
                user=lead,
                action=action,
                rationale=f"{DEMO_RATIONALE_MARK} {rationale}",
                revisit_on=today + timedelta(days=revisit_days) if revisit_days is not None else None,
            )
            decided_at = min(_aware(alert.opened_on + timedelta(days=days), hour=15), timezone.now())
            Decision.objects.filter(pk=decision.pk).update(decided_at=decided_at)
            Alert.objects.filter(pk=alert.pk).update(resolved_at=decided_at)
            decided += 1
        return decided
