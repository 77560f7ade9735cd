"""`manage.py evaluate [--as-of YYYY-MM-DD]`: evaluate the portfolio here and now (no broker needed)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.valuation.models import EvaluationRun
from apps.valuation.services import portfolio_evaluate


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {text!r}.") from None


class Command(BaseCommand):
    help = "Evaluate every active data product as of a date (default today), synchronously, and raise alerts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", dest="as_of", help="The evaluation date, YYYY-MM-DD (default: today).")
        parser.add_argument("--chunk-size", dest="chunk_size", type=int, help="Products per chunk (default: setting).")

    def handle(self, *args, **options) -> None:
        as_of = _as_of(options["as_of"]) if options.get("as_of") else timezone.localdate()
        if options.get("chunk_size") is not None and options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        run = EvaluationRun.objects.create(as_of=as_of, trigger="command")
        try:
            summary = portfolio_evaluate(as_of=as_of, run=run, chunk_size=options.get("chunk_size"))
        except Exception as error:
            EvaluationRun.objects.filter(pk=run.pk).update(status="failed", error=f"{type(error).__name__}: {error}")
            raise
        recommendations = ", ".join(f"{name} {count}" for name, count in sorted(summary.recommendations.items()))
        self.stdout.write(
            self.style.SUCCESS(
                f"Evaluated {summary.products_evaluated} active product(s) as of {as_of.isoformat()} "
                f"(run {run.pk}): {recommendations or 'nothing to evaluate'}; "
                f"{summary.alerts_opened} alert(s) opened, {summary.alerts_resolved} resolved."
            )
        )
