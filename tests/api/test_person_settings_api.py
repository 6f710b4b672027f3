"""GET/PATCH /api/users/{user_id}/settings: the settings page's twin, for the person's own key or a
service key acting for them; another person's key finds no one."""

from __future__ import annotations

import pytest
from django.test import override_settings

from sessions_app.models import INSTRUCTIONS_LIMIT, PersonSettings
from sessions_app.services import person_settings_save

from .conftest import assert_error

pytestmark = pytest.mark.django_db

URL = "/api/users/alice/settings"


@override_settings(AGENT_DEFAULT_LEARN_MEMORIES=False)
def test_a_person_reads_the_operators_defaults_until_they_save(alice_api, alice):
    body = alice_api.get(URL).json()

    assert body == {
        "user_id": "alice",
        "about_you": "",
        "how_to_respond": "",
        "use_memories": True,
        "learn_memories": False,
        "review_memories": False,
        "updated_at": None,
    }
    assert not PersonSettings.objects.exists()


def test_a_patch_changes_only_the_fields_it_holds(alice_api, alice):
    person_settings_save(user=alice, changes={"about_you": "I am a pilot."})

    response = alice_api.patch(URL, {"how_to_respond": "  In Spanish, please.  ", "review_memories": True})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["about_you"] == "I am a pilot." and body["how_to_respond"] == "In Spanish, please."
    assert (body["use_memories"], body["learn_memories"], body["review_memories"]) == (True, True, True)
    assert body["updated_at"] is not None
    assert alice_api.get(URL).json() == body


def test_an_empty_patch_changes_nothing(alice_api, alice):
    assert alice_api.patch(URL, {}).json()["updated_at"] is None
    assert not PersonSettings.objects.exists()


def test_a_service_key_reads_and_changes_a_persons_settings(service_api, alice):
    assert service_api.patch(URL, {"use_memories": False}).json()["use_memories"] is False
    assert service_api.get(URL).json()["use_memories"] is False
    assert PersonSettings.objects.get(user=alice).use_memories is False
    assert_error(service_api.get("/api/users/nobody/settings"), 404)


def test_another_persons_key_finds_no_one(bob_api, anon_api, alice):
    person_settings_save(user=alice, changes={"about_you": "Private."})

    assert_error(bob_api.get(URL), 404)
    assert_error(bob_api.patch(URL, {"about_you": "Hacked."}), 404)
    assert_error(anon_api.get(URL), 401)
    assert_error(anon_api.patch(URL, {"about_you": "Hacked."}), 401)
    assert PersonSettings.objects.get(user=alice).about_you == "Private."


def test_past_the_limit_is_a_422_naming_the_field(alice_api, alice):
    body = assert_error(alice_api.patch(URL, {"about_you": "x" * (INSTRUCTIONS_LIMIT + 1)}), 422)

    assert body["detail"][0]["loc"] == ["body", "payload", "about_you"]
    assert str(INSTRUCTIONS_LIMIT) in body["detail"][0]["msg"]
    assert not PersonSettings.objects.exists()
    assert alice_api.patch(URL, {"about_you": "x" * INSTRUCTIONS_LIMIT}).status_code == 200


@pytest.mark.parametrize(
    "payload",
    [
        {"use_memory": False},  # misspelt: refused, never dropped
        {"use_memories": None},  # absent or a value, never null
        {"use_memories": 0},  # strictly a boolean
        {"about_you": None},
        {"about_you": "a\u0000b"},
        {"user_id": "bob"},
    ],
    ids=["unknown field", "null boolean", "number for a boolean", "null text", "NUL", "user_id in the body"],
)
def test_an_unknown_field_or_a_bad_value_is_a_422(alice_api, alice, payload):
    assert_error(alice_api.patch(URL, payload), 422)
    assert not PersonSettings.objects.exists()


def test_a_lone_surrogate_is_a_422(alice_api, alice):
    response = alice_api.client.patch(
        URL,
        data=b'{"how_to_respond": "a\\ud800b"}',
        content_type="application/json",
        headers=alice_api.headers,
    )
    assert_error(response, 422)
    assert not PersonSettings.objects.exists()
