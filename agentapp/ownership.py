"""Who may see or act for whom: every such rule of the pages and the API lives here."""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest

from agentapp.errors import NotFound
from sessions_app.services import normalize_user_id, user_get_or_create

M = TypeVar("M", bound=Model)

ACT_FOR_OTHERS = "sessions_app.act_for_others"


def acts_for_others(user: User) -> bool:
    """An operator, or a service key's account: may read, write and erase other people's data."""
    return user.is_active and user.has_perm(ACT_FOR_OTHERS)


def may_act_for(me: User, person: User) -> bool:
    """Oneself; anyone for an operator, but a superuser only for another superuser."""
    if me.pk == person.pk:
        return True
    return acts_for_others(me) and (me.is_superuser or not person.is_superuser)


def visible_to(queryset: QuerySet[M], *, viewer: User) -> QuerySet[M]:
    """The objects (each with a `user`) that `viewer` may see: their own, or an operator's people's."""
    if viewer.is_superuser:
        return queryset
    if not acts_for_others(viewer):
        return queryset.filter(user_id=viewer.pk)
    return queryset.filter(Q(user__is_superuser=False) | Q(user_id=viewer.pk))


def one_visible_to(queryset: QuerySet[M], *, viewer: User, not_found: NotFound) -> M:
    """The object if `viewer` may see it (see `visible_to`); otherwise `not_found`.

    Another person's object is reported exactly like a missing one, so ids leak nothing.
    """
    obj = visible_to(queryset, viewer=viewer).first()
    if obj is None:
        raise not_found
    return obj


def caller(request: HttpRequest) -> User:
    """The authenticated person (a key's owner or the signed-in user)."""
    return request.auth  # type: ignore[attr-defined]


def person_named(me: User, username: str | None, *, create: bool = False) -> User:
    """The person `username` names, for `me` to act for; `me` when no one is named.

    A person may name only themselves; anyone else is not found, exactly as a name no one has, so
    nothing can probe which people exist. An operator may name anyone but a superuser (unless one);
    with `create`, an unknown name is a new person, as the Python API does, so a product backend
    can speak for its new users.
    """
    person = person_named_if_any(me, username)
    if person is None and create and username:
        person = user_get_or_create(username=normalize_user_id(username))
    if person is None:
        raise NotFound("user not found")
    return person


def person_named_if_any(me: User, username: str | None) -> User | None:
    """As `person_named`, but None for a name no one has yet, which only an operator learns (one
    statement: a run for a new person creates them with the run)."""
    if not username or username.strip() in ("", me.get_username()):
        return me
    if not acts_for_others(me):
        raise NotFound("user not found")
    username = normalize_user_id(username)
    if username == me.get_username():
        return me
    person = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if person is not None and not may_act_for(me, person):
        raise NotFound("user not found")
    return person


def acting_user(request: HttpRequest, user_id: str | None, *, create: bool = False) -> User:
    """The person an API request acts for (see `person_named`)."""
    return person_named(caller(request), user_id, create=create)
