"""The one ownership rule every page and route uses for a single object."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet

from agentapp.errors import NotFound

M = TypeVar("M", bound=Model)


def one_visible_to(queryset: QuerySet[M], *, viewer: AbstractBaseUser, not_found: NotFound) -> M:
    """The object if `viewer` owns it (its `user`), any object for staff; otherwise `not_found`.

    Another person's object is reported exactly like a missing one, so ids leak nothing.
    """
    if not viewer.is_staff:
        queryset = queryset.filter(user_id=viewer.pk)
    obj = queryset.first()
    if obj is None:
        raise not_found
    return obj
