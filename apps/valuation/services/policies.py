"""Evaluation policies: the default one and the overrides per domain."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.core.services import fields_apply, instance_save
from apps.valuation.models import EvaluationPolicy

_POLICY_FIELDS = frozenset(
    {
        "domain",
        "window_days",
        "recent_days",
        "grace_days",
        "retire_below",
        "invest_above",
        "stale_periods",
        "decision_quiet_days",
        "decision_sla_days",
    }
)


@transaction.atomic
def policy_create(**fields: Any) -> EvaluationPolicy:
    """Add a domain's own policy (the default exists from the start and is edited, not created)."""
    if fields.get("domain") is None:
        raise ValidationError({"domain": "Name the domain this policy is for (there is one default already)."})
    policy = EvaluationPolicy(is_default=False)
    instance_save(policy, fields_apply(policy, fields, _POLICY_FIELDS))
    return policy


@transaction.atomic
def policy_update(*, policy: EvaluationPolicy, **fields: Any) -> EvaluationPolicy:
    """Change thresholds. Evaluations keep the values they used, so an edit never rewrites history."""
    if policy.is_default and fields.get("domain") is not None:
        raise ValidationError({"domain": "The default policy belongs to no domain."})
    if not policy.is_default and "domain" in fields and fields["domain"] is None:
        raise ValidationError({"domain": "A domain's policy needs its domain."})
    instance_save(policy, fields_apply(policy, fields, _POLICY_FIELDS))
    return policy


@transaction.atomic
def policy_delete(*, policy: EvaluationPolicy) -> None:
    """Drop a domain's override: its products follow the default policy again."""
    if policy.is_default:
        raise ValidationError({"is_default": "The default policy cannot be deleted; edit it instead."})
    policy.delete()
