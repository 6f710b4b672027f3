"""Memories proposed for review on the API: `GET /api/memories?state=proposed`, `POST
/api/memories/{id}/approve` (edits optional) and `.../reject`; the person, or a service key acting
for them; anyone else finds nothing; a decided proposal is a 409."""

from __future__ import annotations

import pytest

from memory_app import services
from memory_app.models import Memory, MemoryChange, MemoryProposal
from sessions_app import services as session_services
from sessions_app.models import AgentSession, Run

from .conftest import assert_error

pytestmark = pytest.mark.django_db

MODEL = MemoryChange.Actor.MODEL


def propose(user, text: str, **kwargs) -> MemoryProposal:
    return services.proposal_create(user_pk=user.pk, text=text, actor=MODEL, **kwargs)


def test_the_waiting_proposals_are_listed_with_state_and_the_memories_without_it(alice, alice_api):
    services.memory_create(user_pk=alice.pk, text="Alice likes tea", actor="person")
    session = AgentSession.objects.create(session_id="s1", user=alice)
    run = session_services.run_create(session=session, input="hi", status=Run.Status.COMPLETED)
    paris, _ = services.memory_create(user_pk=alice.pk, text="Alice lives in Paris", actor="person")
    first = propose(alice, "Alice plays the cello", topics=["music"], run_pk=run.pk)
    second = propose(alice, "Alice lives in Lyon", change="supersede", target=paris)

    body = alice_api.get("/api/memories", state="proposed").json()

    assert body["count"] == 2
    assert [p["proposal_id"] for p in body["items"]] == [second.proposal_id, first.proposal_id]
    cello = body["items"][1]
    assert cello["proposal_id"].startswith("prop_")
    assert {k: cello[k] for k in ("user_id", "text", "topics", "change", "state", "source_run_id")} == {
        "user_id": "alice",
        "text": "Alice plays the cello",
        "topics": ["music"],
        "change": "create",
        "state": "proposed",
        "source_run_id": run.run_id,
    }
    assert cello["target_memory_id"] is None and cello["created_at"] and cello["decided_at"] is None
    assert body["items"][0]["target_memory_id"] == paris.memory_id
    assert body["items"][0]["change"] == "supersede"
    # the normal listing is the memories, as before: no proposal there
    memories = alice_api.get("/api/memories").json()
    assert {m["text"] for m in memories["items"]} == {"Alice likes tea", "Alice lives in Paris"}
    assert all("memory_id" in m and "proposal_id" not in m for m in memories["items"])
    # filtered by words and topic
    assert alice_api.get("/api/memories", state="proposed", search="cello").json()["count"] == 1
    assert alice_api.get("/api/memories", state="proposed", topic="music").json()["count"] == 1


def test_approve_keeps_the_proposal_as_a_memory_and_answers_it(alice, alice_api):
    proposal = propose(alice, "Alice plays the cello", topics=["music"])

    response = alice_api.post(f"/api/memories/{proposal.proposal_id}/approve")

    assert response.status_code == 200, response.content
    body = response.json()
    memory = Memory.objects.get()
    assert (body["memory_id"], body["text"], body["topics"]) == (
        memory.memory_id,
        "Alice plays the cello",
        ["music"],
    )
    assert memory.is_current
    change = MemoryChange.objects.get(action="keep")
    assert (change.memory, change.proposal, change.actor, change.actor_user) == (
        memory,
        proposal,
        "api",
        alice,
    )
    kept = alice_api.get("/api/memories", state="kept").json()["items"]
    assert [(p["proposal_id"], p["state"], p["kept_memory_id"]) for p in kept] == [
        (proposal.proposal_id, "kept", memory.memory_id)
    ]
    assert alice_api.get("/api/memories", state="proposed").json()["count"] == 0


def test_approve_takes_edits_first(alice, alice_api):
    proposal = propose(alice, "Alice plays cello")

    response = alice_api.post(
        f"/api/memories/{proposal.proposal_id}/approve",
        {"text": "Alice plays the cello", "topics": ["Music"]},
    )

    assert response.status_code == 200, response.content
    assert (response.json()["text"], response.json()["topics"]) == ("Alice plays the cello", ["music"])
    change = MemoryChange.objects.get(action="keep")
    assert change.before["text"] == "Alice plays cello" and change.after["text"] == "Alice plays the cello"


