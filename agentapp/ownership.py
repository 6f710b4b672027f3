"""Who may see or act for whom: every such rule of the pages and the API lives here."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from agentapp.errors import NotFound
from sessions_app.services import user_get_or_create

M = TypeVar("M", bound=Model)


def one_visible_to(queryset: QuerySet[M], *, viewer: User, not_found: NotFound) -> M:
    """The object if `viewer` owns it (its `user`), any object for staff; otherwise `not_found`.

    Another person's object is reported exactly like a missing one, so ids leak nothing.
    """
    if not viewer.is_staff:
        queryset = queryset.filter(user_id=viewer.pk)
    obj = queryset.first()
    if obj is None:
        raise not_found
    return obj


def caller(request: HttpRequest) -> User:
    """The authenticated person (a key's owner or the signed-in user)."""
    return request.auth  # type: ignore[attr-defined]


def acting_user(request: HttpRequest, user_id: str | None, *, create: bool = False) -> User:
    """The person a request acts for.

    No `user_id`: the caller. A person may name only themselves; anyone else is not found, so a
    key cannot probe which users exist. Staff (a service key) may name anyone; with `create` an
    unknown user_id is created, as the Python API does, so a product backend can speak for new users.
    """
    me = caller(request)
    if user_id is None or user_id == me.get_username():
        return me
    if not me.is_staff:
        raise NotFound("user not found")
    if create:
        return user_get_or_create(username=user_id)
    user = get_user_model().objects.filter(username=user_id).first()
    if user is None:
        raise NotFound("user not found")
    return user
