"""Feedback on replies: thumbs up or down with an optional comment, the person's own, on a completed
reply: the service's rules, the chat's route (htmx and a plain form), the reply's thumbs, the run
page, the admin, the metrics and the status page."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from agentapp.errors import Conflict, InvalidInput, RunNotFound
from sessions_app.models import Run, RunFeedback
from sessions_app.services import FEEDBACK_COMMENT_CHARS, run_feedback_give
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _counted(rating: str) -> float:
    return REGISTRY.get_sample_value("agentapp_feedback_total", {"rating": rating}) or 0.0


@pytest.fixture
def reply(alice) -> Run:
    return factories.finished_run(factories.session(alice, "alice-thread"), "Plan my day", "Here is a plan.")


def _feedback_url(run: Run) -> str:
    return f"/chat/runs/{run.run_id}/feedback/"


# --- the service ------------------------------------------------------------------------------
def test_a_person_rates_their_reply_and_giving_it_again_replaces_it(alice, reply):
    feedback, rated = run_feedback_give(run=reply, user=alice, rating="up", comment="  Clear and short  ")
    assert rated and (feedback.rating, feedback.comment) == ("up", "Clear and short")

    again, rated = run_feedback_give(run=reply, user=alice, rating="down", comment="Wrong date")
    assert rated and again.pk == feedback.pk
    assert list(RunFeedback.objects.values_list("rating", "comment")) == [("down", "Wrong date")]


def test_a_thumb_pressed_again_keeps_the_comment_and_is_no_news(alice, reply):
    run_feedback_give(run=reply, user=alice, rating="down", comment="Too long")
    feedback, rated = run_feedback_give(run=reply, user=alice, rating="down")
    assert not rated and feedback.comment == "Too long"
    feedback, rated = run_feedback_give(run=reply, user=alice, rating="up")
    assert rated and feedback.comment == "Too long"  # a thumb alone never wipes what was written
    feedback, rated = run_feedback_give(run=reply, user=alice, rating="up", comment="")
    assert not rated and feedback.comment == ""
    assert RunFeedback.objects.count() == 1


@pytest.mark.parametrize(
    ("rating", "comment", "why"),
    [
        ("sideways", None, "rating must be one of up, down"),
        ("", None, "rating must be one of up, down"),
        ("UP", None, "rating must be one of up, down"),
        ("up", "x" * (FEEDBACK_COMMENT_CHARS + 1), "comment is longer than 2000 characters"),
        ("up", "nul\x00here", "comment must not contain NUL characters"),
        ("up", "lone \ud800 surrogate", "comment must not contain NUL characters or lone surrogates"),
    ],
)
def test_a_bad_rating_or_comment_is_refused_with_its_reason(alice, reply, rating, comment, why):
    with pytest.raises(InvalidInput, match=why):
        run_feedback_give(run=reply, user=alice, rating=rating, comment=comment)
    assert not RunFeedback.objects.exists()


def test_a_comment_of_exactly_the_limit_is_kept(alice, reply):
    feedback, _ = run_feedback_give(run=reply, user=alice, rating="up", comment="y" * FEEDBACK_COMMENT_CHARS)
    assert len(feedback.comment) == FEEDBACK_COMMENT_CHARS


def test_another_persons_reply_is_not_found_even_for_staff(bob, staff, reply):
    for someone in (bob, staff):
        with pytest.raises(RunNotFound):
            run_feedback_give(run=reply, user=someone, rating="up")
    assert not RunFeedback.objects.exists()


@pytest.mark.parametrize(
    "status", [Run.Status.PENDING, Run.Status.RUNNING, Run.Status.ERROR, Run.Status.CANCELLED]
)
def test_only_a_completed_reply_can_be_rated(alice, status):
    run = factories.run(factories.session(alice), "hello", status=status)
    with pytest.raises(Conflict, match=f"only a completed reply can be rated; this run is {status}"):
        run_feedback_give(run=run, user=alice, rating="up")


def test_a_run_deleted_meanwhile_is_not_found(alice, reply):
    Run.objects.filter(pk=reply.pk).delete()
    with pytest.raises(RunNotFound):
        run_feedback_give(run=reply, user=alice, rating="up")


@pytest.mark.django_db(transaction=True)
def test_two_gives_at_once_leave_one_feedback(alice, reply):
    """Two tabs pressing at once: the run's row lock makes them take turns, never a second row or
    an IntegrityError."""
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def give(rating: str) -> None:
        try:
            barrier.wait()
            run_feedback_give(run=reply, user=alice, rating=rating)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=give, args=(r,)) for r in ("up", "down")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert RunFeedback.objects.filter(run=reply).count() == 1


# --- the chat ---------------------------------------------------------------------------------
def test_a_completed_reply_has_thumbs_for_its_person_only(client, alice, staff, reply):
    client.login(username="alice", password=PASSWORD)
    page = client.get(f"/chats/{reply.session.session_id}/").content.decode()
    assert f'id="feedback-{reply.run_id}"' in page
    assert f'id="feedback-up-{reply.run_id}" aria-pressed="false"' in page
    assert f'id="feedback-down-{reply.run_id}" aria-pressed="false"' in page and "Add a comment" not in page

    client.login(username="ops", password=PASSWORD)  # staff look at alice's chat: no thumbs for them
    page = client.get(f"/chats/{reply.session.session_id}/").content.decode()
    assert "Here is a plan." in page and f'id="feedback-{reply.run_id}"' not in page


def test_a_failed_or_stopped_reply_has_no_thumbs(client, alice):
    thread = factories.session(alice, "t")
    failed = factories.run(thread, "hi", status=Run.Status.ERROR, error="model down")
    stopped = factories.run(thread, "hi again", status=Run.Status.CANCELLED)
    client.login(username="alice", password=PASSWORD)
    page = client.get("/chats/t/").content.decode()
    assert f"feedback-{failed.run_id}" not in page and f"feedback-{stopped.run_id}" not in page


def test_a_thumb_over_htmx_answers_the_feedback_pressed_with_a_comment_offered(client, alice, reply):
    client.login(username="alice", password=PASSWORD)
    before = _counted("up")
    response = client.post(_feedback_url(reply), {"rating": "up"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div class="feedback" id="feedback-{reply.run_id}">')
    assert f'id="feedback-up-{reply.run_id}" aria-pressed="true"' in html
    assert f'id="feedback-down-{reply.run_id}" aria-pressed="false"' in html
    assert '<details class="feedback-more" open>' in html and "What was good about this reply?" in html
    assert f'maxlength="{FEEDBACK_COMMENT_CHARS}"' in html
    assert "Thank you: your feedback is saved." in html
    assert _counted("up") == before + 1

    response = client.post(
        _feedback_url(reply), {"rating": "up", "comment": "Just right"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "Comment saved." in html and "Just right" in html and '<details class="feedback-more">' in html
    assert _counted("up") == before + 1  # a comment is not another rating
    assert RunFeedback.objects.get().comment == "Just right"


def test_without_htmx_the_form_goes_back_to_the_chat_and_the_page_shows_it(client, alice, reply):
    client.login(username="alice", password=PASSWORD)
    response = client.post(_feedback_url(reply), {"rating": "down", "comment": "It forgot my meeting"})
    assert response.status_code == 302
    assert response["Location"] == f"/chats/alice-thread/#reply-{reply.run_id}"
    page = client.get("/chats/alice-thread/").content.decode()
    assert f'id="feedback-down-{reply.run_id}" aria-pressed="true"' in page
    assert "Your comment:</span> It forgot my meeting" in page and "Edit your comment" in page


def test_the_chat_route_refuses_bad_input_others_and_unfinished_runs(client, alice, bob, staff, reply):
    client.login(username="alice", password=PASSWORD)
    htmx = {"HX-Request": "true"}
    refused = client.post(_feedback_url(reply), {"rating": "meh"}, headers=htmx)
    assert refused.status_code == 422 and refused.content == b"rating must be one of up, down"
    long = client.post(_feedback_url(reply), {"rating": "up", "comment": "z" * 2001}, headers=htmx)
    assert long.status_code == 422
    pending = factories.run(reply.session, "more", status=Run.Status.RUNNING)
    conflict = client.post(_feedback_url(pending), {"rating": "up"}, headers=htmx)
    assert conflict.status_code == 409 and b"only a completed reply" in conflict.content
    assert client.get(_feedback_url(reply)).status_code == 405
    for person in ("bob", "ops"):
        client.login(username=person, password=PASSWORD)
        assert client.post(_feedback_url(reply), {"rating": "up"}, headers=htmx).status_code == 404
    assert client.post("/chat/runs/run_nope/feedback/", {"rating": "up"}).status_code == 404
    assert not RunFeedback.objects.exists()


def test_the_final_frame_of_a_streamed_reply_has_the_thumbs_for_its_viewer_only(alice, staff, reply):
    from sessions_app.chat.stream import final_frame

    mine = final_frame(run_pk=reply.pk, after_run=True, viewer=alice).decode()
    assert f'id="feedback-up-{reply.run_id}"' in mine
    assert "feedback-up" not in final_frame(run_pk=reply.pk, after_run=True, viewer=staff).decode()
    assert "feedback-up" not in final_frame(run_pk=reply.pk, after_run=True).decode()


# --- the run page, the admin, the status page -------------------------------------------------
def test_the_run_page_shows_the_rating_and_comment_who_and_when(client, alice, staff, reply):
    client.login(username="alice", password=PASSWORD)
    page = client.get(f"/runs/{reply.run_id}/").content.decode()
    assert '<dd id="run-feedback-rating">\u2013</dd>' in page and 'id="run-feedback"' not in page

    run_feedback_give(run=reply, user=alice, rating="down", comment="Wrong <b>date</b>, key sk-abcdef123456")
    for person in ("alice", "ops"):
        client.login(username=person, password=PASSWORD)
        page = client.get(f"/runs/{reply.run_id}/").content.decode()
        assert '<dd id="run-feedback-rating"><a href="#run-feedback">thumbs down</a></dd>' in page
        assert '<p id="run-feedback-by"><strong>Thumbs down</strong> from alice, <time datetime="' in page
        assert "Wrong &lt;b&gt;date&lt;/b&gt;, key sk-[redacted]" in page


def test_the_admin_lists_feedback_by_rating_and_finds_it_by_person_run_or_comment(client, staff, alice, bob):
    up = factories.finished_run(factories.session(alice), "a", "A")
    down = factories.finished_run(factories.session(bob), "b", "B")
    silent = factories.finished_run(factories.session(bob), "c", "C")
    run_feedback_give(run=up, user=alice, rating="up", comment="lovely")
    run_feedback_give(run=down, user=bob, rating="down", comment="missed the point")
    client.login(username="ops", password=PASSWORD)

    def listed(query: str) -> set[str]:
        page = client.get(f"/admin/sessions_app/runfeedback/{query}").content.decode()
        return {r.run_id for r in (up, down, silent) if f">{r.run_id}</a>" in page}

    assert listed("") == {up.run_id, down.run_id}
    assert listed("?rating__exact=down") == {down.run_id}
    assert listed("?q=alice") == {up.run_id}
    assert listed(f"?q={down.run_id}") == {down.run_id}
    assert listed("?q=point") == {down.run_id}
    page = client.get("/admin/sessions_app/runfeedback/").content.decode()
    assert f'<a href="/runs/{up.run_id}/">{up.run_id}</a>' in page
    assert client.get("/admin/sessions_app/runfeedback/add/").status_code == 403

    def runs(query: str) -> set[str]:
        page = client.get(f"/admin/sessions_app/run/{query}").content.decode()
        return {r.run_id for r in (up, down, silent) if r.run_id in page}

    assert runs("?feedback=up") == {up.run_id}
    assert runs("?feedback=down") == {down.run_id}
    assert runs("?feedback=none") == {silent.run_id}


def test_the_status_page_counts_the_feedback_of_the_last_day(client, staff, alice, reply):
    run_feedback_give(run=reply, user=alice, rating="down")
    client.login(username="ops", password=PASSWORD)
    page = client.get("/status/").content.decode()
    assert '<dd id="feedback-up">0</dd>' in page and '<dd id="feedback-down">1</dd>' in page


def test_metrics_count_ratings_given_and_changed_not_comments(client, settings, alice, reply):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS, settings.PROMETHEUS_MULTIPROC_DIR = (
        "scrape-1234",
        [],
        "",
    )
    before = {rating: _counted(rating) for rating in ("up", "down")}
    client.login(username="alice", password=PASSWORD)
    client.post(_feedback_url(reply), {"rating": "up"})
    client.post(_feedback_url(reply), {"rating": "up", "comment": "Good"})  # a comment: no new rating
    client.post(_feedback_url(reply), {"rating": "down"})  # a change of mind: counted
    assert _counted("up") == before["up"] + 1 and _counted("down") == before["down"] + 1

    body = client.get("/metrics", headers={"Authorization": "Bearer scrape-1234"}).content.decode()
    assert f'agentapp_feedback_total{{rating="down"}} {before["down"] + 1}' in body
