"""Acting for other people takes its own permission, not the staff flag; the real actor is recorded;
no one but a superuser acts for a superuser."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apikeys.services import apikey_create
from memory_app import services as memory_services
from memory_app.models import Memory, MemoryChange
from sessions_app.models import AgentSession, Run
from tests import factories
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(django_user_model):
    """Staff (may sign in to the admin) and nothing more."""
    return django_user_model.objects.create_user("clerk", password=PASSWORD, is_staff=True)


@pytest.fixture
def operator(django_user_model):
    """Staff with the permission to act for other people."""
    user = django_user_model.objects.create_user("operator", password=PASSWORD, is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    return user


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password=PASSWORD)


def _api(user, method: str, path: str, body: dict | None = None):
    token = apikey_create(user=user, name="k")[1]
    kwargs = {"headers": {"Authorization": f"Bearer {token}"}}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(Client(), method)(path, **kwargs)


def test_the_staff_flag_alone_acts_for_no_one(clerk, alice, replying):
    """Was: any staff account's key could export, write for and erase anyone."""
    factories.session(alice, "alices")
    assert _api(clerk, "get", "/api/users/alice/export").status_code == 404
    assert _api(clerk, "delete", "/api/users/alice/data").status_code == 404
    assert _api(clerk, "post", "/api/runs", {"message": "hi", "user_id": "alice"}).status_code == 404
    assert _api(clerk, "post", "/api/memories", {"text": "x", "user_id": "alice"}).status_code == 404
    assert _api(clerk, "get", "/api/sessions?user_id=alice").status_code == 404
    client = Client()
    client.force_login(clerk)
    assert client.get("/memories/", {"user": "alice"}).status_code == 404
    assert client.get("/chats/alices/").status_code == 404
    assert AgentSession.objects.filter(user=alice).exists()


def test_an_operator_acts_for_a_person_and_is_recorded_as_such(operator, alice, replying):
    response = _api(operator, "post", "/api/runs", {"message": "hi", "user_id": "alice"})

    assert response.status_code == 200, response.content
    run = Run.objects.get(run_id=response.json()["run_id"])
    assert run.user == alice and run.acting_user == operator  # the run is alice's, started by operator
    created = _api(operator, "post", "/api/memories", {"text": "Likes tea", "user_id": "alice"})
    change = MemoryChange.objects.get(memory__memory_id=created.json()["memory_id"])
    assert change.actor == "api" and change.actor_user == operator


def test_an_operator_posting_in_someones_chat_is_recorded_as_the_operator(operator, alice):
    """Was: a staff member's message in someone's chat was recorded as that person's."""
    session = factories.session(alice, "alices")
    client = Client()
    client.force_login(operator)

    response = client.post(
        "/chats/alices/messages/", {"message": "A note from support"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    run = Run.objects.get(session=session)
    assert run.user == alice and run.acting_user == operator


def test_a_persons_own_runs_record_no_other_actor(alice, replying):
    response = _api(alice, "post", "/api/runs", {"message": "hi"})
    assert Run.objects.get(run_id=response.json()["run_id"]).acting_user is None


def test_no_one_but_a_superuser_acts_for_a_superuser(operator, root, replying):
    memory_services.memory_create(user_pk=root.pk, text="Root likes tea", actor="person")

    assert _api(operator, "delete", "/api/users/root/data").status_code == 404
    assert _api(operator, "get", "/api/users/root/export").status_code == 404
    assert _api(operator, "post", "/api/runs", {"message": "hi", "user_id": "root"}).status_code == 404
    assert _api(operator, "get", "/api/memories?user_id=root").status_code == 404
    memory = Memory.objects.get(user=root)
    assert _api(operator, "get", f"/api/memories/{memory.memory_id}").status_code == 404
    client = Client()
    client.force_login(operator)
    assert client.get("/memories/", {"user": "root"}).status_code == 404
    assert Memory.objects.filter(user=root).exists()


def test_a_superuser_may_act_for_a_superuser(root, django_user_model, replying):
    other = django_user_model.objects.create_superuser("root2", password=PASSWORD)
    assert _api(root, "get", "/api/users/root2/export").status_code == 200
    assert other.is_superuser


def test_user_ids_a_service_key_creates_are_normalised(operator, replying):
    """Was: a fullwidth "\uff41lice" became a second alice."""
    first = _api(operator, "post", "/api/runs", {"message": "hi", "user_id": "alice"})
    second = _api(operator, "post", "/api/runs", {"message": "hi", "user_id": "\uff41lice"})

    assert first.json()["user_id"] == second.json()["user_id"] == "alice"


def test_the_run_page_and_api_say_who_sent_a_message_for_someone(operator, alice, replying):
    run_id = _api(operator, "post", "/api/runs", {"message": "hi", "user_id": "alice"}).json()["run_id"]
    client = Client()
    client.force_login(operator)

    page = client.get(f"/runs/{run_id}/")

    assert page.status_code == 200 and 'id="run-acting-user">operator<' in page.content.decode()
    assert _api(operator, "get", f"/api/runs/{run_id}").json()["sent_by"] == "operator"
    assert _api(alice, "get", f"/api/runs/{run_id}").json()["sent_by"] == "operator"


def test_erasing_or_deleting_for_someone_else_is_in_the_audit_log(operator, alice, caplog):
    factories.session(alice, "alices")
    factories.session(alice, "other")
    caplog.set_level("WARNING", logger="agentapp.audit")

    assert _api(operator, "delete", "/api/sessions/alices").status_code == 204
    assert _api(operator, "delete", "/api/users/alice/data").status_code == 200

    lines = [r.getMessage() for r in caplog.records if r.name == "agentapp.audit"]
    assert len(lines) == 2
    assert lines[0].startswith("operator deleted session alices")
    assert lines[1].startswith("operator erased the data of alice: {'sessions': 1")


def test_a_persons_own_erasure_is_not_audited(alice, caplog):
    factories.session(alice, "alices")
    caplog.set_level("WARNING", logger="agentapp.audit")
    assert _api(alice, "delete", "/api/users/alice/data").status_code == 200
    assert not [r for r in caplog.records if r.name == "agentapp.audit"]
