"""Facts over time over HTTP: `as_of`, `include_superseded`, `replaces`, expire, and their undo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from memory_app.models import Memory, MemoryChange
from memory_app.services import memory_create

from .conftest import assert_error

pytestmark = pytest.mark.django_db

PERSON = MemoryChange.Actor.PERSON
DAY = timedelta(days=1)


def ago(days: float) -> str:
    return (timezone.now() - days * DAY).isoformat()


@pytest.fixture
def lisbon(alice):
    """Alice, a person for 30 days, has lived in Lisbon since 20 days ago."""
    type(alice).objects.filter(pk=alice.pk).update(date_joined=timezone.now() - 30 * DAY)
    memory = memory_create(user_pk=alice.pk, text="Lives in Lisbon", topics=["home"], actor=PERSON)[0]
    Memory.objects.filter(pk=memory.pk).update(valid_from=timezone.now() - 20 * DAY)
    memory.refresh_from_db()
    return memory


@pytest.fixture
def porto(alice_api, lisbon):
    """10 days ago she moved to Porto: the Lisbon memory is superseded."""
    response = alice_api.post(
        "/api/memories", {"text": "Lives in Porto", "replaces": lisbon.memory_id, "valid_from": ago(10)}
    )
    assert response.status_code == 201, response.content
    return response.json()


def texts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [m["text"] for m in response.json()["items"]]


def test_a_replacing_memory_supersedes_the_old_one_and_both_say_so(alice_api, lisbon, porto):
    assert (porto["text"], porto["topics"], porto["valid_to"]) == ("Lives in Porto", ["home"], None)
    assert porto["supersedes"] == [lisbon.memory_id]
    assert porto["superseded_by"] is None
    old = alice_api.get(f"/api/memories/{lisbon.memory_id}").json()
    assert old["superseded_by"] == porto["memory_id"]
    assert old["valid_to"] == porto["valid_from"]
    assert old["supersedes"] == []
    history = alice_api.get(f"/api/memories/{lisbon.memory_id}/history").json()
    assert history[0]["action"] == "supersede" and history[0]["actor"] == "api"
    assert history[0]["after"]["superseded_by"] == porto["memory_id"]


def test_the_list_shows_current_facts_and_as_of_what_was_true_then(alice_api, lisbon, porto):
    assert texts(alice_api.get("/api/memories")) == ["Lives in Porto"]
    assert texts(alice_api.get("/api/memories", as_of=ago(15))) == ["Lives in Lisbon"]
    assert texts(alice_api.get("/api/memories", as_of=ago(5))) == ["Lives in Porto"]
    assert texts(alice_api.get("/api/memories", as_of=ago(25))) == []
    # the instant of the move belongs to the new fact
    assert texts(alice_api.get("/api/memories", as_of=porto["valid_from"])) == ["Lives in Porto"]


def test_include_superseded_lists_past_facts_too(alice_api, lisbon, porto):
    items = alice_api.get("/api/memories", include_superseded="true").json()["items"]
    by_text = {m["text"]: m for m in items}
    assert set(by_text) == {"Lives in Lisbon", "Lives in Porto"}
    assert by_text["Lives in Lisbon"]["superseded_by"] == porto["memory_id"]
    assert by_text["Lives in Porto"]["supersedes"] == [lisbon.memory_id]
    # with as_of: what had begun by then, the facts already past included
    assert texts(alice_api.get("/api/memories", as_of=ago(15), include_superseded="true")) == [
        "Lives in Lisbon"
    ]


def test_as_of_and_include_superseded_combine_with_search_topic_and_person(
    alice, alice_api, service_api, lisbon, porto
):
    memory_create(user_pk=alice.pk, text="Drinks green tea", topics=["drinks"], actor=PERSON)
    assert texts(alice_api.get("/api/memories", search="lisbon")) == []
    assert texts(alice_api.get("/api/memories", search="lisbon", include_superseded="true")) == [
        "Lives in Lisbon"
    ]
    assert texts(alice_api.get("/api/memories", search="lisbon", mode="words", as_of=ago(15))) == [
        "Lives in Lisbon"
    ]
    assert texts(alice_api.get("/api/memories", topic="home", as_of=ago(15))) == ["Lives in Lisbon"]
    assert texts(alice_api.get("/api/memories", topic="drinks", as_of=ago(15))) == []
    assert texts(service_api.get("/api/memories", user_id="alice", as_of=ago(15))) == ["Lives in Lisbon"]


@pytest.mark.parametrize(
    ("as_of", "says"),
    [
        ("yesterday", "ISO 8601"),
        ("1700000000", "ISO 8601"),
        ("2026-13-01T00:00:00Z", "ISO 8601"),
        ("2026-03-01T09:00:00", "time zone"),
        ("2026-03-01", "time zone"),
    ],
)
def test_a_malformed_or_naive_as_of_is_a_422_naming_the_field(alice_api, lisbon, as_of, says):
    body = assert_error(alice_api.get("/api/memories", as_of=as_of), 422)
    assert body["detail"][0]["loc"][-1] == "as_of"
    assert says in body["detail"][0]["msg"]


def test_an_as_of_in_the_future_or_before_the_person_existed_is_a_422(alice_api, lisbon):
    future = assert_error(alice_api.get("/api/memories", as_of=ago(-1)), 422)
    assert "future" in future["message"]
    before = assert_error(alice_api.get("/api/memories", as_of=ago(31)), 422)
    assert "before this person existed" in before["message"]
    far = assert_error(alice_api.get("/api/memories", as_of="0001-01-01T00:00:00+01:00"), 422)
    assert "before this person existed" in far["message"]
    assert (
        "future"
        in assert_error(alice_api.get("/api/memories", as_of="9999-12-31T23:59:59-01:00"), 422)["message"]
    )


def test_replacing_a_memory_that_is_not_current_is_a_409(alice_api, lisbon, porto):
    again = alice_api.post("/api/memories", {"text": "Lives in Faro", "replaces": lisbon.memory_id})
    assert "no longer current" in assert_error(again, 409)["message"]
    assert not Memory.objects.filter(text="Lives in Faro").exists()


def test_replacing_an_unknown_or_another_persons_memory_is_a_404(alice, bob, alice_api, service_api, lisbon):
    bobs = memory_create(user_pk=bob.pk, text="Lives in Berlin", actor=PERSON)[0]
    assert_error(alice_api.post("/api/memories", {"text": "Lives in Faro", "replaces": "mem_missing"}), 404)
    assert_error(alice_api.post("/api/memories", {"text": "Lives in Faro", "replaces": bobs.memory_id}), 404)
    # a service key may see both people's memories, but one person's fact cannot replace another's
    crossed = {"text": "Lives in Faro", "user_id": "alice", "replaces": bobs.memory_id}
    assert_error(service_api.post("/api/memories", crossed), 404)
    # nor may a new person be made on the way
    assert_error(service_api.post("/api/memories", {**crossed, "user_id": "dora"}), 404)
    assert not type(alice).objects.filter(username="dora").exists()
    assert Memory.objects.current().filter(text="Lives in Berlin").exists()
    assert not Memory.objects.filter(text="Lives in Faro").exists()


def test_a_deleted_memory_cannot_be_replaced(alice_api, lisbon):
    assert alice_api.delete(f"/api/memories/{lisbon.memory_id}").status_code == 204
    assert_error(
        alice_api.post("/api/memories", {"text": "Lives in Faro", "replaces": lisbon.memory_id}), 404
    )


def test_a_service_key_replaces_a_persons_memory_for_them(service_api, lisbon):
    response = service_api.post(
        "/api/memories", {"text": "Lives in Porto", "user_id": "alice", "replaces": lisbon.memory_id}
    )
    assert response.status_code == 201, response.content
    assert response.json()["user_id"] == "alice"


def test_replacing_with_the_same_fact_or_a_bad_valid_from_is_a_422(alice_api, lisbon):
    same = alice_api.post("/api/memories", {"text": "lives in  LISBON", "replaces": lisbon.memory_id})
    assert "says the same" in assert_error(same, 422)["message"]
    future = {"text": "Lives in Porto", "replaces": lisbon.memory_id, "valid_from": ago(-1)}
    assert "future" in assert_error(alice_api.post("/api/memories", future), 422)["message"]
    early = {"text": "Lives in Porto", "replaces": lisbon.memory_id, "valid_from": ago(25)}
    assert (
        "before this memory became true"
        in assert_error(alice_api.post("/api/memories", early), 422)["message"]
    )
    naive = {"text": "Lives in Porto", "replaces": lisbon.memory_id, "valid_from": "2026-03-01T09:00:00"}
    assert assert_error(alice_api.post("/api/memories", naive), 422)["detail"][0]["loc"][-1] == "valid_from"
    alone = assert_error(
        alice_api.post("/api/memories", {"text": "Lives in Porto", "valid_from": ago(1)}), 422
    )
    assert "replaces" in alone["message"]
    assert Memory.objects.get().is_current


def test_a_replacing_fact_already_remembered_answers_that_memory_with_a_200(alice, alice_api, lisbon):
    porto = memory_create(user_pk=alice.pk, text="Lives in Porto", actor=PERSON)[0]
    response = alice_api.post("/api/memories", {"text": "Lives in Porto", "replaces": lisbon.memory_id})
    assert response.status_code == 200, response.content
    assert response.json()["memory_id"] == porto.memory_id
    assert response.json()["supersedes"] == [lisbon.memory_id]
    assert Memory.objects.current().count() == 1


def test_given_topics_replace_the_old_ones_and_an_empty_list_clears_them(alice_api, lisbon):
    body = {"text": "Lives in Porto", "replaces": lisbon.memory_id, "topics": []}
    assert alice_api.post("/api/memories", body).json()["topics"] == []


def test_a_memory_expires_and_its_revert_makes_it_current_again(alice_api, lisbon):
    path = f"/api/memories/{lisbon.memory_id}"
    response = alice_api.post(f"{path}/expire")
    assert response.status_code == 200, response.content
    assert response.json()["valid_to"] is not None and response.json()["superseded_by"] is None
    assert texts(alice_api.get("/api/memories")) == []
    assert texts(alice_api.get("/api/memories", as_of=ago(5))) == ["Lives in Lisbon"]
    assert "no longer current" in assert_error(alice_api.post(f"{path}/expire"), 409)["message"]

    change = alice_api.get(f"{path}/history").json()[0]
    assert (change["action"], change["actor"]) == ("expire", "api")
    reverted = alice_api.post(f"{path}/revert/{change['change_id']}")
    assert reverted.status_code == 200, reverted.content
    assert reverted.json()["valid_to"] is None
    assert texts(alice_api.get("/api/memories")) == ["Lives in Lisbon"]


def test_an_expiry_takes_a_valid_to_or_no_body_at_all(alice_api, lisbon):
    when = ago(3)
    response = alice_api.post(f"/api/memories/{lisbon.memory_id}/expire", {"valid_to": when})
    assert response.status_code == 200, response.content
    assert Memory.objects.get().valid_to.isoformat() == when

    other = memory_create(user_pk=lisbon.user_id, text="Owns a bike", actor=PERSON)[0]
    bare = alice_api.client.generic(
        "POST", f"/api/memories/{other.memory_id}/expire", headers=alice_api.headers
    )
    assert bare.status_code == 200, bare.content


def test_an_expiry_refuses_bad_input(alice_api, bob_api, lisbon):
    path = f"/api/memories/{lisbon.memory_id}/expire"
    assert "future" in assert_error(alice_api.post(path, {"valid_to": ago(-1)}), 422)["message"]
    assert (
        "before this memory became true"
        in assert_error(alice_api.post(path, {"valid_to": ago(25)}), 422)["message"]
    )
    assert_error(alice_api.post(path, {"valid_to": "soon"}), 422)
    assert_error(alice_api.post(path, {"valid_to": "2026-03-01T09:00:00"}), 422)
    assert_error(alice_api.post(path, {"valid_to": 1700000000}), 422)
    assert_error(alice_api.post(path, {"until": ago(1)}), 422)
    assert_error(bob_api.post(path), 404)
    assert_error(alice_api.post("/api/memories/mem_missing/expire"), 404)
    assert Memory.objects.get().is_current


def test_a_deleted_memory_cannot_expire(alice_api, lisbon):
    alice_api.delete(f"/api/memories/{lisbon.memory_id}")
    assert_error(alice_api.post(f"/api/memories/{lisbon.memory_id}/expire"), 404)


def test_reverting_a_supersession_brings_the_old_fact_back_and_removes_the_new(alice_api, lisbon, porto):
    change = alice_api.get(f"/api/memories/{lisbon.memory_id}/history").json()[0]
    response = alice_api.post(f"/api/memories/{lisbon.memory_id}/revert/{change['change_id']}")
    assert response.status_code == 200, response.content
    assert (response.json()["valid_to"], response.json()["superseded_by"]) == (None, None)
    assert texts(alice_api.get("/api/memories")) == ["Lives in Lisbon"]
    assert_error(alice_api.get(f"/api/memories/{porto['memory_id']}"), 404)
    # undone once: a second revert of the same change is a conflict, not a second undo
    assert_error(alice_api.post(f"/api/memories/{lisbon.memory_id}/revert/{change['change_id']}"), 409)


def test_patch_still_refuses_fields_it_does_not_know(alice_api, lisbon):
    path = f"/api/memories/{lisbon.memory_id}"
    for body in ({"valid_to": ago(1)}, {"valid_from": ago(1)}, {"superseded_by": None}, {"replaces": "x"}):
        assert_error(alice_api.patch(path, body), 422)
    assert Memory.objects.get().is_current


def test_a_past_facts_wording_can_still_be_corrected(alice_api, lisbon, porto):
    response = alice_api.patch(f"/api/memories/{lisbon.memory_id}", {"text": "Lived in Lisbon"})
    assert response.status_code == 200, response.content
    assert response.json()["superseded_by"] == porto["memory_id"]


def test_a_deleted_old_fact_is_not_listed_among_what_a_memory_replaced(alice_api, lisbon, porto):
    alice_api.delete(f"/api/memories/{lisbon.memory_id}")
    assert alice_api.get(f"/api/memories/{porto['memory_id']}").json()["supersedes"] == []
    assert alice_api.get("/api/memories").json()["items"][0]["supersedes"] == []


def test_the_list_reads_supersessions_in_a_fixed_number_of_queries(
    alice, alice_api, lisbon, porto, django_assert_max_num_queries
):
    for n in range(5):
        old = memory_create(user_pk=alice.pk, text=f"Has {n} plants", actor=PERSON)[0]
        alice_api.post("/api/memories", {"text": f"Has {n + 10} plants", "replaces": old.memory_id})
    with django_assert_max_num_queries(12):
        items = alice_api.get("/api/memories", include_superseded="true", limit=100).json()["items"]
    assert len(items) == 12


def test_a_misspelt_or_null_replaces_is_refused_rather_than_storing_a_second_fact(alice_api, lisbon):
    for body in (
        {"text": "Lives in Porto", "replace": lisbon.memory_id},
        {"text": "Lives in Porto", "replaces": None},
        {"text": "Lives in Porto", "replaces": lisbon.memory_id, "valid_from": None},
    ):
        assert_error(alice_api.post("/api/memories", body), 422)
    assert Memory.objects.get().is_current


def test_the_schema_says_valid_from_comes_with_replaces(anon_api):
    schema = anon_api.get("/api/openapi.json").json()["components"]["schemas"]
    assert schema["MemoryIn"]["dependentRequired"] == {"valid_from": ["replaces"]}
    assert schema["MemoryIn"]["additionalProperties"] is False
    assert schema["MemoryPatchIn"]["additionalProperties"] is False
