"""The decision loop and value-tracking readiness of the portfolio (executives and governance leads)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from apps.catalog.models import Domain
from apps.core.api import access
from apps.core.api.serializers import BoundedDateField
from apps.core.api.viewsets import ApiView
from apps.valuation.decision_loop import DecisionLoop, decision_loop
from apps.valuation.readiness import ReadinessReport, readiness_report
from meshvalue.decision_loop import DecisionLoopFigures, default_period
from meshvalue.readiness import CHECK_DEFINITIONS, CHECK_LABELS, CHECKS, DomainReadiness

# The alerts past the SLA the decision loop lists without `?alerts=all`: a large portfolio has
# thousands (7,676 in `make bench-web`, 1.4 MB of JSON), and `totals.alerts_past_sla` counts them all.
# Likewise the failing products each readiness check lists without `?failing=all` (144 KB at 10,000
# products, for twenty domains and their total); `failing_count` counts them all.
ROWS_LISTED = 50

MONEY: dict[str, Any] = {"max_digits": 24, "decimal_places": 2}
SHARE: dict[str, Any] = {"max_digits": 12, "decimal_places": 4, "allow_null": True}


def _existing_domain(domain_id: int | None) -> int | None:
    """The domain id a query names, or None for every domain; a domain that does not exist is a 404."""
    if domain_id is not None and not Domain.objects.filter(pk=domain_id).exists():
        raise NotFound(f"There is no domain {domain_id}.")
    return domain_id


# --- the decision loop ----------------------------------------------------------------------------
class DecisionLoopQuerySerializer(serializers.Serializer):
    to = BoundedDateField(required=False, help_text="The last day of the period (inclusive); today when left out.")
    domain = serializers.IntegerField(
        min_value=1, required=False, help_text="Only this domain's figures (a domain id; 404 when there is none)."
    )
    # Not `rows`: that key of a 400 answer holds a bulk write's row errors (ErrorSerializer).
    alerts = serializers.ChoiceField(
        choices=["all"],
        required=False,
        help_text=f"`all`: list every alert past the SLA; without it, the oldest {ROWS_LISTED}"
        " (the totals count them all).",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields["from"] = BoundedDateField(
            required=False,
            help_text="The first day of the period (inclusive); 12 months before `to` when left out.",
        )
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Without `to`, the period ends today, or on `from` when that is later (a one-day period).
        to = attrs.get("to") or max(timezone.localdate(), attrs.get("from") or timezone.localdate())
        attrs["to"] = to
        attrs["from"] = attrs.get("from") or default_period(to)[0]
        if attrs["from"] > to:
            raise serializers.ValidationError({"from": ["The period must start on or before its last day (`to`)."]})
        return attrs


class DecisionLoopFiguresSerializer(serializers.Serializer):
    settled_bets = serializers.IntegerField(help_text="Won and lost bets settled in the period (void left out).")
    won = serializers.IntegerField()
    lost = serializers.IntegerField()
    win_rate = serializers.DecimalField(**SHARE, help_text="won / (won + lost); null with no settled bet.")
    expected_value = serializers.DecimalField(**MONEY)
    realised_value = serializers.DecimalField(**MONEY)
    calibration = serializers.DecimalField(**SHARE, help_text="Sum of realised value / sum of expected value.")
    expected_cost = serializers.DecimalField(**MONEY, help_text="Of the settled bets whose realised cost is known.")
    realised_cost = serializers.DecimalField(**MONEY)
    cost_accuracy = serializers.DecimalField(**SHARE, help_text="Sum of realised cost / sum of expected cost.")
    retirements = serializers.IntegerField(help_text="Products whose retirement sunset fell in the period.")
    avoided_cost = serializers.DecimalField(
        **MONEY,
        help_text="Per retirement: average monthly cost over the 3 full months before the decision, "
        "times the full months from the sunset to `to` (at most 12).",
    )
    decisions = serializers.IntegerField(help_text="Decisions on alerts made in the period.")
    median_time_to_decision = serializers.DecimalField(
        max_digits=12, decimal_places=1, allow_null=True, help_text="Days from alert to decision (median)."
    )
    decided_within_sla = serializers.DecimalField(
        **SHARE, help_text="Share of those decisions made within the domain's `decision_sla_days`."
    )
    alerts_past_sla = serializers.IntegerField(help_text="Alerts unresolved at the end of `to` and older than the SLA.")


class DomainDecisionLoopSerializer(DecisionLoopFiguresSerializer):
    domain = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    decision_sla_days = serializers.IntegerField()


class OverdueAlertSerializer(serializers.Serializer):
    alert = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    data_product = serializers.IntegerField()
    data_product_name = serializers.CharField()
    domain = serializers.IntegerField()
    raised_on = serializers.DateField()
    days_open = serializers.IntegerField()
    decision_sla_days = serializers.IntegerField()


class DecisionLoopSerializer(serializers.Serializer):
    to = serializers.DateField()
    currency = serializers.CharField()
    decision_sla_days = serializers.IntegerField(help_text="The default policy's SLA; domains may override it.")
    totals = DecisionLoopFiguresSerializer()
    domains = DomainDecisionLoopSerializer(many=True)
    # Listed as plain values by the view (thousands of rows on a large portfolio); declared here for the schema.
    alerts_past_sla = OverdueAlertSerializer(
        many=True,
        required=False,
        help_text=f"The alerts past the SLA, oldest first: the first {ROWS_LISTED}, or every one with `alerts=all`.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        return fields


def _figures(figures: DecisionLoopFigures) -> dict[str, Any]:
    bets = figures.bets
    return {
        "settled_bets": bets.settled,
        "won": bets.won,
        "lost": bets.lost,
        "win_rate": figures.win_rate,
        "expected_value": bets.expected_value,
        "realised_value": bets.realised_value,
        "calibration": figures.calibration,
        "expected_cost": bets.expected_cost,
        "realised_cost": bets.realised_cost,
        "cost_accuracy": figures.cost_accuracy,
        "retirements": figures.retirements,
        "avoided_cost": figures.avoided_cost,
        "decisions": figures.decisions,
        "median_time_to_decision": figures.median_time_to_decision,
        "decided_within_sla": figures.decided_within_sla,
        "alerts_past_sla": figures.alerts_past_sla,
    }


def decision_loop_payload(loop: DecisionLoop) -> dict[str, Any]:
    return {
        "from": loop.date_from,
        "to": loop.date_to,
        "currency": loop.currency,
        "decision_sla_days": loop.default_sla_days,
        "totals": _figures(loop.total),
        "domains": [
            {
                "domain": domain.domain_id,
                "name": domain.name,
                "slug": domain.slug,
                "decision_sla_days": domain.sla_days,
                **_figures(domain.figures),  # type: ignore[arg-type]
            }
            for domain in loop.domains
        ],
        "alerts_past_sla": [
            {
                "alert": alert.alert_id,
                "kind": alert.kind,
                "status": alert.status,
                "data_product": alert.product_id,
                "data_product_name": alert.product,
                "domain": alert.domain_id,
                "raised_on": alert.raised_on.isoformat(),
                "days_open": alert.days_open,
                "decision_sla_days": alert.sla_days,
            }
            for alert in loop.alerts_past_sla
        ],
    }


class DecisionLoopView(ApiView):
    """Were our bets good, and do alerts become decisions in time: per domain and in total over a period."""

    access = access.PORTFOLIO_INSIGHTS

    @extend_schema(parameters=[DecisionLoopQuerySerializer], responses={200: DecisionLoopSerializer})
    def get(self, request: Request) -> Response:
        """Win rate, calibration, cost accuracy, avoided cost, time to decision and the SLA over `from`..`to`.

        Both ends are inclusive; the period defaults to the twelve months ending today.
        """
        query = DecisionLoopQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        loop = decision_loop(
            date_from=query.validated_data["from"],
            date_to=query.validated_data["to"],
            domain_id=_existing_domain(query.validated_data.get("domain")),
            overdue_limit=None if query.validated_data.get("alerts") == "all" else ROWS_LISTED,
        )
        payload = decision_loop_payload(loop)
        overdue = payload.pop("alerts_past_sla")
        return Response({**DecisionLoopSerializer(payload).data, "alerts_past_sla": overdue})


# --- readiness ------------------------------------------------------------------------------------
class ReadinessQuerySerializer(serializers.Serializer):
    as_of = BoundedDateField(required=False, help_text="Today when left out.")
    domain = serializers.IntegerField(
        min_value=1, required=False, help_text="Only this domain (a domain id; 404 when there is none)."
    )
    failing = serializers.ChoiceField(
        choices=["all"],
        required=False,
        help_text=f"`all`: list every failing product of each check; without it, the first {ROWS_LISTED}"
        " (lowest ids; `failing_count` counts them all).",
    )


class ReadinessCheckSerializer(serializers.Serializer):
    check = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field, not Field.label
    definition = serializers.CharField()
    passing = serializers.IntegerField(help_text="Active products passing the check.")
    share = serializers.DecimalField(**SHARE, help_text="passing / products; null with no active product.")
    failing = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=f"Ids of the products failing it, ascending: the first {ROWS_LISTED},"
        " or every one with `failing=all`.",
    )
    failing_count = serializers.IntegerField(help_text="Active products failing it, all of them.")


class ReadinessFiguresSerializer(serializers.Serializer):
    products = serializers.IntegerField(help_text="Active products.")
    ready = serializers.IntegerField(help_text="Products passing all six checks.")
    ready_share = serializers.DecimalField(**SHARE)
    checks = ReadinessCheckSerializer(many=True)


class DomainReadinessSerializer(ReadinessFiguresSerializer):
    domain = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class ReadinessSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    evaluated_on = serializers.DateField(
        allow_null=True, help_text="The evaluation pass the figures were stored by; null when computed on request."
    )
    totals = ReadinessFiguresSerializer()
    domains = DomainReadinessSerializer(many=True)


def _text(share: Any) -> str | None:
    return None if share is None else str(share)


def _readiness(readiness: DomainReadiness, failing_limit: int | None) -> dict[str, Any]:
    """Plain JSON values, as `ReadinessSerializer` declares them (its fields would cost seconds on long
    lists of failing products); each check's first `failing_limit` failing products (None: all)."""
    return {
        "products": readiness.products,
        "ready": readiness.ready,
        "ready_share": _text(readiness.ready_share),
        "checks": [
            {
                "check": check.value,
                "label": CHECK_LABELS[check],
                "definition": CHECK_DEFINITIONS[check],
                "passing": readiness.passing[check],
                "share": _text(readiness.share(check)),
                "failing": sorted(readiness.failing.get(check, ()))[:failing_limit],
                "failing_count": len(readiness.failing.get(check, ())),
            }
            for check in CHECKS
        ],
    }


