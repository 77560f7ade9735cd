"""The notification settings page of a user's profile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from apps.accounts.auth import request_user
from apps.notifications.forms import NotificationPreferencesForm
from apps.notifications.selectors import email_preferences
from apps.notifications.services.preferences import TOPICS, notification_preferences_set


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """Show and save the user's e-mail choices per alert kind and for the weekly digest."""
    if request.method == "POST":
        form = NotificationPreferencesForm(request.POST)
        if form.is_valid():
            try:
                notification_preferences_set(user=request_user(request), email_topics=form.cleaned_data["email_topics"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Your notification settings are saved.")
                return redirect("notification_preferences")
        status = 400
    else:
        chosen = email_preferences(user=request_user(request))
        form = NotificationPreferencesForm(
            initial={"email_topics": [topic for topic in TOPICS if chosen.get(topic, True)]}
        )
        status = 200
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "email": request_user(request).email},
        status=status,
    )
