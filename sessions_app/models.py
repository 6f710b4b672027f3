from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now


def new_session_id() -> str:
    return f"ses_{uuid.uuid4().hex}"


def new_run_id() -> str:
    return f"run_{uuid.uuid4().hex}"


class AgentSession(models.Model):
    """One conversation thread. A session belongs to exactly one user."""

    session_id = models.CharField(max_length=128, unique=True, default=new_session_id)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_sessions"
    )
    agent_name = models.CharField(max_length=100, blank=True, default="")
    title = models.CharField(max_length=200, blank=True, default="")
    session_state = models.JSONField(default=dict, blank=True)
    # A temporary chat: it neither reads nor writes memories, is listed and searched nowhere, gets no
    # summary or title, and the sweep deletes it AGENT_TEMPORARY_CHAT_DAYS after it began.
    temporary = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Deleted by its person, who may still undo it: hidden everywhere, and deleted for good by the
    # sweep AGENT_CHAT_UNDO_SECONDS later. Null: not deleted.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "session"
        indexes = [
            models.Index(fields=["user", "-updated_at"], name="session_user_recent"),
            models.Index(
                fields=["created_at"], condition=models.Q(temporary=True), name="session_temporary_age"
            ),
            models.Index(
                fields=["deleted_at"], condition=models.Q(deleted_at__isnull=False), name="session_deleted"
            ),
        ]
        permissions = [
            (
                "act_for_others",
                "Can act for other people: read, write and erase their chats, runs and memories "
                "(operators; a key of such an account is a service key)",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.session_id


class Run(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        ERROR = "error"
        CANCELLED = "cancelled"
        # A tool call waits for its caller's confirmation (Agno's human in the loop, Python API only):
        # no process works on it, so no sweep or lease ends it; `continue_run` takes it up again.
        PAUSED = "paused"

    # Ended, or waiting on no process (paused): pages and streams show its stored outcome.
    TERMINAL = (Status.COMPLETED, Status.ERROR, Status.CANCELLED, Status.PAUSED)

    run_id = models.CharField(max_length=64, unique=True, default=new_run_id)
    session = models.ForeignKey(AgentSession, on_delete=models.CASCADE, related_name="runs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_runs")
    # Who started the run when it was not the session's owner: an operator in the chat, a service key.
    acting_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The turn this run follows: the thread is a tree, and the runs with one parent are versions of
    # one turn (a message edited, an answer regenerated), each with its own later turns.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    # When the run was last on the thread shown (made, or switched to): the thread shown ends at the
    # session's run shown last, and at each turn below a version the latest shown of its versions.
    shown_at = models.DateTimeField(db_default=Now())
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    input = models.TextField()
    content = models.TextField(blank=True, default="")
    model_id = models.CharField(max_length=200, blank=True, default="")
    model_provider = models.CharField(max_length=50, blank=True, default="")
    error = models.TextField(blank=True, default="")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    memories_used = models.JSONField(default=list, blank=True)
    # False: the person asked that nothing be learned from this run ("don't remember this"): no memory
    # tool writes, no automatic update; set afterwards by "forget what was learned from this" too.
    remember = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    first_token_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # History: the last N completed runs of one session.
            models.Index(fields=["session", "status", "-id"], name="run_session_status_recent"),
            models.Index(fields=["user", "-created_at"], name="run_user_recent"),
            models.Index(fields=["status", "created_at"], name="run_status_created"),
            # The end of the thread shown: the session's run shown last.
            models.Index(fields=["session", "-shown_at", "-id"], name="run_session_shown"),
        ]

    def __str__(self) -> str:
        return self.run_id

    @property
    def is_finished(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def duration_ms(self) -> int | None:
        if not (self.started_at and self.ended_at):
            return None
        return int((self.ended_at - self.started_at).total_seconds() * 1000)

    @property
    def ttft_ms(self) -> int | None:
        if not (self.started_at and self.first_token_at):
            return None
        return int((self.first_token_at - self.started_at).total_seconds() * 1000)


class Message(models.Model):
    class Role(models.TextChoices):
        SYSTEM = "system"
        USER = "user"
        ASSISTANT = "assistant"
        TOOL = "tool"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="messages")
    session = models.ForeignKey(AgentSession, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True, default="")
    tool_calls = models.JSONField(default=list, blank=True)
    tool_call_id = models.CharField(max_length=128, blank=True, default="")
    position = models.PositiveIntegerField()
    # A copy of an earlier run's message, kept with this run when the agent stores history messages
    # (Agno's store_history_messages): never replayed or shown again as part of the thread.
    from_history = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="message_run_position_unique")
        ]
        indexes = [models.Index(fields=["session", "-id"], name="message_session_recent")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class RunEvent(models.Model):
    class Kind(models.TextChoices):
        CONTEXT = "context"
        MODEL_REQUEST = "model_request"
        TOOL_CALL = "tool_call"
        MEMORY_UPDATE = "memory_update"
        SUMMARY = "summary"
        ERROR = "error"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    name = models.CharField(max_length=200, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        indexes = [models.Index(fields=["run", "started_at"], name="runevent_run_time")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()

    @property
    def duration_ms(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds() * 1000)


class SessionSummary(models.Model):
    session = models.OneToOneField(AgentSession, on_delete=models.CASCADE, related_name="summary")
    text = models.TextField(blank=True, default="")
    topics = models.JSONField(default=list, blank=True)
    last_run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "session summaries"

    def __str__(self) -> str:
        return f"Summary of {self.session_id}"


# A run driven by a web process is leased to it: a session-level advisory lock on the keys
# (LEASE_KEY, hashtext(run_id)), held on a connection of that process's own (live/lease.py).
LEASE_KEY = 0x52554E  # "RUN" in ASCII


def lease_free_sql(run_id_param: str = "%s") -> str:
    """An expression true when nobody holds the run's lease (taken and let go at once when free)."""
    key = f"{LEASE_KEY}, hashtext({run_id_param})"
    return f"CASE WHEN pg_try_advisory_lock({key}) THEN pg_advisory_unlock({key}) ELSE false END"


class RunFrame(models.Model):
    """One event of a run's live stream (the reply's text coalesced into pieces), kept so that a
    stream opened anywhere, later or on another web worker, replays the run up to `seq` and then
    follows it live; `seq` is the SSE event id a client resumes from (Last-Event-ID)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="frames")
    seq = models.PositiveIntegerField()
    event = models.CharField(max_length=40)
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runframe_run_seq_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} #{self.seq} {self.event}"


class Erasure(models.Model):
    """A person's data was erased: when, and by whom. Work that began for them before it (a memory
    update still waiting on its model) writes nothing after it (memory_app.services.memory_create)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="erasures")
    erased_at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["user", "-erased_at"], name="erasure_user_recent")]

    def __str__(self) -> str:
        return f"erasure of user #{self.user_id} at {self.erased_at:%Y-%m-%d %H:%M}"


