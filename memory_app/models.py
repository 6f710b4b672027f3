from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import MD5
from django.utils import timezone

from agentapp.errors import Conflict

LIVE_TEXT_UNIQUE = "memory_live_text_unique"


def new_memory_id() -> str:
    return f"mem_{uuid.uuid4().hex[:16]}"


class MemoryQuerySet(models.QuerySet["Memory"]):
    def live(self) -> MemoryQuerySet:
        """Not deleted: current or superseded (a past fact, still the person's)."""
        return self.filter(deleted_at__isnull=True)

    def current(self) -> MemoryQuerySet:
        """What is true now: not deleted, not closed."""
        return self.filter(deleted_at__isnull=True, valid_to__isnull=True)

    def as_of(self, when: datetime) -> MemoryQuerySet:
        """What was true at `when`: not deleted, became true by then and not yet closed."""
        return self.filter(deleted_at__isnull=True, valid_from__lte=when).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=when)
        )


class Memory(models.Model):
    """A fact the agent learned about one user, shared by all of that user's sessions."""

    memory_id = models.CharField(max_length=64, unique=True, default=new_memory_id)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memories")
    text = models.TextField()
    # Lower-cased, whitespace-folded text: how exact duplicates are recognised.
    normalized_text = models.TextField(editable=False)
    topics = models.JSONField(default=list, blank=True)
    source_run = models.ForeignKey(
        "sessions_app.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="memories_written"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    # When the fact became true (by default: when it was learned) and stopped being true (null while
    # current). A fact that changed is closed, not overwritten: `superseded_by` is what replaced it.
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="supersedes"
    )
    # Agno's UserMemory.input (what was said that taught it, when the writer tells) and agent_id (the
    # agent that wrote it); "" when not told.
    input = models.TextField(blank=True, default="", db_default="")
    agent_id = models.CharField(max_length=100, blank=True, default="", db_default="")

    objects = MemoryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "memories"
        indexes = [
            models.Index(fields=["user", "deleted_at", "-updated_at"], name="memory_user_recent"),
            # Recall's recency signal and the context's newest memories, in their exact order.
            models.Index(
                models.F("user"),
                models.F("updated_at").desc(),
                models.F("id").desc(),
                condition=models.Q(deleted_at__isnull=True),
                name="memory_live_newest",
            ),
        ]
        constraints = [
            # One current memory per person and text, held by the database (two web workers
            # creating the same memory at once store one); a closed one may say what is true again.
            # On a hash: a btree entry holds at most 2,704 bytes, and a 2,000-character memory in
            # CJK is 6,000.
            models.UniqueConstraint(
                models.F("user"),
                MD5("normalized_text"),
                condition=models.Q(deleted_at__isnull=True, valid_to__isnull=True),
                name=LIVE_TEXT_UNIQUE,
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="memory_valid_interval",
                violation_error_message="a memory cannot stop being true before it became true",
            ),
            models.CheckConstraint(
                condition=~models.Q(superseded_by=models.F("pk")),
                name="memory_not_superseded_by_itself",
            ),
            # Only a closed memory is replaced by another (what keeps supersessions free of cycles).
            models.CheckConstraint(
                condition=models.Q(superseded_by__isnull=True) | models.Q(valid_to__isnull=False),
                name="memory_superseded_is_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_current(self) -> bool:
        return self.deleted_at is None and self.valid_to is None


class MemoryChange(models.Model):
    """The audit trail: every create, update and delete of a memory, by whom and in which run."""

    class Action(models.TextChoices):
        CREATE = "create"
        UPDATE = "update"
        DELETE = "delete"
        RESTORE = "restore"
        # A merge: the merged memory's creation, and each source's soft deletion (with `merge` set).
        MERGE = "merge"
        # A fact that changed: the old memory closed (`valid_to`), replaced by `superseded_by`.
        SUPERSEDE = "supersede"
        # No longer true, with nothing in its place (closed by a person or the model).
        EXPIRE = "expire"
        # A closed memory made current again (an undone supersession or expiry).
        REOPEN = "reopen"
        # The person's review of a proposed memory: kept (the memory it became) or discarded.
        KEEP = "keep"
        DISCARD = "discard"

    class Actor(models.TextChoices):
        MODEL = "model", "Model (tool call)"
        MEMORY_MANAGER = "memory_manager", "Memory manager"
        PERSON = "person", "Person"
        OPERATOR = "operator", "Operator"
        API = "api", "API"
        MCP = "mcp", "MCP client"

    # None only for a discarded proposal, which never became a memory (`proposal` says which).
    memory = models.ForeignKey(
        Memory, on_delete=models.CASCADE, related_name="changes", null=True, blank=True
    )
    proposal = models.ForeignKey(
        "MemoryProposal", on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_changes"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.CharField(max_length=32, choices=Actor.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey(
        "sessions_app.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="memory_changes"
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # Set when this change was made by reverting an earlier one.
    reverts = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="reverted_by"
    )
    # A merged-away source's change points to the merged memory's "merge" change (its creation),
    # so each names the other: "merged into" one way, "merged from" (merged_sources) the other.
    merge = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_sources"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["memory", "-created_at"], name="memchange_memory_recent"),
            models.Index(fields=["user", "-created_at"], name="memchange_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.memory_id or self.proposal_id} by {self.actor}"

    @staticmethod
    def actor_for(*, acting_pk: int, owner_pk: int) -> str:
        """A change made in the pages: the person's own, or an operator's acting for them."""
        return MemoryChange.Actor.PERSON if acting_pk == owner_pk else MemoryChange.Actor.OPERATOR

    @property
    def subject(self) -> Memory:
        """The memory changed; a discarded proposal's decision has none (Conflict)."""
        if self.memory is None:
            raise Conflict("a discarded proposal never became a memory: there is nothing to revert")
        return self.memory


def new_proposal_id() -> str:
    return f"prop_{uuid.uuid4().hex[:16]}"


class MemoryProposal(models.Model):
    """A memory the agent would keep, waiting for the person's review (their settings ask for it).

    Never in the context, the search or an export's memories until kept; keeping it makes the memory
    (`kept_as`) by `change`: a new one, one that supersedes `target`, or `target` corrected.
    """

    class State(models.TextChoices):
        PROPOSED = "proposed"
        KEPT = "kept"
        DISCARDED = "discarded"

    class Change(models.TextChoices):
        CREATE = "create"
        SUPERSEDE = "supersede"
        UPDATE = "update"

    proposal_id = models.CharField(max_length=64, unique=True, default=new_proposal_id)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_proposals"
    )
    text = models.TextField()
    topics = models.JSONField(default=list, blank=True)
    change = models.CharField(max_length=16, choices=Change.choices, default=Change.CREATE)
    target = models.ForeignKey(
        Memory, on_delete=models.SET_NULL, null=True, blank=True, related_name="proposals"
    )
    source_run = models.ForeignKey(
        "sessions_app.Run", on_delete=models.SET_NULL, null=True, blank=True, related_name="memory_proposals"
    )
    actor = models.CharField(max_length=32, choices=MemoryChange.Actor.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PROPOSED)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    kept_as = models.ForeignKey(Memory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["user", "state", "-created_at"], name="proposal_user_state")]

    def __str__(self) -> str:
        return f"{self.state} {self.proposal_id}: {self.text[:60]}"


class MemoryExtraction(models.Model):
    """The automatic memory update of one run, claimed once so a repeated task applies nothing twice."""

    class State(models.TextChoices):
        RUNNING = "running"
        RETRYING = "retrying"
        DONE = "done"
        FAILED = "failed"

    run = models.OneToOneField("sessions_app.Run", on_delete=models.CASCADE, related_name="memory_extraction")
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    attempts = models.PositiveIntegerField(default=1)
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"memory extraction of run {self.run_id}: {self.state}"


class RealField(models.FloatField):
    """A float4 ("real"): half the bytes of Django's float8, and what embeddings are stored as."""

    def db_type(self, connection: object) -> str:
        return "real"


class MemoryEmbedding(models.Model):
    """A live memory's vector, by the embedder named `model`: recall by meaning.

    Stored as real[] so that a server without pgvector migrates all the same; with pgvector, the
    search casts it to `vector(n)`, and an HNSW index (cosine) per dimension holds exactly that
    cast (memory_app.selectors.MEANING_INDEX_SQL). Deleted with the memory's text changing, its
    soft deletion or the memory itself; another embedder's vectors are replaced as they are re-made.
    """

    memory = models.OneToOneField(
        Memory, on_delete=models.CASCADE, primary_key=True, related_name="embedding"
    )
    # The memory's owner again, so the search filters on one column of one table.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=200)
    dimensions = models.PositiveIntegerField()
    vector = ArrayField(RealField())
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["user", "model", "dimensions"], name="memory_embedding_owner")]

    def __str__(self) -> str:
        return f"{self.model} ({self.dimensions}) of {self.memory_id}"
