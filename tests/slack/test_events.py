"""The Events API endpoint: Slack's signature and timestamp checked, the URL handshake, events
deduplicated, and a mention or a direct message answered in its thread as the reply streams."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from sessions_app.models import Run
from slack_app.models import SlackEvent, SlackThread

from .conftest import SECRET, TEAM, TOKEN, dm_payload, event_payload, post_event, signed_headers

pytestmark = pytest.mark.usefixtures("no_summaries")


def _post(client: Client, payload: dict, headers: dict[str, str]):
    body = json.dumps(payload).encode()
    return client.post("/slack/events/", data=body, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_the_url_verification_handshake_echoes_the_challenge(fake_slack):
    payload = {"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3g"}
    body = json.dumps(payload).encode()
    response = _post(Client(), payload, signed_headers(body))
    assert response.status_code == 200
    assert response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3g"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: {}, id="unsigned"),
        pytest.param(lambda body: signed_headers(body, secret="another-apps-secret"), id="wrong secret"),
        pytest.param(lambda body: signed_headers(body, timestamp=int(time.time()) - 6 * 60), id="stale"),
        pytest.param(lambda body: signed_headers(body + b" "), id="body changed"),
        pytest.param(
            lambda body: {**signed_headers(body), "X-Slack-Request-Timestamp": "1e9"}, id="bad stamp"
        ),
    ],
)
def test_a_request_not_signed_by_slack_just_now_is_401_and_starts_nothing(fake_slack, headers):
    payload = event_payload(text="remember that I like tea")
    body = json.dumps(payload).encode()
    response = _post(Client(), payload, headers(body))
    assert response.status_code == 401
    assert "not signed" in response.json()["error"]
    assert not SlackEvent.objects.exists() and not Run.objects.exists()
    assert fake_slack.calls == []


@pytest.mark.django_db
def test_without_a_signing_secret_every_request_is_refused(fake_slack, settings):
    settings.SLACK_SIGNING_SECRET = ""
    payload = {"type": "url_verification", "challenge": "c"}
    body = json.dumps(payload).encode()
    assert _post(Client(), payload, signed_headers(body)).status_code == 401


@pytest.mark.django_db
def test_a_signed_body_that_is_not_json_is_a_400(fake_slack):
    response = Client().post(
        "/slack/events/", data=b"nope", content_type="application/json", headers=signed_headers(b"nope")
    )
    assert response.status_code == 400


def test_a_mention_starts_a_run_and_the_reply_is_posted_then_updated_as_it_streams(
    asgi_server, fake_slack, app_model
):
    story = " ".join(f"word{i}" for i in range(60)) + "."
    app_model.reply(text=story, chunk_delay=0.05)
    payload = event_payload(text="tell me a story")
    started = time.monotonic()
    response = post_event(asgi_server, payload)
    assert response.status_code == 200 and time.monotonic() - started < 3  # Slack waits 3 s at most

    updates = fake_slack.wait_for("chat.update", text="word59.")
    posted = fake_slack.called("chat.postMessage")
    assert len(posted) == 1
    first = posted[0]
    assert first.token == TOKEN
    assert first.args["channel"] == "C0GENERAL" and first.args["thread_ts"] == payload["event"]["ts"]
    assert {u.args["ts"] for u in updates} == {first.result["ts"]}  # the one message, updated
    assert len(updates) >= 2  # updated while it streamed, not only at the end
    assert updates[-1].text == story
    assert len(updates) <= 6  # at a bounded rate: about one a second over a 3 s reply

    run = Run.objects.get()
    assert run.input == "tell me a story" and run.status == Run.Status.COMPLETED
    thread = SlackThread.objects.get()
    assert (thread.team_id, thread.channel, thread.thread_ts) == (TEAM, "C0GENERAL", payload["event"]["ts"])
    assert thread.session_id == run.session_id


def test_a_direct_message_starts_a_run_answered_in_the_conversation(asgi_server, fake_slack, app_model):
    app_model.reply(text="Hi there.")
    assert post_event(asgi_server, dm_payload(text="hi")).status_code == 200
    fake_slack.wait_for("chat.update", text="Hi there.")
    thinking = fake_slack.called("chat.postMessage")[-1]
    assert thinking.args["channel"] == "D0ALICE" and "thread_ts" not in thinking.args
    assert Run.objects.get().input == "hi"


def test_messages_of_one_thread_share_a_session_and_its_history(asgi_server, fake_slack, app_model):
    app_model.reply(text="Noted.")
    app_model.reply(text="You said blue.")
    first = dm_payload(text="my colour is blue")
    post_event(asgi_server, first)
    fake_slack.wait_for("chat.update", text="Noted.")
    post_event(asgi_server, dm_payload(text="what is my colour?"))
    fake_slack.wait_for("chat.update", text="You said blue.")
    runs = list(Run.objects.order_by("pk"))
    assert len(runs) == 2 and runs[0].session_id == runs[1].session_id
    assert "my colour is blue" in json.dumps(app_model.requests[-1].body)


def test_a_retry_of_an_event_never_starts_a_second_run(asgi_server, fake_slack, app_model):
    app_model.reply(text="Once.", delay=0.5)
    payload = event_payload(text="hello")
    body = json.dumps(payload).encode()
    assert post_event(asgi_server, payload).status_code == 200
    retry = {**signed_headers(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert post_event(asgi_server, payload, headers=retry).status_code == 200
    fake_slack.wait_for("chat.update", text="Once.")
    time.sleep(0.5)
    assert Run.objects.count() == 1 and SlackEvent.objects.count() == 1
    assert len(fake_slack.called("chat.postMessage")) == 1
    assert len(app_model.requests) == 1


def test_a_failed_run_leaves_a_short_error_text_in_the_thread(asgi_server, fake_slack, app_model):
    app_model.reply(status=500, error="boom")
    app_model.reply(status=500, error="boom")
    app_model.reply(status=500, error="boom")
    post_event(asgi_server, event_payload(text="hello"))
    updates = fake_slack.wait_for("chat.update", text="Sorry")
    assert updates[-1].text.startswith("Sorry, I could not answer")
    assert "boom" not in updates[-1].text
    assert Run.objects.get().status == Run.Status.ERROR


def test_our_own_messages_and_edits_start_nothing(asgi_server, fake_slack, app_model):
    post_event(asgi_server, dm_payload(text="a reply of ours", bot_id="B0BOT"))
    post_event(asgi_server, dm_payload(text="edited", subtype="message_changed"))
    post_event(asgi_server, event_payload(kind="reaction_added"))
    time.sleep(0.5)
    assert not Run.objects.exists() and fake_slack.calls == []


def test_the_signing_secret_itself_is_never_sent_to_slack(asgi_server, fake_slack, app_model):
    app_model.reply(text="Fine.")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Fine.")
    assert all(SECRET not in json.dumps(c.args) for c in fake_slack.calls)


def test_the_reply_goes_as_markdown_and_a_long_one_is_cut_to_slacks_limit(asgi_server, fake_slack, app_model):
    long = "**Bold** start. " + "x" * 13_000
    app_model.reply(text=long)
    post_event(asgi_server, dm_payload(text="a long one please"))
    updates = fake_slack.wait_for("chat.update", text="**Bold** start.")
    final = updates[-1].args
    assert "text" not in final and final["markdown_text"].startswith("**Bold** start.")
    assert len(final["markdown_text"]) == 12_000 and final["markdown_text"].endswith("…")
    assert Run.objects.get().content == long  # the whole reply is kept, and shown on the web
