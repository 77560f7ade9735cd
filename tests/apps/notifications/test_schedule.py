"""The notification jobs are on the beat schedule, registered, JSON-only and time-limited."""

from __future__ import annotations

from django.conf import settings

from apps.catalog import tasks as catalog_tasks
from apps.notifications import tasks
from config.celery_app import app

PERIODS = {  # seconds between runs of each entry with its default schedule
    "notifications-sweep": 60,
    "notifications-weekly-digests": 7 * 24 * 3600,
    "notifications-sunset-reminders": 24 * 3600,
    "retire-due-products-daily": 24 * 3600,
}


def test_beat_entries_run_registered_tasks_and_expire_before_the_next_run():
    app.loader.import_default_modules()
    for name, period in PERIODS.items():
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] in app.tasks, name
        assert 0 < entry["options"]["expires"] < period, name


def test_tasks_are_late_acknowledged_and_the_send_is_time_limited_below_its_lease():
    for task in (
        tasks.delivery_send,
        tasks.deliveries_sweep,
        tasks.weekly_digests_send,
        tasks.sunset_reminders_send,
        catalog_tasks.data_products_retire_due_scheduled,
    ):
        assert task.acks_late and task.reject_on_worker_lost, task.name
        assert task.time_limit and task.soft_time_limit < task.time_limit, task.name
    assert tasks.delivery_send.time_limit < settings.NOTIFICATION_SEND_LEASE_SECONDS


def test_the_send_fits_the_project_time_budget_and_its_timeouts_fit_the_send(settings):
    assert tasks.delivery_send.time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert tasks.delivery_send.soft_time_limit == settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert tasks.delivery_send.soft_time_limit > settings.EMAIL_TIMEOUT
    assert tasks.delivery_send.soft_time_limit > settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
    for task in (tasks.deliveries_sweep, tasks.weekly_digests_send, catalog_tasks.data_products_retire_due_scheduled):
        assert task.time_limit < settings.CELERY_VISIBILITY_TIMEOUT, task.name


def test_the_settings_check_refuses_a_short_lease_and_timeouts_longer_than_a_send(settings):
    from apps.notifications.apps import notification_settings_check

    assert notification_settings_check() == []
    # A retry schedule far beyond the visibility timeout is fine: the sweep publishes those retries.
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 100 * settings.CELERY_VISIBILITY_TIMEOUT
    assert notification_settings_check() == []
    settings.NOTIFICATION_SEND_LEASE_SECONDS = tasks.SEND_TIME_LIMIT
    settings.EMAIL_TIMEOUT = tasks.SEND_SOFT_TIME_LIMIT
    settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT = 5, tasks.SEND_SOFT_TIME_LIMIT - 5
    assert [error.id for error in notification_settings_check()] == [
        "notifications.E001",
        "notifications.E002",
        "notifications.E004",
    ]
