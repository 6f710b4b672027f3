"""Review before keeping, through the real model loop: with the person's `review_memories`, what the
model (a memory tool) or the automatic update would remember is a proposal: never in a run's context
until the person keeps it; each decision a MemoryChange; a proposal to replace a fact replaces it only
when kept."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

from agentapp.errors import Conflict
from memory_app import services
from memory_app.models import Memory, MemoryChange, MemoryProposal
from sessions_app.models import PersonSettings
from tests.fake_openai import MEMORY_MANAGER_LANE, request_lane

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_summaries")]

PERSON = MemoryChange.Actor.PERSON


@pytest.fixture
def sarah():
    """A person whose settings ask to review new memories before they are kept."""
    user = get_user_model().objects.create_user("sarah")
    PersonSettings.objects.create(user=user, review_memories=True)
    return user


def _context(request) -> str:
    """What a model request was given, every message's content (the memories are in the system one)."""
    return "\n".join(str(m.get("content") or "") for m in request.body["messages"])


def _tool_result(request) -> str:
    return next(m["content"] for m in reversed(request.body["messages"]) if m["role"] == "tool")


def test_a_memory_the_model_adds_waits_for_review_and_is_not_given_to_the_next_run(
    sarah, make_agent, fake_openai
):
    agent = make_agent("chat", enable_agentic_memory=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Sarah is vegetarian", "topics": ["food"]})])
    fake_openai.reply(text="Noted, no meat.")

    agent.run("I'm vegetarian", user_id="sarah", session_id="s1")

    assert not Memory.objects.exists()
    proposal = MemoryProposal.objects.get()
    assert (proposal.user, proposal.text, proposal.topics) == (sarah, "Sarah is vegetarian", ["food"])
    assert (proposal.state, proposal.change, proposal.actor) == ("proposed", "create", "model")
    assert proposal.source_run.session.session_id == "s1"
    result = _tool_result(fake_openai.requests[1])
    assert proposal.proposal_id in result and "awaits their review" in result
    assert "not remembered" in result

    fake_openai.reply(text="Here is a recipe.")
    agent.run("A recipe for dinner?", user_id="sarah", session_id="s2")  # another chat: no history
    assert "vegetarian" not in _context(fake_openai.requests[-1])

    memory = services.proposal_keep(proposal=proposal, actor=PERSON, actor_user=sarah)

    assert memory.is_current and memory.text == "Sarah is vegetarian" and memory.user == sarah
    keep = MemoryChange.objects.get(action="keep")
    assert (keep.memory, keep.proposal, keep.actor, keep.actor_user) == (memory, proposal, PERSON, sarah)
    fake_openai.reply(text="A vegetarian recipe.")
    agent.run("Another recipe?", user_id="sarah", session_id="s3")
    assert "Sarah is vegetarian" in _context(fake_openai.requests[-1])


def test_the_automatic_update_proposes_too_and_a_discard_remembers_nothing(sarah, make_agent, fake_openai):
    agent = make_agent("chat", update_memory_on_run=True)
    fake_openai.reply(text="Nice to meet you.")
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "Sarah lives in Lyon", "topics": ["home"]})],
        lane=MEMORY_MANAGER_LANE,
    )
    fake_openai.reply(text="Done.", lane=MEMORY_MANAGER_LANE)

    agent.run("I'm Sarah from Lyon", user_id="sarah", session_id="s1")

    assert not Memory.objects.exists()
    proposal = MemoryProposal.objects.get()
    assert (proposal.text, proposal.actor, proposal.state) == (
        "Sarah lives in Lyon",
        "memory_manager",
        "proposed",
    )
    manager_requests = [r for r in fake_openai.requests if request_lane(r.body) == MEMORY_MANAGER_LANE]
    manager_result = _tool_result(manager_requests[1])
    assert "awaits their review" in manager_result

    services.proposal_discard(proposal=proposal, actor=PERSON, actor_user=sarah)

    proposal.refresh_from_db()
    assert proposal.state == "discarded" and proposal.decided_at is not None and proposal.kept_as is None
    discard = MemoryChange.objects.get()
    assert (discard.action, discard.memory, discard.proposal, discard.actor) == (
        "discard",
        None,
        proposal,
        PERSON,
    )
    assert not Memory.objects.exists()
    fake_openai.reply(text="Hello again.")
    fake_openai.reply(text="No changes.")
    agent.run("Hi", user_id="sarah", session_id="s2")
    assert "Lyon" not in json.dumps(fake_openai.requests[-2].body)  # the reply's request


