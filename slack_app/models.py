"""Slack identities (who a Slack person is here), link tokens, threads (a session each) and the
events already received (Slack delivers again what it thinks was lost)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SlackIdentity(models.Model):
    """A Slack person, by workspace and user id (a Slack user id is unique only in its workspace).

    `user` is who their messages run as: their Slack-only `account` until they link a web account,
    then that account. None: that person was deleted, and a new link is needed before any run.
    """

    team_id = models.CharField(max_length=32)
    slack_user_id = models.CharField(max_length=32)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slack_identities",
    )
    # The account made for this Slack person before any link (merged into the linker's and deleted
    # when they link).
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    linked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Slack identity"
        verbose_name_plural = "Slack identities"
        constraints = [
            models.UniqueConstraint(fields=["team_id", "slack_user_id"], name="slack_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.slack_user_id}"

    @property
    def is_linked(self) -> bool:
        return self.linked_at is not None


class SlackLinkToken(models.Model):
    """A one-time link the bot gave a Slack person (privately): whoever signs in and confirms it links
    them. Deleted once used."""

    identity = models.ForeignKey(SlackIdentity, on_delete=models.CASCADE, related_name="link_tokens")
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 hex: the token itself is never stored
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"link for {self.identity}"


class SlackThread(models.Model):
    """A Slack thread as one person's session: several people in one channel thread each get their
    own, so nobody's memories answer someone else."""

    identity = models.ForeignKey(SlackIdentity, on_delete=models.CASCADE, related_name="threads")
    session = models.OneToOneField(
        "sessions_app.AgentSession", on_delete=models.CASCADE, related_name="slack_thread"
    )
    team_id = models.CharField(max_length=32)
    channel = models.CharField(max_length=32)
    channel_name = models.CharField(max_length=100, blank=True, default="")
    is_direct = models.BooleanField(default=False)
    thread_ts = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["team_id", "channel", "thread_ts", "identity"], name="slack_thread_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.channel}/{self.thread_ts}"

    @property
    def label(self) -> str:
        """How the memories page names where a fact was told."""
        if self.is_direct:
            return "Slack, direct message"
        return f"Slack, #{self.channel_name or self.channel}, thread"

    @property
    def url(self) -> str:
        """The thread (or the direct messages) in Slack's web client."""
        conversation = f"https://app.slack.com/client/{self.team_id}/{self.channel}"
        return f"{conversation}/thread/{self.channel}-{self.thread_ts}" if self.thread_ts else conversation


class SlackEvent(models.Model):
    """An event Slack sent, once: the unique event id turns a redelivery into nothing."""

    event_id = models.CharField(max_length=64, unique=True)
    team_id = models.CharField(max_length=32)
    kind = models.CharField(max_length=64)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["-received_at"], name="slack_event_recent")]

    def __str__(self) -> str:
        return self.event_id
