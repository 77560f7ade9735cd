"""Admin for notifications: subscriptions, domain leads, preferences, and the outbox with a retry action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.auth import request_user
from apps.governance.models import AlertKind
from apps.notifications.models import (
    Delivery,
    DomainGovernanceLead,
    NotificationPreference,
    WebhookSubscription,
)
from apps.notifications.services.outbox import deliveries_retry_failed
from apps.notifications.services.webhooks import webhook_secret_generate, webhook_secret_key, webhook_url_check


class WebhookSubscriptionForm(forms.ModelForm):
    """The same checks as the API: a public target, a Standard Webhooks secret (generated if blank)."""

    url = forms.URLField(max_length=500, assume_scheme="https", help_text="The receiver's http(s) URL.")
    kinds = forms.MultipleChoiceField(
        choices=AlertKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Alert kinds to send; none ticked for all.",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave blank to keep the current secret (or to generate one for a new subscription).",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "url", "secret", "format", "kinds", "domains", "is_active"]

    def clean_url(self) -> str:
        return webhook_url_check(self.cleaned_data["url"])

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret") or ""
        if not secret:
            return self.instance.secret if self.instance.pk else webhook_secret_generate()
        webhook_secret_key(secret)
        return secret

    def clean_kinds(self) -> list[str]:
        return sorted(set(self.cleaned_data.get("kinds") or []))


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("__str__", "url", "format", "kinds", "is_active", "created_by", "created_at")
    list_filter = ("is_active", "format")
    search_fields = ("name", "url")
    filter_horizontal = ("domains",)
    list_select_related = ("created_by",)

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form, change: bool) -> None:
        if not change:
            obj.created_by = request_user(request)
            messages.info(request, f"Give the receiver this secret to verify signatures: {obj.secret}")
        super().save_model(request, obj, form, change)


@admin.register(DomainGovernanceLead)
class DomainGovernanceLeadAdmin(admin.ModelAdmin):
    list_display = ("domain", "user", "created_at")
    list_filter = ("domain",)
    search_fields = ("domain__name", "user__username")
    autocomplete_fields = ("domain", "user")
    list_select_related = ("domain", "user")

    def save_model(self, request, obj, form, change) -> None:
        from apps.accounts.roles import Role

        if not obj.user.groups.filter(name=Role.GOVERNANCE_LEAD.value).exists():
            messages.warning(request, f"{obj.user} is not in the governance_lead group: alerts will not reach them.")
        super().save_model(request, obj, form, change)


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "topic", "email_enabled", "updated_at")
    list_filter = ("topic", "email_enabled")
    search_fields = ("user__username",)
    list_select_related = ("user",)
    autocomplete_fields = ("user",)


@admin.action(description="Retry the selected failed deliveries", permissions=["retry"])
def retry_failed_deliveries(modeladmin, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
    ids = list(queryset.values_list("pk", flat=True))
    retried = deliveries_retry_failed(delivery_ids=ids)
    skipped = len(ids) - retried
    messages.success(request, f"{retried} deliver{'y' if retried == 1 else 'ies'} queued again.")
    if skipped:
        messages.warning(request, f"{skipped} selected deliveries were not failed and were left alone.")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox: what was sent to whom, what failed and why. Rows are written by the services only."""

    actions = [retry_failed_deliveries]
    list_display = (
        "created_at",
        "event",
        "event_key",
        "channel",
        "recipient",
        "status",
        "attempts",
        "last_status_code",
        "error",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "channel", "event")
    search_fields = ("event_key", "recipient", "last_error", "uid")
    date_hierarchy = "created_at"
    list_select_related = ("user", "subscription")
    readonly_fields = [field.name for field in Delivery._meta.fields]
    ordering = ("-created_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Rows are read-only here: only the retry action changes them, through the service.
        return False

    @admin.display(description="last error")
    def error(self, obj: Delivery) -> str:
        return obj.last_error[:120]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("notifications.change_delivery")