class RunFeedback(models.Model):
    """What the person thought of a reply: thumbs up or down, with an optional comment. One per run
    and person; giving it again replaces it."""

    class Rating(models.TextChoices):
        UP = "up", "Thumbs up"
        DOWN = "down", "Thumbs down"

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="run_feedback")
    rating = models.CharField(max_length=4, choices=Rating.choices)
    comment = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "run feedback"
        constraints = [models.UniqueConstraint(fields=["run", "user"], name="feedback_one_per_run_person")]
        indexes = [models.Index(fields=["rating", "-created_at"], name="feedback_rating_recent")]

    def __str__(self) -> str:
        return f"{self.rating} on {self.run_id}"


INSTRUCTIONS_LIMIT = 1500  # characters in each of a person's custom instructions


class PersonSettings(models.Model):
    """What a person chose for how the agent treats them: their custom instructions and their memory.

    A person without a row has the operator's defaults (AGENT_DEFAULT_* settings); their first save
    makes the row, and from then on their choices hold whatever the defaults become.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person_settings"
    )
    about_you = models.TextField(blank=True, default="", max_length=INSTRUCTIONS_LIMIT)
    how_to_respond = models.TextField(blank=True, default="", max_length=INSTRUCTIONS_LIMIT)
    use_memories = models.BooleanField(default=True)
    learn_memories = models.BooleanField(default=True)
    review_memories = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "person settings"

    def __str__(self) -> str:
        return f"settings of user #{self.user_id}"

    @staticmethod
    def operator_defaults() -> dict[str, bool]:
        """The memory switches of a person who has not chosen (AGENT_DEFAULT_* settings)."""
        return {
            "use_memories": settings.AGENT_DEFAULT_USE_MEMORIES,
            "learn_memories": settings.AGENT_DEFAULT_LEARN_MEMORIES,
            "review_memories": settings.AGENT_DEFAULT_REVIEW_MEMORIES,
        }
