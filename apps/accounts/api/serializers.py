from __future__ import annotations

from rest_framework import serializers

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.api.serializers import ApiModelSerializer, ApiSerializer


class TokenRequestSerializer(ApiSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class UserSerializer(ApiModelSerializer):
    roles = serializers.SerializerMethodField(help_text="executive, product_owner, governance_lead.")

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "team", "is_staff", "roles"]
        read_only_fields = fields

    def get_roles(self, user: User) -> list[str]:
        # From the prefetched groups (apps.accounts.roles.user_roles would query once per user).
        if user.is_staff or user.is_superuser:
            return [role.value for role in Role]
        names = {group.name for group in user.groups.all()}
        return [role.value for role in Role if role.value in names]
