"""Under ASGI, Django's middleware and WhiteNoise run on the event loop: a request goes to a thread
only for a synchronous view, or when a hook may touch the database (the session's save), not twice
for every middleware as Django's `MiddlewareMixin` does."""

from __future__ import annotations

import pytest
from asgiref.sync import SyncToAsync, async_to_sync
from django.test import AsyncClient

pytestmark = pytest.mark.django_db


def middleware_hops(hops: list[str]) -> list[str]:
    """Those made by a middleware (Django's handler also sends its request signals and closes each
    response on a thread, for the database connection's upkeep: not middleware)."""
    return [hop for hop in hops if "iddleware" in hop or "whitenoise" in hop]


@pytest.fixture
def hops(monkeypatch):
    """What each request sent to a thread, by the function's qualified name."""
    sent: list[str] = []
    original = SyncToAsync.__call__

    def recorded(self, *args, **kwargs):
        func = self.func
        sent.append(f"{getattr(func, '__module__', '')}.{getattr(func, '__qualname__', repr(func))}")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", recorded)
    return sent


def test_a_request_goes_to_a_thread_only_for_its_synchronous_view(hops):
    async def probe():
        return await AsyncClient().get("/healthz")

    response = async_to_sync(probe)()

    assert response.status_code == 200 and response.json() == {"ok": True}
    # Django's security, CSRF and clickjacking middleware keep their names (check --deploy looks for
    # them) and so their thread hand-offs; nothing else goes to a thread before the view.
    kept = ("SecurityMiddleware", "CsrfViewMiddleware", "XFrameOptionsMiddleware")
    assert [hop for hop in middleware_hops(hops) if hop.rsplit(".", 2)[-2] not in kept] == []
    assert any(hop.endswith("healthz") for hop in hops)  # the view itself, which is synchronous


def test_a_static_file_is_served_with_its_lookup_on_the_loop(hops):
    async def probe():
        response = await AsyncClient().get("/static/css/app.css")
        return response, b"".join([chunk async for chunk in response.streaming_content])

    response, body = async_to_sync(probe)()

    assert response.status_code == 200 and b"{" in body
    assert response["Content-Type"].startswith("text/css")
    # One thread hand-off: opening and reading the file. None for the middleware around it.
    assert "agentapp.platform.static_files.StaticFilesMiddleware._file_response" in hops
    assert not any("whitenoise" in hop or "on_the_loop" in hop for hop in hops)


def test_a_session_that_changed_is_still_saved_on_a_thread(hops, alice):
    alice.set_password("a long enough password 42")
    alice.save()

    async def sign_in():
        client = AsyncClient()
        signed_in = await client.post(
            "/login/", {"username": "alice", "password": "a long enough password 42"}
        )
        page = await client.get("/")
        return signed_in, page

    signed_in, page = async_to_sync(sign_in)()

    assert signed_in.status_code == 302 and "sessionid" in signed_in.cookies
    assert page.status_code == 200 and b"alice" in page.content
    assert any(hop.endswith("SessionMiddleware.process_response") for hop in middleware_hops(hops))
