"""A person's appearance preferences: read for every page, written from the top menu."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User

from agentapp.errors import InvalidInput

from .models import Preferences, Theme


def theme_for_user(*, user: User | AnonymousUser) -> str:
    """The person's theme, "system" (follow the device) unless they chose one."""
    if not user.is_authenticated:
        return Theme.SYSTEM
    theme = Preferences.objects.filter(user_id=user.pk).values_list("theme", flat=True).first()
    return theme or Theme.SYSTEM


def preferences_set_theme(*, user: User, theme: str) -> Preferences:
    if theme not in Theme.values:
        raise InvalidInput(f"theme must be one of: {', '.join(Theme.values)}")
    preferences, _ = Preferences.objects.update_or_create(user=user, defaults={"theme": theme})
    return preferences
