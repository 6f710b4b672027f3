"""Reads about a person's account that the pages need: their appearance preferences."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from .models import Preferences, Theme


def theme_for_user(*, user: User | AnonymousUser) -> str:
    """The person's theme, "system" (follow the device) unless they chose one."""
    if not user.is_authenticated:
        return Theme.SYSTEM
    theme = Preferences.objects.filter(user_id=user.pk).values_list("theme", flat=True).first()
    return theme or Theme.SYSTEM