def test_a_proposed_replacement_leaves_the_old_fact_current_until_it_is_kept(sarah, make_agent, fake_openai):
    paris, _ = services.memory_create(user_pk=sarah.pk, text="Sarah lives in Paris", actor=PERSON)
    agent = make_agent("chat", enable_agentic_memory=True)
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "Sarah lives in Berlin", "replaces": paris.memory_id})]
    )
    fake_openai.reply(text="Berlin, exciting!")

    agent.run("I moved to Berlin", user_id="sarah", session_id="s1")

    proposal = MemoryProposal.objects.get()
    assert (proposal.change, proposal.target) == ("supersede", paris)
    paris.refresh_from_db()
    assert paris.is_current and paris.superseded_by is None
    fake_openai.reply(text="You live in Paris, as far as I know.")
    agent.run("Where do I live?", user_id="sarah", session_id="s2")
    context = _context(fake_openai.requests[-1])
    assert "Sarah lives in Paris" in context and "Berlin" not in context

    berlin = services.proposal_keep(proposal=proposal, actor=PERSON, actor_user=sarah)

    paris.refresh_from_db()
    assert not paris.is_current and paris.superseded_by == berlin and berlin.is_current
    fake_openai.reply(text="Berlin.")
    agent.run("Where do I live now?", user_id="sarah", session_id="s3")
    context = _context(fake_openai.requests[-1])
    assert "Sarah lives in Berlin" in context and "Sarah lives in Paris" not in context


def test_a_correction_waits_too_and_is_made_as_edited_when_kept(sarah, make_agent, fake_openai):
    tea, _ = services.memory_create(user_pk=sarah.pk, text="Sarah likes tee", actor=PERSON)
    agent = make_agent("chat", enable_agentic_memory=True)
    fake_openai.reply(
        tool_calls=[("update_memory", {"memory_id": tea.memory_id, "memory": "Sarah likes tea"})]
    )
    fake_openai.reply(text="Fixed.")

    agent.run("You misspelt tea", user_id="sarah", session_id="s1")

    proposal = MemoryProposal.objects.get()
    assert (proposal.change, proposal.target) == ("update", tea)
    tea.refresh_from_db()
    assert tea.text == "Sarah likes tee"

    kept = services.proposal_keep(
        proposal=proposal, text="Sarah likes green tea", topics=["drinks"], actor=PERSON, actor_user=sarah
    )

    tea.refresh_from_db()
    assert kept == tea and (tea.text, tea.topics) == ("Sarah likes green tea", ["drinks"])
    assert MemoryChange.objects.filter(memory=tea, action="update", actor=PERSON).exists()


def test_keeping_a_replacement_whose_target_was_deleted_makes_a_new_memory(sarah, make_agent, fake_openai):
    paris, _ = services.memory_create(user_pk=sarah.pk, text="Sarah lives in Paris", actor=PERSON)
    agent = make_agent("chat", enable_agentic_memory=True)
    fake_openai.reply(
        tool_calls=[("add_memory", {"memory": "Sarah lives in Rome", "replaces": paris.memory_id})]
    )
    fake_openai.reply(text="Ciao!")
    agent.run("I moved to Rome", user_id="sarah", session_id="s1")
    proposal = MemoryProposal.objects.get()
    services.memory_delete(memory=paris, actor=PERSON, actor_user=sarah)

    rome = services.proposal_keep(proposal=proposal, actor=PERSON, actor_user=sarah)

    paris.refresh_from_db()
    assert rome != paris and rome.is_current and rome.text == "Sarah lives in Rome"
    assert paris.is_deleted and paris.superseded_by is None
    assert list(Memory.objects.current().filter(user=sarah)) == [rome]


def test_a_decided_proposal_cannot_be_decided_again(sarah, make_agent, fake_openai):
    agent = make_agent("chat", enable_agentic_memory=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Sarah plays chess"})])
    fake_openai.reply(text="Nice.")
    agent.run("I play chess", user_id="sarah", session_id="s1")
    proposal = MemoryProposal.objects.get()
    services.proposal_keep(proposal=proposal, actor=PERSON, actor_user=sarah)

    with pytest.raises(Conflict, match="already kept"):
        services.proposal_discard(proposal=MemoryProposal.objects.get(), actor=PERSON, actor_user=sarah)
    with pytest.raises(Conflict, match="already kept"):
        services.proposal_keep(proposal=MemoryProposal.objects.get(), actor=PERSON, actor_user=sarah)
    assert Memory.objects.count() == 1 and MemoryChange.objects.filter(action="keep").count() == 1


def test_without_review_the_model_remembers_at_once(make_agent, fake_openai):
    """The control: the same tool call remembers when the person did not ask to review."""
    get_user_model().objects.create_user("sarah")
    agent = make_agent("chat", enable_agentic_memory=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Sarah is vegetarian"})])
    fake_openai.reply(text="Noted.")

    agent.run("I'm vegetarian", user_id="sarah", session_id="s1")

    assert not MemoryProposal.objects.exists()
    assert Memory.objects.current().get().text == "Sarah is vegetarian"
