"""The profile form where a user chooses which e-mails to get."""

from __future__ import annotations

from django import forms

from apps.notifications.models import TOPIC_CHOICES


class NotificationPreferencesForm(forms.Form):
    """One checkbox per topic (each alert kind, the weekly digest); checked means e-mail on."""

    email_topics = forms.MultipleChoiceField(
        choices=TOPIC_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Send me e-mail about",
    )
