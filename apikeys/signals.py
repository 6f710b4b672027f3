"""Whatever could take an API key's rights away tells every process's key cache (key_cache.py) to
forget what it holds, by a NOTIFY sent when the change's transaction commits."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save

from .key_cache import KEYS_CHANNEL
from .models import ApiKey


def keys_changed(**_: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [KEYS_CHANNEL])


def connect() -> None:
    user_model = get_user_model()
    for model in (ApiKey, user_model, Group):
        post_save.connect(_saved, sender=model, dispatch_uid=f"apikeys-saved-{model.__name__}")
        post_delete.connect(keys_changed, sender=model, dispatch_uid=f"apikeys-deleted-{model.__name__}")
    links = (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through)
    for through in links:
        m2m_changed.connect(keys_changed, sender=through, dispatch_uid=f"apikeys-m2m-{through.__name__}")


def _saved(sender: type, created: bool, update_fields: frozenset[str] | None, **kwargs: Any) -> None:
    if created or update_fields == frozenset({"last_login"}):
        return  # a new key, person or group takes nothing away; a login neither
    keys_changed()
