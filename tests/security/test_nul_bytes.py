"""NUL bytes in a path, a query string or a form: one guard answers 400 before any view, on every
page (the API's JSON error shape under /api/); nothing is written."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from memory_app.models import Memory
from sessions_app.models import AgentSession, Run
from tests import factories

pytestmark = pytest.mark.django_db

NUL = "\x00"

QUERIES = [
    ("get", "/", {"q": NUL}),
    ("get", "/chats/", {"q": NUL}),
    ("get", "/chats/", {"current": f"a{NUL}b"}),
    ("get", "/memories/", {"q": NUL}),
    ("get", "/memories/", {"topic": NUL}),
    ("get", "/memories/", {"user": NUL}),
    ("get", "/memories/export/", {"q": NUL}),
    ("get", "/runs/", {"user": NUL}),
    ("get", "/runs/", {"session": NUL}),
    ("get", "/runs/", {"status": NUL}),
    ("get", "/settings/api-keys/", {"x": NUL}),
    ("get", "/login/", {"next": f"/{NUL}"}),
]
FORMS = [
    ("/chat/new/", {"message": f"hi{NUL}"}),
    ("/chats/alices/messages/", {"message": f"hi{NUL}"}),
    ("/chats/alices/rename/", {"title": f"t{NUL}"}),
    ("/memories/new/", {"text": f"likes{NUL}tea", "topics": NUL}),
    ("/settings/api-keys/", {"name": f"k{NUL}"}),
    ("/login/", {"username": f"alice{NUL}", "password": "x"}),
]
PATHS = [
    "/chats/a%00b/",
    "/runs/a%00b/",
    "/runs/a%00b/context/",
    "/sessions/a%00b/timeline/",
    "/memories/a%00b/history/",
    "/api/sessions/a%00b",
]


@pytest.fixture
def browser_client(alice) -> Client:
    factories.session(alice, "alices")
    client = Client()
    client.force_login(alice)
    return client


@pytest.mark.parametrize(
    ("method", "url", "params"), QUERIES, ids=[f"{u}?{next(iter(p))}" for _, u, p in QUERIES]
)
def test_a_nul_in_a_query_string_is_a_400(browser_client, method, url, params):
    response = getattr(browser_client, method)(url, params)
    assert response.status_code == 400, response.content[:300]
    assert b"NUL" in response.content


@pytest.mark.parametrize(("url", "data"), FORMS, ids=[u for u, _ in FORMS])
def test_a_nul_in_a_form_is_a_400_and_nothing_is_written(browser_client, url, data):
    before = (AgentSession.objects.count(), Run.objects.count(), Memory.objects.count())

    response = browser_client.post(url, data)

    assert response.status_code == 400, response.content[:300]
    assert (AgentSession.objects.count(), Run.objects.count(), Memory.objects.count()) == before


def test_a_nul_in_a_multipart_form_field_is_a_400(browser_client):
    response = browser_client.post("/memories/new/", {"text": f"likes{NUL}tea"}, format="multipart")
    assert response.status_code == 400


@pytest.mark.parametrize("path", PATHS)
def test_a_nul_in_a_path_is_a_400(browser_client, path):
    response = browser_client.get(path)
    assert response.status_code == 400, response.content[:300]


def test_under_the_api_the_answer_is_the_error_shape(browser_client):
    response = browser_client.get("/api/sessions", {"search": NUL})
    assert response.status_code == 400
    assert response.json()["message"].startswith("The request contains a NUL character")


def test_the_guard_holds_on_the_async_path(alice):
    async def requests() -> tuple[int, int]:
        client = AsyncClient()
        await client.aforce_login(alice)
        page = await client.get("/chats/", {"q": NUL})
        form = await client.post("/chat/new/", {"message": f"hi{NUL}"})
        return page.status_code, form.status_code

    assert async_to_sync(requests)() == (400, 400)
    assert not AgentSession.objects.exists()
