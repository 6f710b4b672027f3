"""The people runs belong to: a user id as stored, the account made for a new one, and what each
chose for how the agent treats them (their settings)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agentapp.errors import InvalidInput
from agentapp.platform.storable import unstorable

from ..models import INSTRUCTIONS_LIMIT, AgentSession, PersonSettings, Run, RunFeedback

audit = logging.getLogger("agentapp.audit")


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


# What a person may set, with the name a message gives it.
INSTRUCTION_FIELDS = {"about_you": "About you", "how_to_respond": "How to respond"}
MEMORY_FIELDS = {
    "use_memories": "Use memories in replies",
    "learn_memories": "Learn new memories automatically",
    "review_memories": "Review new memories before they are kept",
}


def _setting_error(name: str, value: Any) -> str | None:
    """Why `value` cannot be the setting `name`, in words a person reads next to the field; or None."""
    label = INSTRUCTION_FIELDS.get(name) or MEMORY_FIELDS[name]
    if name in MEMORY_FIELDS:
        return None if isinstance(value, bool) else f"{label} ({name}) is on or off: true or false."
    if not isinstance(value, str):
        return f"{label} ({name}) must be text."
    if unstorable(value):
        return f"{label} ({name}) must not contain NUL characters or lone surrogates."
    length = len(value.strip())
    if length > INSTRUCTIONS_LIMIT:
        return (
            f"{label} ({name}) is at most {INSTRUCTIONS_LIMIT} characters; "
            f"this is {length}, {length - INSTRUCTIONS_LIMIT} too many."
        )
    return None


def person_settings_save(*, user: User, changes: dict[str, Any], by: User | None = None) -> PersonSettings:
    """Change the settings named in `changes` (the others stay as they are) and return them all.

    The first save makes the person's row from the operator's defaults (AGENT_DEFAULT_*), so what
    they did not touch is what they had; from then on the row holds their choices whatever the
    defaults become. Custom instructions are kept stripped, each at most INSTRUCTIONS_LIMIT
    characters. Every field is checked before anything is written: InvalidInput names each refused
    field (`detail["fields"]`: field -> message). No change at all writes nothing. A change `by`
    someone other than the person (a service key acting for them) is written to the audit log.
    """
    unknown = sorted(
        str(name) for name in changes if name not in INSTRUCTION_FIELDS and name not in MEMORY_FIELDS
    )
    if unknown:
        known = ", ".join([*INSTRUCTION_FIELDS, *MEMORY_FIELDS])
        raise InvalidInput(f"unknown setting: {', '.join(unknown)} (known: {known})")
    errors = {name: error for name, value in changes.items() if (error := _setting_error(name, value))}
    if errors:
        raise InvalidInput(" ".join(errors.values()), detail={"fields": errors, "limit": INSTRUCTIONS_LIMIT})
    if not changes:
        return PersonSettings.objects.filter(user=user).first() or PersonSettings(
            user=user, **PersonSettings.operator_defaults()
        )
    cleaned = {
        name: value.strip() if name in INSTRUCTION_FIELDS else value for name, value in changes.items()
    }
    with transaction.atomic():
        PersonSettings.objects.get_or_create(user=user, defaults=PersonSettings.operator_defaults())
        # Locked, so two saves at once each change only their own fields.
        chosen = PersonSettings.objects.select_for_update().get(user=user)
        for name, value in cleaned.items():
            setattr(chosen, name, value)
        chosen.save(update_fields=[*cleaned, "updated_at"])
    if by is not None and by.pk != user.pk:
        audit.warning(
            "%s changed the settings of %s: %s", by.get_username(), user.get_username(), sorted(cleaned)
        )
    return chosen


def person_chats_move(*, source: User, target: User) -> None:
    """Move `source`'s chats, runs and feedback to `target` (a Slack-only account linked to its
    person's own). Call it in a transaction. Runs before sessions, the order in which a run's end
    (`run_finish`) takes them: linking while a reply is being stored waits for it, never deadlocks."""
    Run.objects.filter(user=source).update(user=target)
    AgentSession.objects.filter(user=source).update(user=target)
    RunFeedback.objects.filter(user=source).update(user=target)
