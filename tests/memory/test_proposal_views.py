"""Review before keeping on the pages: the proposals at the top of /memories/ and of the chat's memory
panel, Keep (edited or not) and Discard as plain forms and as htmx partials, and who may do what."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory_app import services
from memory_app.models import Memory, MemoryChange, MemoryProposal
from sessions_app.models import AgentSession
from tests.factories import finished_run

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def propose(user, text: str, **kwargs) -> MemoryProposal:
    return services.proposal_create(user_pk=user.pk, text=text, actor="model", **kwargs)


def keep_url(proposal: MemoryProposal) -> str:
    return reverse("memory:proposal-keep", args=[proposal.proposal_id])


def discard_url(proposal: MemoryProposal) -> str:
    return reverse("memory:proposal-discard", args=[proposal.proposal_id])


def test_the_memories_page_lists_the_waiting_proposals_at_the_top(client, alice, bob):
    services.memory_create(user_pk=alice.pk, text="Alice likes tea", actor="person")
    paris, _ = services.memory_create(user_pk=alice.pk, text="Alice lives in Paris", actor="person")
    propose(alice, "Alice plays the cello", topics=["music"])
    propose(alice, "Alice lives in Lyon", change="supersede", target=paris)
    propose(bob, "Bob sails")
    client.force_login(alice)

    html = client.get("/memories/").content.decode()

    assert "Waiting for your review (2)" in html
    review = html[html.index('id="memory-review"') : html.index('id="memory-add"')]
    assert "Alice plays the cello" in review and "replaces “Alice lives in Paris”" in review
    assert "Bob sails" not in html
    assert review.count(">Keep</button>") == 2 and review.count(">Discard</button>") == 2
    assert review.count("<summary") == 2 and review.count(">Keep edited</button>") == 2


def test_no_review_heading_when_nothing_waits(client, alice):
    client.force_login(alice)
    assert "Waiting for your review" not in client.get("/memories/").content.decode()


def test_keep_without_javascript_remembers_and_goes_back_to_the_page(client, alice):
    proposal = propose(alice, "Alice plays the cello")
    client.force_login(alice)

    response = client.post(keep_url(proposal))

    assert response.status_code == 302 and response["Location"] == "/memories/"
    memory = Memory.objects.current().get()
    assert memory.text == "Alice plays the cello"
    change = MemoryChange.objects.get(action="keep")
    assert (change.actor, change.actor_user, change.memory) == ("person", alice, memory)


def test_edit_then_keep_keeps_the_edited_text(client, alice):
    proposal = propose(alice, "Alice plays cello", topics=["music"])
    client.force_login(alice)

    response = client.post(
        keep_url(proposal), {"text": "Alice plays the cello well", "topics": "music, hobby"}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Kept: “Alice plays the cello well”" in html and "Waiting for your review" not in html
    assert "memories-reload" in response["HX-Trigger"]
    memory = Memory.objects.current().get()
    assert (memory.text, memory.topics) == ("Alice plays the cello well", ["music", "hobby"])


def test_a_blank_edit_is_refused_with_the_text_kept_in_the_form(client, alice):
    proposal = propose(alice, "Alice plays cello")
    client.force_login(alice)

    response = client.post(keep_url(proposal), {"text": "   ", "topics": "x"}, **HTMX)

    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html and '<details class="review-edit" open>' in html
    assert MemoryProposal.objects.get().state == "proposed" and not Memory.objects.exists()
    plain = client.post(keep_url(proposal), {"text": "   "})
    assert plain.status_code == 422 and plain["Content-Type"].startswith("text/plain")


def test_discard_remembers_nothing_and_says_so(client, alice):
    proposal = propose(alice, "Alice plays the cello")
    client.force_login(alice)

    response = client.post(discard_url(proposal), **HTMX)

    assert response.status_code == 200
    assert "Discarded: “Alice plays the cello”. Nothing was remembered." in response.content.decode()
    assert not Memory.objects.exists()
    assert MemoryChange.objects.get().action == "discard"
    assert client.post(discard_url(proposal)).status_code == 409


def test_a_decided_proposal_answers_409_with_why(client, alice):
    proposal = propose(alice, "Alice plays the cello")
    client.force_login(alice)
    client.post(keep_url(proposal))

    again = client.post(keep_url(proposal), **HTMX)
    assert again.status_code == 409 and "already kept" in again.content.decode()
    plain = client.post(discard_url(proposal))
    assert plain.status_code == 409 and "already kept" in plain.content.decode()
    assert Memory.objects.count() == 1


def test_another_person_can_neither_see_nor_decide_your_proposals(client, alice, bob):
    proposal = propose(alice, "Alice plays the cello")
    client.force_login(bob)

    assert "Alice plays the cello" not in client.get("/memories/").content.decode()
    assert client.get("/memories/?user=alice").status_code == 404
    assert client.post(keep_url(proposal)).status_code == 404
    assert client.post(discard_url(proposal), **HTMX).status_code == 404
    assert MemoryProposal.objects.get().state == "proposed" and not Memory.objects.exists()


def test_an_operator_reviews_for_a_person_recorded_as_an_operator(client, alice, staff):
    proposal = propose(alice, "Alice plays the cello")
    client.force_login(staff)

    assert "Alice plays the cello" in client.get("/memories/?user=alice").content.decode()
    response = client.post(keep_url(proposal))

    assert response.status_code == 302 and response["Location"] == "/memories/?user=alice"
    change = MemoryChange.objects.get(action="keep")
    assert (change.actor, change.actor_user, change.user) == ("operator", staff, alice)


def test_the_chat_panel_lists_the_proposals_and_a_decision_answers_the_panel(client, alice):
    session = AgentSession.objects.create(session_id="alice-thread", user=alice)
    run = finished_run(session, "I play the cello", "Lovely.")
    proposal = propose(alice, "Alice plays the cello", run_pk=run.pk)
    client.force_login(alice)

    page = client.get("/chats/alice-thread/").content.decode()
    panel = page[page.index('id="memory-panel"') :]
    assert "Waiting for your review (1)" in panel and "Alice plays the cello" in panel
    assert 'name="panel" value="chat"' in panel and f'name="last_run" value="{run.run_id}"' in panel

    form = {"panel": "chat", "last_run": run.run_id, "next": "/chats/alice-thread/"}
    response = client.post(keep_url(proposal), form, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<aside id="memory-panel"')
    assert "Kept: “Alice plays the cello”" in html
    assert 'class="memory-text">Alice plays the cello<' in html  # now among what the agent knows
    assert "Waiting for your review" not in html
    # without JavaScript, back to the chat
    other = propose(alice, "Alice plays the oboe")
    plain = client.post(discard_url(other), form)
    assert plain.status_code == 302 and plain["Location"] == "/chats/alice-thread/"
    elsewhere = client.post(
        discard_url(propose(alice, "Alice sings")), {**form, "next": "https://evil.example/"}
    )
    assert elsewhere["Location"] == "/"


def test_the_chat_panel_answers_an_error_in_the_panel(client, alice):
    proposal = propose(alice, "Alice plays the cello")
    client.force_login(alice)
    client.post(discard_url(proposal))

    response = client.post(keep_url(proposal), {"panel": "chat", "next": "/"}, **HTMX)

    assert response.status_code == 200  # the chat's htmx swaps no 4xx: the error is in the panel
    html = response.content.decode()
    assert html.lstrip().startswith('<aside id="memory-panel"') and "already discarded" in html


def test_a_proposal_made_in_a_run_is_a_chip_on_reload(client, alice):
    session = AgentSession.objects.create(session_id="alice-thread", user=alice)
    run = finished_run(session, "I play the cello", "Lovely.")
    waiting = propose(alice, "Alice plays the cello", run_pk=run.pk)
    discarded = propose(alice, "Alice plays the oboe", run_pk=run.pk)
    services.proposal_discard(proposal=discarded, actor="person")
    client.force_login(alice)

    html = client.get("/chats/alice-thread/").content.decode()
    assert "proposed: Alice plays the cello" in html and "discarded: Alice plays the oboe" in html

    services.proposal_keep(proposal=waiting, actor="person")
    html = client.get("/chats/alice-thread/").content.decode()
    assert "remembered: Alice plays the cello" in html and "proposed: Alice plays the cello" not in html


def test_the_run_page_shows_a_proposal_and_links_to_where_it_waits(client, alice, make_agent, fake_openai):
    from sessions_app.models import PersonSettings, Run

    PersonSettings.objects.create(user=alice, review_memories=True)
    fake_openai.reply(tool_calls=[("add_memory", {"memory": "Alice plays the cello"})])
    fake_openai.reply(text="Lovely.")
    make_agent("chat", enable_agentic_memory=True).run("I play the cello", user_id="alice", session_id="s1")
    proposal = MemoryProposal.objects.get()
    client.force_login(alice)

    response = client.get(f"/runs/{Run.objects.get().run_id}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/memories/#proposal-{proposal.proposal_id}"' in html


def test_the_admin_lists_proposals_filtered_and_searched_read_only(client, alice, bob, staff):
    waiting = propose(alice, "Alice plays the cello")
    kept = propose(bob, "Bob sails")
    services.proposal_keep(proposal=kept, actor="person")
    client.force_login(staff)
    url = "/admin/memory_app/memoryproposal/"

    listing = client.get(url, {"state__exact": "proposed"}).content.decode()
    assert "Alice plays the cello" in listing and "Bob sails" not in listing
    assert "Bob sails" in client.get(url, {"q": "bob"}).content.decode()
    assert (
        "Alice plays the cello" in client.get(url, {"q": "cello", "change__exact": "create"}).content.decode()
    )
    detail = client.get(f"{url}{waiting.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.get(f"{url}add/").status_code == 403
    assert client.post(f"{url}{waiting.pk}/delete/", {"post": "yes"}).status_code == 403
    assert MemoryProposal.objects.count() == 2
