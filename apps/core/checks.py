"""System checks of the Celery time budget: no task may outlive the Redis visibility timeout.

A task still running (or a retry still waiting for its countdown) when its message has been
unacknowledged for `visibility_timeout` seconds is delivered a second time; broker and result
backend reading different options is the same mistake made halfway. See apps.core.task_budget.
"""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import apps
from django.core import checks

from apps.core.task_budget import DELIVERY_MARGIN_SECONDS


def _celery_app():
    """The project's Celery app with every installed app's tasks module imported, so every task is registered.

    Not `app.loader.import_default_modules()`: Celery's Django fixup runs the system checks from
    that very signal when a worker starts, and would come back here.
    """
    from config.celery_app import app

    for app_config in apps.get_app_configs():
        module = f"{app_config.name}.tasks"
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return app


def celery_time_budget_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Broker and results agree, and every registered task fits inside the visibility timeout."""
    app = _celery_app()
    broker_options = dict(app.conf.broker_transport_options or {})
    result_options = dict(app.conf.result_backend_transport_options or {})
    errors: list[checks.CheckMessage] = []
    if broker_options != result_options:
        errors.append(
            checks.Error(
                "CELERY_BROKER_TRANSPORT_OPTIONS and CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS differ "
                f"({broker_options!r} against {result_options!r}).",
                hint="Build both from one dictionary, as config/settings/base.py does.",
                id="core.E001",
            )
        )
    visibility_timeout = broker_options.get("visibility_timeout")
    if not visibility_timeout:
        errors.append(
            checks.Error(
                "CELERY_BROKER_TRANSPORT_OPTIONS has no visibility_timeout: kombu's default is one hour, "
                "so a killed worker's task would come back an hour later.",
                id="core.E002",
            )
        )
        return errors
    restore_interval = broker_options.get("unacked_restore_interval")
    if restore_interval is None or not 0 < restore_interval < visibility_timeout:
        errors.append(
            checks.Error(
                f"unacked_restore_interval ({restore_interval!r}) must be set, positive and below the "
                f"visibility timeout ({visibility_timeout} s).",
                id="core.E003",
            )
        )
    for name, task in sorted(app.tasks.items()):
        errors.extend(_task_errors(name, task, app.conf, visibility_timeout))
    return errors


def _task_errors(name: str, task, conf, visibility_timeout: float) -> list[checks.CheckMessage]:
    hard = task.time_limit if task.time_limit is not None else conf.task_time_limit
    soft = task.soft_time_limit if task.soft_time_limit is not None else conf.task_soft_time_limit
    if not hard:
        return [
            checks.Error(
                f"Celery task {name} has no hard time limit; it could run past the visibility timeout "
                f"({visibility_timeout} s) and be delivered twice.",
                hint="Set CELERY_TASK_TIME_LIMIT or the task's time_limit.",
                id="core.E004",
            )
        ]
    errors: list[checks.CheckMessage] = []
    room = visibility_timeout - hard
    if room < DELIVERY_MARGIN_SECONDS:
        errors.append(
            checks.Error(
                f"Celery task {name}: hard time limit {hard} s leaves less than {DELIVERY_MARGIN_SECONDS} s "
                f"under the visibility timeout ({visibility_timeout} s); a slow run would be delivered twice.",
                hint="Lower the task's time limit or raise CELERY_VISIBILITY_TIMEOUT.",
                id="core.E005",
            )
        )
    if soft is not None and soft >= hard:
        errors.append(
            checks.Error(
                f"Celery task {name}: soft time limit {soft} s is not below its hard limit {hard} s.",
                id="core.E006",
            )
        )
    if getattr(task, "autoretry_for", ()):
        # Celery's automatic retries wait retry_backoff_max at most, or default_retry_delay without backoff.
        longest = getattr(task, "retry_backoff_max", 600) if getattr(task, "retry_backoff", False) else None
        longest = task.default_retry_delay if longest is None else longest
        if longest + hard + DELIVERY_MARGIN_SECONDS > visibility_timeout:
            errors.append(
                checks.Error(
                    f"Celery task {name}: an automatic retry may wait {longest} s, and with its {hard} s hard "
                    f"limit outlive the visibility timeout ({visibility_timeout} s): it would run twice.",
                    hint="Cap retry_backoff_max with apps.core.task_budget.countdown_max().",
                    id="core.E007",
                )
            )
    return errors
