"""Tokens for scripts, and a read-only list of users (to find owner and sponsor ids)."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.accounts.api.serializers import TokenRequestSerializer, TokenSerializer, UserSerializer
from apps.accounts.models import User
from apps.core.api import access
from apps.core.api.exceptions import api_exception_handler
from apps.core.api.schema import ApiAutoSchema
from apps.core.api.viewsets import ReadOnlyApiViewSet


class TokenView(APIView):
    """Trade a username and password for the user's API token (created on first use).

    Open to anonymous users and throttled (scope `token`) against password guessing.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    schema = ApiAutoSchema()
    error_codes = ("400", "429")

    def get_exception_handler(self):  # the API's error answers, as everywhere else
        return api_exception_handler

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request=request._request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": ["Unable to log in with the given username and password."]})
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key}, status=status.HTTP_200_OK)


class UserViewSet(ReadOnlyApiViewSet):
    """Active users with their roles: the ids to use for owners, sponsors and new owners."""

    access = access.USERS
    serializer_class = UserSerializer
    filterset_fields = ["username", "team"]
    ordering_fields = ["id", "username"]

    def get_queryset(self):
        return (
            User.objects.filter(is_active=True)
            .prefetch_related(Prefetch("groups", queryset=Group.objects.only("id", "name")))
            .order_by("username", "id")
        )
