"""The only writers of Slack's tables: events received once, identities and their Slack-only
accounts, one-time links, threads as sessions, and the move of a Slack-only account's data into
the account that links it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from agentapp.errors import NotFound
from memory_app import services as memory_services
from sessions_app import services as session_services
from sessions_app.models import AgentSession

from .models import SlackEvent, SlackIdentity, SlackLinkToken, SlackThread

LINK_MINUTES = 30
EVENT_DAYS = 2
ACCOUNT_PREFIX = "slack:"  # a colon: no username a person or the API can choose (letters, digits, .@+-_)


class LinkInvalid(NotFound):
    """A link that was never given, was used already, or expired."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def event_record(*, event_id: str, team_id: str, kind: str) -> bool:
    """Note an event Slack sent; False when it came before (a retry): it starts nothing again.
    Ids older than EVENT_DAYS go (Slack stops retrying within the hour)."""
    try:
        with transaction.atomic():
            SlackEvent.objects.create(event_id=event_id[:64], team_id=team_id[:32], kind=kind[:64])
    except IntegrityError:
        return False
    SlackEvent.objects.filter(received_at__lt=timezone.now() - timedelta(days=EVENT_DAYS)).delete()
    return True


def _slack_only_account(*, team_id: str, slack_user_id: str) -> User:
    """A Django user of the Slack person's own, who cannot sign in (no usable password)."""
    User = get_user_model()
    base = f"{ACCOUNT_PREFIX}{team_id}:{slack_user_id}"
    username = base
    while User.objects.filter(username=username).exists():  # an old account of theirs left behind
        username = f"{base}:{secrets.token_hex(3)}"
    user = User(username=username)
    user.set_unusable_password()
    user.save()
    return user


def identity_get_or_create(*, team_id: str, slack_user_id: str) -> tuple[SlackIdentity, bool]:
    """The Slack person, with a Slack-only account of their own the first time (created: True)."""
    found = SlackIdentity.objects.filter(team_id=team_id, slack_user_id=slack_user_id).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            account = _slack_only_account(team_id=team_id, slack_user_id=slack_user_id)
            identity = SlackIdentity.objects.create(
                team_id=team_id, slack_user_id=slack_user_id, user=account, account=account
            )
    except IntegrityError:  # the same person's other event, at the same moment
        return SlackIdentity.objects.get(team_id=team_id, slack_user_id=slack_user_id), False
    return identity, True


def link_token_create(*, identity: SlackIdentity) -> str:
    """A one-time link's token (only its hash is kept), valid LINK_MINUTES; deleted once used."""
    token = secrets.token_urlsafe(32)
    SlackLinkToken.objects.filter(expires_at__lte=timezone.now()).delete()
    SlackLinkToken.objects.create(
        identity=identity,
        token_hash=token_hash(token),
        expires_at=timezone.now() + timedelta(minutes=LINK_MINUTES),
    )
    return token


def thread_session_get_or_create(
    *, identity: SlackIdentity, channel: str, thread_ts: str, is_direct: bool
) -> AgentSession:
    """The session of this person in this thread (made with its first message)."""
    assert identity.user is not None
    thread = (
        SlackThread.objects.select_related("session")
        .filter(team_id=identity.team_id, channel=channel, thread_ts=thread_ts, identity=identity)
        .first()
    )
    if thread is not None and thread.session.user_id == identity.user_id:
        return thread.session
    with transaction.atomic():
        if thread is not None:  # the session is someone else's now (an unlinked web person's)
            thread.delete()
        session = session_services.session_create(user=identity.user, agent_name="agent")
        SlackThread.objects.create(
            identity=identity,
            session=session,
            team_id=identity.team_id,
            channel=channel,
            thread_ts=thread_ts,
            is_direct=is_direct,
        )
    return session


def thread_channel_name_set(*, thread_pk: int, name: str) -> None:
    SlackThread.objects.filter(pk=thread_pk).update(channel_name=name[:100])


def link_confirm(*, token: str, user: User) -> SlackIdentity:
    """Link the Slack person of this one-time link to `user`: from now on their Slack messages run as
    `user`, and what their Slack-only account held (chats, memories) moves to `user`'s, which is
    then deleted. A used or expired link is refused."""
    with transaction.atomic():
        link = (
            SlackLinkToken.objects.select_for_update()
            .select_related("identity")
            .filter(token_hash=token_hash(token), expires_at__gt=timezone.now())
            .first()
        )
        if link is None:
            raise LinkInvalid("This link was used already or has expired: ask the bot for a new one.")
        identity = SlackIdentity.objects.select_for_update().get(pk=link.identity_id)
        account = identity.account
        if account is not None and account.pk != user.pk:
            account_merge(source=account, target=user)
        identity.user, identity.account, identity.linked_at = user, None, timezone.now()
        identity.save(update_fields=["user", "account", "linked_at"])
        SlackLinkToken.objects.filter(identity=identity).delete()
    return identity


def account_merge(*, source: User, target: User) -> int:
    """Move everything a Slack-only account holds to `target`, then delete it; returns how many
    current memories moved (one `target` already holds, the same text, is not moved twice). Call it
    in a transaction."""
    moved = memory_services.memories_move(source=source, target=target)
    session_services.person_chats_move(source=source, target=target)
    source.delete()
    return moved


def identity_unlink(*, identity_pk: int, user: User) -> None:
    """The person's own link undone: their next Slack message starts a Slack-only account again
    (what was said in Slack so far stays theirs)."""
    deleted, _ = SlackIdentity.objects.filter(pk=identity_pk, user=user, linked_at__isnull=False).delete()
    if not deleted:
        raise NotFound("no such Slack link")
