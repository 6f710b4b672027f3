"""Reads of Slack's tables."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone

from memory_app.models import Memory
from sessions_app.models import AgentSession, Erasure, Run

from .config import configured
from .models import SlackEvent, SlackIdentity, SlackLinkToken, SlackThread


def identity_is_void(*, identity: SlackIdentity) -> bool:
    """Whether the person the Slack identity runs as is gone: deleted, or their data erased since
    (a run must not quietly start an account again; a new link is needed)."""
    if identity.user_id is None:
        return True
    since = identity.linked_at or identity.created_at
    return Erasure.objects.filter(user_id=identity.user_id, erased_at__gte=since).exists()


def identities_linked(*, user: User) -> QuerySet[SlackIdentity]:
    """The Slack identities linked to this person, for their settings page."""
    linked = SlackIdentity.objects.filter(user=user, linked_at__isnull=False)
    return linked.order_by("team_id", "slack_user_id")


def link_get(*, token_hash: str) -> SlackLinkToken | None:
    """A link still usable (not expired; a used one is deleted), with its identity."""
    return (
        SlackLinkToken.objects.select_related("identity")
        .filter(token_hash=token_hash, expires_at__gt=timezone.now())
        .first()
    )


def last_event_at() -> datetime | None:
    event = SlackEvent.objects.order_by("-received_at").only("received_at").first()
    return event.received_at if event is not None else None


def run_outcome(*, run_id: str) -> tuple[str, str]:
    """A run's status and its reply as stored."""
    run = Run.objects.only("status", "content").get(run_id=run_id)
    return run.status, run.content


def thread_needs_channel_name(*, thread_pk: int) -> str:
    """The channel id of a channel thread whose name is not known yet; "" otherwise."""
    thread = SlackThread.objects.filter(pk=thread_pk, is_direct=False, channel_name="").first()
    return thread.channel if thread is not None else ""


def account_counts(*, identity: SlackIdentity) -> dict[str, int]:
    """What the Slack person's own account holds (what linking moves): chats and current memories."""
    if identity.account_id is None:
        return {"sessions": 0, "memories": 0}
    return {
        "sessions": AgentSession.objects.filter(user_id=identity.account_id, deleted_at__isnull=True).count(),
        "memories": Memory.objects.current().filter(user_id=identity.account_id).count(),
    }


def slack_status() -> dict[str, object]:
    """For /status/: whether Slack is configured here, and when its last event came."""
    return {"configured": configured(), "last_event_at": last_event_at()}
