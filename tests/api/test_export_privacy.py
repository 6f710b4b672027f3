"""What a person's export and erase cover of their controls: their settings, the memories proposed
for their review with each decision, their temporary chats not yet deleted, their feedback and the
runs they asked not to be learned from."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from memory_app.models import MemoryChange, MemoryProposal
from memory_app.services import memory_create, proposal_create, proposal_discard, proposal_keep
from sessions_app.models import AgentSession, PersonSettings, Run, RunFeedback

pytestmark = pytest.mark.django_db

PERSON = MemoryChange.Actor.PERSON
MODEL = MemoryChange.Actor.MODEL


@pytest.fixture
def alice_controls(alice, alice_api, replying_model):
    PersonSettings.objects.create(
        user=alice,
        about_you="I am a night-shift nurse in Leeds.",
        how_to_respond="Short answers.",
        review_memories=True,
    )
    alice_api.post("/api/runs", {"message": "Hi", "session_id": "alice-kept"})
    alice_api.post("/api/runs", {"message": "Secret", "session_id": "alice-temp"})
    AgentSession.objects.filter(session_id="alice-temp").update(temporary=True)
    run = Run.objects.get(session__session_id="alice-kept")
    RunFeedback.objects.create(run=run, user=alice, rating="down", comment="Too long")
    jazz = memory_create(user_pk=alice.pk, text="Likes jazz", actor=PERSON)[0]
    kept = proposal_create(user_pk=alice.pk, text="Works nights", actor=MODEL, run_pk=run.pk)
    proposal_keep(proposal=kept, actor_user=alice)
    Run.objects.filter(pk=run.pk).update(remember=False)
    proposal_discard(
        proposal=proposal_create(user_pk=alice.pk, text="Dislikes her job", actor=MODEL), actor_user=alice
    )
    proposal_create(
        user_pk=alice.pk, text="Likes blues", actor=MODEL, change=MemoryProposal.Change.SUPERSEDE, target=jazz
    )
    return run


def test_an_export_holds_the_persons_settings(alice_api, alice_controls):
    settings = alice_api.get("/api/users/alice/export").json()["settings"]
    assert settings["saved"] is True
    assert settings["about_you"] == "I am a night-shift nurse in Leeds."
    assert settings["how_to_respond"] == "Short answers."
    assert (settings["use_memories"], settings["learn_memories"], settings["review_memories"]) == (
        True,
        True,
        True,
    )
    assert settings["theme"] == "system"


def test_an_export_of_a_person_who_never_chose_says_the_defaults_hold(bob, bob_api, settings):
    settings.AGENT_DEFAULT_REVIEW_MEMORIES = True
    exported = bob_api.get("/api/users/bob/export").json()["settings"]
    assert exported["saved"] is False
    assert exported["review_memories"] is True


def test_an_export_holds_each_proposal_with_the_persons_decision(alice_api, alice_controls):
    proposals = {p["text"]: p for p in alice_api.get("/api/users/alice/export").json()["memory_proposals"]}
    assert set(proposals) == {"Works nights", "Dislikes her job", "Likes blues"}
    kept = proposals["Works nights"]
    assert (kept["state"], kept["decided_by"], kept["proposed_by"]) == ("kept", "person", "model")
    assert kept["kept_as"] and kept["source_run_id"] == alice_controls.run_id
    assert proposals["Dislikes her job"]["state"] == "discarded"
    assert proposals["Dislikes her job"]["kept_as"] is None
    waiting = proposals["Likes blues"]
    assert (waiting["state"], waiting["change"], waiting["decided_at"]) == ("proposed", "supersede", None)
    assert waiting["target"] is not None


def test_a_kept_proposals_memory_names_the_proposal_in_its_history(alice_api, alice_controls):
    body = alice_api.get("/api/users/alice/export").json()
    proposal_id = next(p["proposal_id"] for p in body["memory_proposals"] if p["text"] == "Works nights")
    memory = next(m for m in body["memories"] if m["text"] == "Works nights")
    assert [(c["action"], c["proposal_id"]) for c in memory["history"]] == [
        ("create", None),
        ("keep", proposal_id),
    ]


def test_an_export_holds_temporary_chats_not_yet_deleted_and_when_they_go(
    alice_api, alice_controls, settings
):
    settings.AGENT_TEMPORARY_CHAT_DAYS = 7
    sessions = {s["session_id"]: s for s in alice_api.get("/api/users/alice/export").json()["sessions"]}
    temporary = sessions["alice-temp"]
    assert temporary["temporary"] is True
    assert [r["input"] for r in temporary["runs"]] == ["Secret"]
    deleted_after = datetime.fromisoformat(temporary["deleted_after"])
    assert deleted_after - datetime.fromisoformat(temporary["created_at"]) == timedelta(days=7)
    assert sessions["alice-kept"]["temporary"] is False
    assert sessions["alice-kept"]["deleted_after"] is None


def test_an_export_holds_the_feedback_given_and_the_runs_not_to_learn_from(alice_api, alice_controls):
    sessions = {s["session_id"]: s for s in alice_api.get("/api/users/alice/export").json()["sessions"]}
    [run] = sessions["alice-kept"]["runs"]
    assert run["remember"] is False
    assert [(f["rating"], f["comment"]) for f in run["feedback"]] == [("down", "Too long")]
    assert sessions["alice-temp"]["runs"][0]["remember"] is True


def test_an_erase_deletes_the_settings_proposals_and_feedback_too(alice, alice_api, alice_controls, bob):
    PersonSettings.objects.create(user=bob, about_you="Bob")
    response = alice_api.delete("/api/users/alice/data")
    assert response.status_code == 200, response.content
    counts = response.json()
    assert (counts["settings"], counts["memory_proposals"], counts["feedback"]) == (1, 3, 1)
    assert not PersonSettings.objects.filter(user=alice).exists()
    assert not MemoryProposal.objects.filter(user=alice).exists()
    assert not RunFeedback.objects.filter(user=alice).exists()
    assert not MemoryChange.objects.filter(user=alice).exists()
    assert PersonSettings.objects.filter(user=bob).exists()