def readiness_payload(
    report: ReadinessReport, names: dict[int, tuple[str, str]], *, failing_limit: int | None = ROWS_LISTED
) -> dict[str, Any]:
    return {
        "as_of": report.as_of.isoformat(),
        "evaluated_on": None if report.evaluated_on is None else report.evaluated_on.isoformat(),
        "totals": _readiness(report.total, failing_limit),
        "domains": [
            {
                "domain": domain_id,
                "name": names.get(domain_id, ("", ""))[0],
                "slug": names.get(domain_id, ("", ""))[1],
                **_readiness(readiness, failing_limit),
            }
            for domain_id, readiness in sorted(report.domains.items(), key=lambda item: names.get(item[0], ("",))[0])
        ],
    }


class ReadinessView(ApiView):
    """Value-tracking readiness per domain: the share of active products passing each of six checks."""

    access = access.PORTFOLIO_INSIGHTS

    @extend_schema(parameters=[ReadinessQuerySerializer], responses={200: ReadinessSerializer})
    def get(self, request: Request) -> Response:
        """As stored by the latest evaluation on or before `as_of` (default today), else computed now."""
        query = ReadinessQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = readiness_report(
            as_of=query.validated_data.get("as_of") or timezone.localdate(),
            domain_id=_existing_domain(query.validated_data.get("domain")),
        )
        names = {pk: (name, slug) for pk, name, slug in Domain.objects.values_list("pk", "name", "slug")}
        failing_limit = None if query.validated_data.get("failing") == "all" else ROWS_LISTED
        return Response(readiness_payload(report, names, failing_limit=failing_limit))
