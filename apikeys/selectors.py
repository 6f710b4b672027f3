from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

from agentapp.errors import NotFound

from .models import ApiKey


def apikeys_for_user(*, user: User) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id")


def apikey_get_for_user(*, pk: int, user: User) -> ApiKey:
    """The user's own key; anyone else's is not found."""
    key = ApiKey.objects.filter(pk=pk, user=user).first()
    if key is None:
        raise NotFound("API key not found")
    return key
