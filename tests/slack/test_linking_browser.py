"""The Slack link's confirm page and the settings list of linked Slack accounts, in a browser: at
phone and desktop sizes, light and dark, axe-clean and without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from memory_app.models import Memory
from sessions_app import services as session_services
from sessions_app.models import Run
from slack_app import services
from slack_app.models import SlackIdentity
from tests.browser.pages import THEMES, new_context, settled_problems
from tests.conftest import PASSWORD
from tests.live import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def _told_in_slack() -> str:
    """A Slack person whose Slack-only account learned a fact in #general; their one-time link."""
    identity, _ = services.identity_get_or_create(team_id="T0TEAM", slack_user_id="U0ALICE")
    session = services.thread_session_get_or_create(
        identity=identity, channel="C0GENERAL", thread_ts="1765000001.000200", is_direct=False
    )
    services.thread_channel_name_set(thread_pk=session.slack_thread.pk, name="general")
    run = session_services.run_create(session=session, input="I drink green tea", status=Run.Status.COMPLETED)
    Memory.objects.create(
        user=identity.user, text="Drinks green tea", normalized_text="drinks green tea", source_run=run
    )
    return services.link_token_create(identity=identity)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_person_confirms_a_slack_link_and_sees_it_in_their_settings(
    browser, asgi_server, alice, viewport, theme
):
    token = _told_in_slack()
    context = new_context(browser, asgi_server, viewport, theme)
    page = context.new_page()
    problems: list[str] = []
    try:
        sign_in(page, "alice", PASSWORD)
        page.goto(f"/settings/slack/link/{token}/")
        expect(page.get_by_role("heading", name="Link your Slack account")).to_be_visible()
        expect(page.get_by_text("1 Slack chat and 1 memory")).to_be_visible()
        problems += settled_problems(page, "the confirm page")

        page.get_by_role("button", name="Link this Slack account").click()
        page.wait_for_url("**/settings/#slack-links")
        links = page.locator("#slack-links")
        expect(links.locator("code", has_text="U0ALICE")).to_be_visible()
        expect(links.get_by_role("button", name="Unlink U0ALICE")).to_be_visible()
        problems += settled_problems(page, "the settings list")

        page.goto("/memories/")
        source = page.get_by_role("link", name="told in Slack, #general, thread")
        expect(source).to_be_visible()
        problems += settled_problems(page, "the memories page")

        page.goto("/settings/")
        page.locator("#slack-links").get_by_role("button", name="Unlink U0ALICE").click()
        page.wait_for_url("**/settings/#slack-links")
        expect(page.locator("#slack-links").get_by_text("No Slack account is linked")).to_be_visible()
        problems += settled_problems(page, "unlinked")
    finally:
        context.close()

    assert problems == []
    assert not SlackIdentity.objects.exists()
    assert Memory.objects.get(text="Drinks green tea").user == alice
