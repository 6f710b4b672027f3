from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from apikeys.models import ApiKey
from apikeys.services import apikey_create
from memory_app.models import Memory, MemoryChange, MemoryProposal
from memory_app.services import memory_create, proposal_create
from sessions_app import services
from sessions_app.models import AgentSession, Run, RunEvent
from tests.fake_openai import Reply

ACTORS = ("alice", "bob", "anonymous", "staff", "alice_key", "service_key")


@dataclass
class World:
    """Real objects owned by alice, and a way to call the app as each actor."""

    alice: Any
    bob: Any
    staff: Any
    session: AgentSession
    run: Run  # pending: can be stopped and cancelled
    stopped: Run  # cancelled: can be retried, its stream replays without a model call
    event: RunEvent
    memory: Memory
    change: MemoryChange
    proposal: MemoryProposal  # a memory the model proposed for alice's review, waiting
    apikey: ApiKey
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, actor: str, *, csrf: bool = False) -> tuple[Client, dict[str, str]]:
        """A test client and headers for `actor`: a signed-in session, a bearer key, or nobody.

        With `csrf`, the client enforces CSRF and the session actors send a valid token, as a browser does.
        """
        client = Client(enforce_csrf_checks=csrf)
        headers: dict[str, str] = {}
        users = {"alice": self.alice, "bob": self.bob, "staff": self.staff}
        if actor in users:
            client.force_login(users[actor])
            if csrf:
                token = get_random_string(32)
                client.cookies["csrftoken"] = token
                headers["X-CSRFToken"] = token
        elif actor in self.tokens:
            headers["Authorization"] = f"Bearer {self.tokens[actor]}"
        return client, headers


def world_build(*, alice, bob, staff) -> World:
    session = services.session_create(user=alice, title="Alice's thread")
    run = services.run_create(session=session, input="hello", status=Run.Status.PENDING)
    stopped = services.run_create(session=session, input="hello again", status=Run.Status.PENDING)
    services.run_cancel(run=stopped)
    now = timezone.now()
    event = RunEvent.objects.create(
        run=run, kind="model_request", name="gpt-test", started_at=now, ended_at=now
    )
    memory, _ = memory_create(user_pk=alice.pk, text="Alice likes tea", topics=["drinks"], actor="person")
    proposal = proposal_create(user_pk=alice.pk, text="Alice plays the cello", actor="model", run_pk=run.pk)
    apikey, alice_token = apikey_create(user=alice, name="alice's key")
    _, service_token = apikey_create(user=staff, name="product backend")
    return World(
        alice=alice,
        bob=bob,
        staff=staff,
        session=session,
        run=run,
        stopped=Run.objects.get(pk=stopped.pk),
        event=event,
        memory=memory,
        change=MemoryChange.objects.filter(memory=memory).latest("pk"),
        proposal=proposal,
        apikey=apikey,
        tokens={"alice_key": alice_token, "service_key": service_token},
    )


@pytest.fixture
def world(alice, bob, staff) -> World:
    return world_build(alice=alice, bob=bob, staff=staff)


@pytest.fixture
def replying(app_model):
    app_model.responder = lambda request: Reply(text="Noted.")
    return app_model
