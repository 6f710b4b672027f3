"""The people runs belong to: a user id as stored, and the account made for a new one."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agentapp.errors import InvalidInput


def normalize_user_id(user_id: str) -> str:
    """A user id as usernames are stored: NFKC-normalised (a fullwidth "\uff41lice" is "alice")."""
    return get_user_model().normalize_username((user_id or "").strip())


def user_get_or_create(*, username: str) -> User:
    username = normalize_user_id(username)
    if not username or len(username) > 150:
        raise InvalidInput("user_id must be between 1 and 150 characters")
    User = get_user_model()
    try:
        User.username_validator(username)
    except ValidationError:
        raise InvalidInput("user_id may hold only letters, digits and . @ + - _") from None
    if not username.strip("."):
        raise InvalidInput("user_id cannot be only dots")
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(username=username)
            user.set_unusable_password()
            user.save()
            return user
    except IntegrityError:  # created by a concurrent run
        return User.objects.get(username=username)
