"""The system check of the Celery time budget: no task outlives the Redis visibility timeout."""

from __future__ import annotations

from apps.core.checks import celery_time_budget_check
from apps.core.task_budget import DELIVERY_MARGIN_SECONDS, backoff, countdown_fits, countdown_max
from apps.notifications.tasks import delivery_send
from apps.valuation.tasks import evaluation_chunk_evaluate, portfolio_evaluate_scheduled
from config.celery_app import app


def error_ids() -> list[str]:
    return [error.id for error in celery_time_budget_check()]


def test_the_defaults_pass_and_every_registered_task_fits_the_visibility_timeout(settings):
    assert error_ids() == []
    visibility_timeout = settings.CELERY_VISIBILITY_TIMEOUT
    assert app.conf.broker_transport_options == app.conf.result_backend_transport_options
    assert app.conf.broker_transport_options["visibility_timeout"] == visibility_timeout
    project_tasks = [name for name in app.tasks if name.startswith("apps.")]
    assert len(project_tasks) >= 9  # every app's tasks were found (catalog, valuation, notifications)
    for name in project_tasks:
        task = app.tasks[name]
        hard = task.time_limit or app.conf.task_time_limit
        assert hard + DELIVERY_MARGIN_SECONDS <= visibility_timeout, name


def test_a_task_whose_hard_limit_reaches_the_visibility_timeout_fails_the_check(monkeypatch, settings):
    monkeypatch.setattr(evaluation_chunk_evaluate, "time_limit", settings.CELERY_VISIBILITY_TIMEOUT)
    errors = celery_time_budget_check()
    assert [error.id for error in errors] == ["core.E005"]
    assert "apps.valuation.tasks.evaluation_chunk_evaluate" in errors[0].msg


def test_the_default_limit_counts_for_tasks_without_their_own(monkeypatch, settings):
    from apps.catalog.tasks import data_products_retire_due_scheduled

    # Celery copies CELERY_TASK_TIME_LIMIT onto a task without a limit of its own when it binds it;
    # the check reads the default itself when that has not happened yet.
    monkeypatch.setattr(data_products_retire_due_scheduled, "time_limit", None)
    monkeypatch.setitem(app.conf, "task_time_limit", settings.CELERY_VISIBILITY_TIMEOUT + 60)
    failing = [error.msg for error in celery_time_budget_check() if error.id == "core.E005"]
    assert len(failing) == 1 and "apps.catalog.tasks.data_products_retire_due_scheduled" in failing[0]


def test_a_soft_limit_not_below_the_hard_one_fails_the_check(monkeypatch):
    monkeypatch.setattr(delivery_send, "soft_time_limit", delivery_send.time_limit)
    assert error_ids() == ["core.E006"]


def test_an_automatic_retry_waiting_past_the_visibility_timeout_fails_the_check(monkeypatch):
    monkeypatch.setattr(portfolio_evaluate_scheduled, "retry_backoff_max", 300)
    assert error_ids() == ["core.E007"]


def test_broker_and_result_backend_options_must_agree(monkeypatch):
    options = dict(app.conf.broker_transport_options)
    monkeypatch.setitem(app.conf, "result_backend_transport_options", {**options, "visibility_timeout": 3600})
    assert error_ids() == ["core.E001"]


def test_a_missing_visibility_timeout_or_restore_interval_fails_the_check(monkeypatch):
    options = dict(app.conf.broker_transport_options)
    del options["unacked_restore_interval"]
    monkeypatch.setitem(app.conf, "broker_transport_options", options)
    monkeypatch.setitem(app.conf, "result_backend_transport_options", options)
    assert error_ids() == ["core.E003"]
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    monkeypatch.setitem(app.conf, "result_backend_transport_options", {})
    assert error_ids() == ["core.E002"]


def test_countdowns_leave_room_for_the_run_under_the_visibility_timeout(settings):
    # 30 s visibility - 20 s hard limit - 3 s margin.
    assert countdown_max() == 7
    assert countdown_fits(7) and not countdown_fits(7.5)
    assert countdown_max(time_limit=5) == 22
    assert [backoff(n) for n in range(5)] == [2, 4, 7, 7, 7]
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {**settings.CELERY_BROKER_TRANSPORT_OPTIONS, "visibility_timeout": 22}
    assert [backoff(n) for n in range(3)] == [1, 1, 1]  # never zero or negative, even with no room at all
