"""A person's data over HTTP: export it all, or erase it all (the right of access and of erasure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from agentapp.api_types import OBJECT_ERRORS, UserId
from agentapp.ownership import acting_user, caller

from .services import user_data_erase, user_data_export

router = Router(tags=["users"])


class UserExportOut(Schema):
    user_id: str
    exported_at: datetime
    sessions: list[dict[str, Any]]
    memories: list[dict[str, Any]]


class UserEraseOut(Schema):
    user_id: str
    sessions: int
    runs: int
    messages: int
    events: int
    summaries: int
    memories: int
    memory_changes: int


@router.get("/{user_id}/export", response={200: UserExportOut, **OBJECT_ERRORS})
def user_export(request: HttpRequest, user_id: UserId):
    return user_data_export(user=acting_user(request, user_id))


@router.delete("/{user_id}/data", response={200: UserEraseOut, **OBJECT_ERRORS})
def user_erase(request: HttpRequest, user_id: UserId):
    user = acting_user(request, user_id)
    return {"user_id": user.get_username(), **user_data_erase(user=user, by=caller(request))}
