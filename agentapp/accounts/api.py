"""A person's data over HTTP: export it all, or erase it all (the right of access and of erasure);
and their settings (custom instructions, memory choices), read and changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from agentapp.api_types import OBJECT_ERRORS, InputSchema, Text, UserId
from agentapp.ownership import acting_user, caller
from sessions_app.models import INSTRUCTIONS_LIMIT
from sessions_app.selectors import person_settings
from sessions_app.services import person_settings_save

from .services import user_data_erase, user_data_export

router = Router(tags=["users"])


class UserExportOut(Schema):
    user_id: str
    exported_at: datetime
    settings: dict[str, Any]
    sessions: list[dict[str, Any]]
    memories: list[dict[str, Any]]
    memory_proposals: list[dict[str, Any]]


class UserEraseOut(Schema):
    user_id: str
    sessions: int
    runs: int
    messages: int
    events: int
    summaries: int
    memories: int = Field(description="The memories the person had (as the data page counts them).")
    deleted_memories: int = Field(
        description="Memories the person had deleted before, kept for their history."
    )
    memory_changes: int
    memory_proposals: int
    feedback: int
    settings: int


class PersonSettingsOut(Schema):
    user_id: str
    about_you: str = Field(description="What the agent should know about the person (custom instructions).")
    how_to_respond: str = Field(
        description="How the person wants the agent to respond (custom instructions)."
    )
    use_memories: bool = Field(description="Their memories are used in replies.")
    learn_memories: bool = Field(description="New memories are learned from their chats.")
    review_memories: bool = Field(description="A memory the agent would keep is proposed to them first.")
    updated_at: datetime | None = Field(description="When they last saved; null: the operator's defaults.")

    @staticmethod
    def resolve_user_id(obj: Any) -> str:
        return obj.user.get_username()


_INSTRUCTIONS = (
    f'At most {INSTRUCTIONS_LIMIT} characters; kept with surrounding blanks removed; "" clears it.'
)


class PersonSettingsIn(InputSchema):
    """Only the settings given change (each is absent or a value, never null)."""

    about_you: Text = Field(None, max_length=INSTRUCTIONS_LIMIT, description=_INSTRUCTIONS)  # type: ignore[assignment]
    how_to_respond: Text = Field(None, max_length=INSTRUCTIONS_LIMIT, description=_INSTRUCTIONS)  # type: ignore[assignment]
    use_memories: bool = Field(None)  # type: ignore[assignment]
    learn_memories: bool = Field(None)  # type: ignore[assignment]
    review_memories: bool = Field(None)  # type: ignore[assignment]


@router.get("/{user_id}/settings", response={200: PersonSettingsOut, **OBJECT_ERRORS})
def user_settings(request: HttpRequest, user_id: UserId):
    return person_settings(user_pk=acting_user(request, user_id).pk)


@router.patch("/{user_id}/settings", response={200: PersonSettingsOut, **OBJECT_ERRORS})
def user_settings_update(request: HttpRequest, user_id: UserId, payload: PersonSettingsIn):
    user = acting_user(request, user_id)
    return person_settings_save(user=user, changes=payload.model_dump(exclude_unset=True), by=caller(request))


@router.get("/{user_id}/export", response={200: UserExportOut, **OBJECT_ERRORS})
def user_export(request: HttpRequest, user_id: UserId):
    return user_data_export(user=acting_user(request, user_id))


@router.delete("/{user_id}/data", response={200: UserEraseOut, **OBJECT_ERRORS})
def user_erase(request: HttpRequest, user_id: UserId):
    user = acting_user(request, user_id)
    return {"user_id": user.get_username(), **user_data_erase(user=user, by=caller(request))}