def test_approve_refuses_bad_edits_with_a_message(alice, alice_api):
    proposal = propose(alice, "Alice plays cello")
    url = f"/api/memories/{proposal.proposal_id}/approve"
    assert_error(alice_api.post(url, {"text": "   "}), 422)
    assert_error(alice_api.post(url, {"text": "x" * 2001}), 422)
    assert_error(alice_api.post(url, {"topics": "music"}), 422)
    assert_error(alice_api.post(url, {"txt": "typo"}), 422)
    assert not Memory.objects.exists()
    assert MemoryProposal.objects.get().state == "proposed"


def test_an_approved_replacement_supersedes_its_target(alice, alice_api):
    paris, _ = services.memory_create(user_pk=alice.pk, text="Alice lives in Paris", actor="person")
    proposal = propose(alice, "Alice lives in Lyon", change="supersede", target=paris)

    body = alice_api.post(f"/api/memories/{proposal.proposal_id}/approve").json()

    assert body["supersedes"] == [paris.memory_id]
    paris.refresh_from_db()
    assert paris.superseded_by.memory_id == body["memory_id"] and not paris.is_current


def test_reject_discards_the_proposal_and_remembers_nothing(alice, alice_api):
    proposal = propose(alice, "Alice plays the cello")

    response = alice_api.post(f"/api/memories/{proposal.proposal_id}/reject")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["proposal_id"], body["state"], body["kept_memory_id"]) == (
        proposal.proposal_id,
        "discarded",
        None,
    )
    assert body["decided_at"]
    assert not Memory.objects.exists()
    change = MemoryChange.objects.get()
    assert (change.action, change.memory, change.proposal, change.actor) == ("discard", None, proposal, "api")
    assert (
        alice_api.get("/api/memories", state="discarded").json()["items"][0]["proposal_id"]
        == proposal.proposal_id
    )


def test_a_decided_proposal_is_a_conflict(alice, alice_api):
    kept = propose(alice, "Alice plays the cello")
    discarded = propose(alice, "Alice plays the oboe")
    alice_api.post(f"/api/memories/{kept.proposal_id}/approve")
    alice_api.post(f"/api/memories/{discarded.proposal_id}/reject")

    for proposal in (kept, discarded):
        for verb in ("approve", "reject"):
            body = assert_error(alice_api.post(f"/api/memories/{proposal.proposal_id}/{verb}"), 409)
            assert "already" in body["message"]
    assert Memory.objects.count() == 1 and MemoryChange.objects.count() == 3  # create, keep, discard


def test_another_person_neither_sees_nor_decides_your_proposals(alice, bob, alice_api, bob_api, anon_api):
    proposal = propose(alice, "Alice plays the cello")

    assert bob_api.get("/api/memories", state="proposed").json()["count"] == 0
    assert_error(bob_api.get("/api/memories", state="proposed", user_id="alice"), 404)
    assert_error(bob_api.post(f"/api/memories/{proposal.proposal_id}/approve"), 404)
    assert_error(bob_api.post(f"/api/memories/{proposal.proposal_id}/reject"), 404)
    assert_error(anon_api.post(f"/api/memories/{proposal.proposal_id}/approve"), 401)
    assert_error(alice_api.post("/api/memories/prop_nothing/approve"), 404)
    assert MemoryProposal.objects.get().state == "proposed" and not Memory.objects.exists()


def test_a_memory_id_is_no_proposal(alice, alice_api):
    memory, _ = services.memory_create(user_pk=alice.pk, text="Alice likes tea", actor="person")
    assert_error(alice_api.post(f"/api/memories/{memory.memory_id}/approve"), 404)


def test_a_service_key_acts_for_the_person(alice, service_api, staff):
    proposal = propose(alice, "Alice plays the cello")

    listed = service_api.get("/api/memories", state="proposed", user_id="alice").json()
    assert [p["proposal_id"] for p in listed["items"]] == [proposal.proposal_id]
    response = service_api.post(f"/api/memories/{proposal.proposal_id}/approve")

    assert response.status_code == 200, response.content
    assert response.json()["user_id"] == "alice"
    change = MemoryChange.objects.get(action="keep")
    assert (change.actor, change.actor_user, change.user) == ("api", staff, alice)


def test_state_lists_no_past_facts_and_says_so(alice_api):
    assert_error(alice_api.get("/api/memories", state="proposed", include_superseded="true"), 422)
    assert_error(alice_api.get("/api/memories", state="proposed", as_of="2026-01-01T00:00:00Z"), 422)
    assert_error(alice_api.get("/api/memories", state="maybe"), 422)
