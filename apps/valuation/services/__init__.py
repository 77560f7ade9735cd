"""Valuation writes: evaluating the portfolio, its alerts, and evaluation runs.

- `portfolio_evaluate`: evaluate every active product as of a date, synchronously (the command).
- `portfolio_chunk_evaluate`: one set-based pass over one chunk of products (one Celery task).
- `run_part_execute`: one part of a run (a chunk, or READINESS_PART: the domains' readiness).
- `valuations_preview`: what the rules would say with edited policies, stored nowhere.
- `evaluation_run_start`: record a run and queue it on Celery after commit (the API, beat);
  `evaluation_run_begin` and `evaluation_run_prepare` start it (its parts, then what they read).
- `readiness_record`: store every domain's value-tracking readiness as of a date (after a pass).
- `policy_create`, `policy_update`, `policy_delete`: the default policy and the overrides per domain.
"""

from .evaluate import (
    READINESS_PART,
    EvaluationSummary,
    evaluation_run_begin,
    evaluation_run_fail,
    evaluation_run_prepare,
    portfolio_chunk_evaluate,
    portfolio_evaluate,
    run_part_execute,
    valuations_preview,
)
from .policies import policy_create, policy_delete, policy_update
from .readiness import readiness_record
from .runs import evaluation_run_start

__all__ = [
    "READINESS_PART",
    "EvaluationSummary",
    "evaluation_run_begin",
    "evaluation_run_fail",
    "evaluation_run_prepare",
    "evaluation_run_start",
    "policy_create",
    "policy_delete",
    "policy_update",
    "portfolio_chunk_evaluate",
    "portfolio_evaluate",
    "readiness_record",
    "run_part_execute",
    "valuations_preview",
]
