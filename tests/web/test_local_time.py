"""Times in each person's own time zone: the browser's, kept in the `tz` cookie by site.js."""

from __future__ import annotations

import re
from datetime import timedelta
from datetime import timezone as dt_timezone

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from sessions_app.models import AgentSession, Run
from tests import factories
from tests.conftest import PASSWORD
from tests.live import sign_in

pytestmark = pytest.mark.django_db

TITLE = re.compile(r'<time class="msg-time" datetime="[^"]+" title="([^"]+)" data-tz="([^"]+)">')


@pytest.fixture
def thread(alice) -> AgentSession:
    session = AgentSession.objects.create(session_id="tz-thread", user=alice, title="Times")
    run = factories.run(session, "What time is it?", content="Late.")
    # 23:30 UTC two days ago: already the next day in Tokyo (UTC+9).
    moment = (timezone.now() - timedelta(days=2)).replace(hour=23, minute=30, second=0, microsecond=0)
    Run.objects.filter(pk=run.pk).update(created_at=moment, ended_at=moment)
    session.moment = moment
    return session


def _times(client) -> list[tuple[str, str]]:
    return TITLE.findall(client.get(reverse("sessions:detail", args=["tz-thread"])).content.decode())


def test_times_are_written_in_the_zone_the_cookie_names(client, alice, thread):
    client.force_login(alice)
    client.cookies["tz"] = "Asia/Tokyo"
    (title, zone), _ = _times(client)
    assert zone == "Asia/Tokyo" and title.endswith(", 08:30:00 JST")
    tokyo = thread.moment.astimezone(dt_timezone(timedelta(hours=9)))
    assert f"{tokyo:%A} {tokyo.day} {tokyo:%B %Y}" in title  # the next day there


@pytest.mark.parametrize("cookie", ["", "Mars/Olympus_Mons", "../../etc/passwd", "x" * 100])
def test_without_a_zone_this_server_knows_times_are_in_time_zone(client, alice, thread, cookie):
    client.force_login(alice)
    client.cookies["tz"] = cookie
    (title, zone), _ = _times(client)
    assert zone == "UTC" and title.endswith(", 23:30:00 UTC")


def test_a_zone_is_not_kept_for_the_next_request_without_one(client, alice, bob, thread):
    client.force_login(alice)
    client.cookies["tz"] = "Asia/Tokyo"
    assert _times(client)[0][1] == "Asia/Tokyo"
    del client.cookies["tz"]
    assert _times(client)[0][1] == "UTC"
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_browser_keeps_its_zone_in_the_cookie_and_the_chat_shows_times_in_it(
    browser, asgi_server, alice, thread
):
    context = browser.new_context(base_url=asgi_server, timezone_id="America/New_York")
    page = context.new_page()
    try:
        sign_in(page, "alice", PASSWORD)  # the sign-in page already sets the cookie
        page.goto("/chats/tz-thread/")
        cookie = {c["name"]: c["value"] for c in context.cookies()}["tz"]
        assert cookie == "America/New_York"
        expect(page.locator("time.msg-time").first).to_have_attribute("data-tz", "America/New_York")
        title = page.locator("time.msg-time").first.get_attribute("title")
        assert title.endswith((", 18:30:00 EST", ", 19:30:00 EDT"))
    finally:
        context.close()
