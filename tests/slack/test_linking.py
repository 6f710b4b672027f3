"""Linking a Slack person (team, user) to a web account: a Slack-only account until then, a one-time
link given privately, confirmed by the signed-in person, listed on their settings with Unlink; after
it, one memory for Slack and the web. A deleted or erased person's Slack starts nothing until a new link."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from agentapp.accounts.services import user_data_erase
from memory_app.models import Memory
from sessions_app.models import AgentSession, Run
from slack_app.models import SlackIdentity, SlackLinkToken
from tests.chat.sse import cookies_for, read_stream

from .conftest import TEAM, dm_payload, event_payload, post_event

pytestmark = pytest.mark.usefixtures("no_summaries")

LINK = re.compile(r"https?://[^\s/]+(/settings/slack/link/([A-Za-z0-9_-]+)/)")


def _link_path(fake_slack, method: str = "chat.postMessage") -> str:
    calls = fake_slack.wait_for(method, text="/settings/slack/link/")
    found = LINK.search(next(c.text for c in reversed(calls) if "/settings/slack/link/" in c.text))
    assert found is not None
    return found.group(1)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _confirm(user, path: str):
    client = _signed_in(user)
    assert client.get(path).status_code == 200
    return client.post(path)


def _wait_run(count: int) -> list[Run]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        runs = list(Run.objects.order_by("pk"))
        if len(runs) >= count and all(r.is_finished for r in runs):
            return runs
        time.sleep(0.05)
    raise AssertionError(f"{count} finished runs expected: {Run.objects.values('status')}")


def test_a_first_message_runs_as_a_slack_only_account_and_offers_a_link(asgi_server, fake_slack, app_model):
    app_model.reply(text="Hello!")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Hello!")
    path = _link_path(fake_slack)

    identity = SlackIdentity.objects.get()
    assert (identity.team_id, identity.slack_user_id, identity.linked_at) == (TEAM, "U0ALICE", None)
    account = identity.user
    assert account is not None and account == identity.account
    assert account.username == f"slack:{TEAM}:U0ALICE" and not account.has_usable_password()
    assert Run.objects.get().user == account
    token = path.rsplit("/", 2)[-2]
    assert not SlackLinkToken.objects.filter(token_hash=token).exists()  # only its hash is stored


def test_in_a_channel_the_link_is_shown_to_that_person_only(asgi_server, fake_slack, app_model):
    app_model.reply(text="Hello!")
    post_event(asgi_server, event_payload(text="hi"))
    ephemeral = fake_slack.wait_for("chat.postEphemeral")
    assert ephemeral[0].args["user"] == "U0ALICE" and ephemeral[0].args["channel"] == "C0GENERAL"
    fake_slack.wait_for("chat.update", text="Hello!")
    assert not any("/settings/slack/link/" in c.text for c in fake_slack.called("chat.postMessage"))


def test_the_same_user_id_in_another_workspace_is_another_person(asgi_server, fake_slack, app_model):
    app_model.reply(text="One.")
    app_model.reply(text="Two.")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="One.")
    post_event(asgi_server, dm_payload(text="hi", team="T0OTHER"))
    fake_slack.wait_for("chat.update", text="Two.")
    first, second = _wait_run(2)
    assert first.user != second.user
    assert SlackIdentity.objects.count() == 2


def test_people_in_one_channel_thread_each_get_their_own_session(asgi_server, fake_slack, app_model):
    app_model.reply(text="For Ann.")
    app_model.reply(text="For Ben.")
    root = event_payload(user="U0ANN", text="I like tea")
    post_event(asgi_server, root)
    fake_slack.wait_for("chat.update", text="For Ann.")
    post_event(
        asgi_server, event_payload(user="U0BEN", text="what do I like?", thread_ts=root["event"]["ts"])
    )
    fake_slack.wait_for("chat.update", text="For Ben.")
    ann, ben = _wait_run(2)
    assert ann.session_id != ben.session_id and ann.user != ben.user
    assert "I like tea" not in str(app_model.requests[-1].body)


def test_a_fact_told_in_slack_is_used_in_a_web_chat_and_listed_with_its_source(
    asgi_server, fake_slack, app_model, alice
):
    fake_slack.channel_names["C0GENERAL"] = "general"
    app_model.reply(text="Hi!")
    post_event(asgi_server, event_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Hi!")
    response = _confirm(alice, _link_path(fake_slack, "chat.postEphemeral"))
    assert response.status_code == 303 and response["Location"] == "/settings/#slack-links"

    app_model.reply(tool_calls=[("add_memory", {"memory": "Alice drinks green tea"})])
    app_model.reply(text="Noted: green tea.")
    root = fake_slack.called("chat.postEphemeral")[0].args["thread_ts"]
    post_event(asgi_server, event_payload(text="remember that I drink green tea", thread_ts=root))
    fake_slack.wait_for("chat.update", text="Noted: green tea.")
    memory = Memory.objects.get(text="Alice drinks green tea")
    assert memory.user == alice

    # The web: a new chat of alice's is answered with the memory in its context.
    app_model.reply(text="Green tea, I recall.")
    with httpx.Client(base_url=asgi_server, cookies=cookies_for(alice), timeout=20) as http:
        token = re.search(r'"X-CSRFToken": "([^"]+)"', http.get("/").text).group(1)
        http.post("/chat/new/", data={"message": "What do I drink?"}, headers={"X-CSRFToken": token})
    run = Run.objects.filter(user=alice, input="What do I drink?").get()
    read_stream(asgi_server, run.run_id, alice)
    assert "Alice drinks green tea" in str(app_model.requests[-1].body)

    page = _signed_in(alice).get("/memories/").content.decode()
    assert "Alice drinks green tea" in page
    assert "told in Slack, #general, thread" in page
    assert f"https://app.slack.com/client/{TEAM}/C0GENERAL/thread/C0GENERAL-{root}" in page


def test_linking_moves_what_the_slack_only_account_learned(asgi_server, fake_slack, app_model, alice):
    app_model.reply(tool_calls=[("add_memory", {"memory": "Likes hiking"})])
    app_model.reply(text="Noted.")
    post_event(asgi_server, dm_payload(text="I like hiking"))
    fake_slack.wait_for("chat.update", text="Noted.")
    account = SlackIdentity.objects.get().account
    assert Memory.objects.get(text="Likes hiking").user == account
    Memory.objects.create(user=alice, text="Likes hiking", normalized_text="likes hiking")

    path = _link_path(fake_slack)
    page = _signed_in(alice).get(path).content.decode()
    assert "1 Slack chat and 1 memory" in page
    _confirm(alice, path)

    assert Memory.objects.current().filter(user=alice, normalized_text="likes hiking").count() == 1
    assert AgentSession.objects.filter(user=alice).count() == 1  # the Slack thread is alice's now
    assert not get_user_model().objects.filter(pk=account.pk).exists()
    app_model.reply(text="You like hiking.")
    post_event(asgi_server, dm_payload(text="what do I like?"))
    fake_slack.wait_for("chat.update", text="You like hiking.")
    assert Run.objects.order_by("-pk").first().user == alice


def test_the_settings_page_lists_the_link_and_unlink_undoes_it(
    asgi_server, fake_slack, app_model, alice, bob
):
    app_model.reply(text="Hi!")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Hi!")
    _confirm(alice, _link_path(fake_slack))
    identity = SlackIdentity.objects.get()

    settings_page = _signed_in(alice).get("/settings/").content.decode()
    assert "U0ALICE" in settings_page and f"/settings/slack/{identity.pk}/unlink/" in settings_page
    assert "U0ALICE" not in _signed_in(bob).get("/settings/").content.decode()
    assert _signed_in(bob).post(f"/settings/slack/{identity.pk}/unlink/").status_code == 404

    response = _signed_in(alice).post(f"/settings/slack/{identity.pk}/unlink/")
    assert response.status_code == 303 and not SlackIdentity.objects.exists()
    app_model.reply(text="Who are you?")
    post_event(asgi_server, dm_payload(text="hi again"))
    fake_slack.wait_for("chat.update", text="Who are you?")
    last = Run.objects.order_by("-pk").first()
    assert last.user != alice and last.user.username.startswith("slack:")


def test_a_link_works_once(asgi_server, fake_slack, app_model, alice, bob):
    app_model.reply(text="Hi!")
    post_event(asgi_server, dm_payload(text="hi"))
    path = _link_path(fake_slack)
    _confirm(alice, path)
    again = _signed_in(bob)
    assert again.get(path).status_code == 404
    assert again.post(path).status_code == 404
    assert SlackIdentity.objects.get().user == alice
    assert _signed_in(alice).get("/settings/slack/link/not-a-token/").status_code == 404


def test_an_expired_link_is_refused(asgi_server, fake_slack, app_model, alice):
    app_model.reply(text="Hi!")
    post_event(asgi_server, dm_payload(text="hi"))
    path = _link_path(fake_slack)
    SlackLinkToken.objects.update(expires_at="2000-01-01T00:00:00Z")
    assert _signed_in(alice).post(path).status_code == 404
    assert SlackIdentity.objects.get().linked_at is None


def test_asking_for_a_link_again_gives_a_new_one_and_starts_no_run(asgi_server, fake_slack, app_model):
    app_model.reply(text="Hi!")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Hi!")
    post_event(asgi_server, dm_payload(text="link"))
    fake_slack.wait_for("chat.postMessage", count=3, text="/settings/slack/link/")
    time.sleep(0.3)
    assert Run.objects.count() == 1 and SlackLinkToken.objects.count() == 2


@pytest.mark.parametrize("gone", ["deleted", "erased"])
def test_a_deleted_or_erased_person_starts_a_fresh_account_only_after_a_new_link(
    asgi_server, fake_slack, app_model, alice, bob, gone
):
    app_model.reply(text="Hi!")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Hi!")
    _confirm(alice, _link_path(fake_slack))
    if gone == "deleted":
        alice.delete()
    else:
        user_data_erase(user=alice)
    runs = Run.objects.count()

    post_event(asgi_server, dm_payload(text="still there?"))
    notice = fake_slack.wait_for("chat.postMessage", text="is gone")
    time.sleep(0.3)
    assert Run.objects.count() == runs  # nothing ran, as nobody
    path = LINK.search(next(c.text for c in reversed(notice) if "/settings/slack/link/" in c.text)).group(1)
    _confirm(bob, path)
    app_model.reply(text="Hello Bob.")
    post_event(asgi_server, dm_payload(text="hi"))
    fake_slack.wait_for("chat.update", text="Hello Bob.")
    assert Run.objects.order_by("-pk").first().user == bob
