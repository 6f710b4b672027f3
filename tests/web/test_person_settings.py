"""A person's settings: the service that saves them (limits, only the fields given, the operator's
defaults) and the /settings/ page (a plain post, and htmx's with the form alone)."""

from __future__ import annotations

import logging
import re

import pytest
from django.test import override_settings

from agentapp.errors import InvalidInput
from sessions_app.models import INSTRUCTIONS_LIMIT, PersonSettings
from sessions_app.selectors import person_settings
from sessions_app.services import person_settings_save

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "settings-form"}
FORM_OFF = {"use_memories": "off", "learn_memories": "off", "review_memories": "off"}


def _choices(user) -> tuple:
    chosen = person_settings(user_pk=user.pk)
    return (
        chosen.about_you,
        chosen.how_to_respond,
        chosen.use_memories,
        chosen.learn_memories,
        chosen.review_memories,
    )


# --- the service ---------------------------------------------------------------------------------


@override_settings(
    AGENT_DEFAULT_USE_MEMORIES=False, AGENT_DEFAULT_LEARN_MEMORIES=True, AGENT_DEFAULT_REVIEW_MEMORIES=True
)
def test_a_first_save_starts_from_the_operators_defaults(alice):
    assert not PersonSettings.objects.exists()
    assert _choices(alice) == ("", "", False, True, True)

    person_settings_save(user=alice, changes={"about_you": "I teach maths."})

    row = PersonSettings.objects.get(user=alice)
    assert (row.about_you, row.use_memories, row.learn_memories, row.review_memories) == (
        "I teach maths.",
        False,
        True,
        True,
    )


def test_choices_once_saved_hold_whatever_the_defaults_become(alice, bob):
    person_settings_save(user=alice, changes={"how_to_respond": "Be brief."})

    with override_settings(AGENT_DEFAULT_USE_MEMORIES=False, AGENT_DEFAULT_REVIEW_MEMORIES=True):
        assert _choices(alice) == ("", "Be brief.", True, True, False)
        assert _choices(bob) == ("", "", False, True, True)  # no row: the defaults as they are now


def test_a_save_changes_only_the_fields_it_names(alice):
    person_settings_save(user=alice, changes={"about_you": "I live in Lyon.", "how_to_respond": "In French."})
    person_settings_save(user=alice, changes={"use_memories": False})
    person_settings_save(user=alice, changes={"how_to_respond": ""})

    assert _choices(alice) == ("I live in Lyon.", "", False, True, False)
    assert PersonSettings.objects.count() == 1


def test_instructions_are_kept_stripped_and_the_limit_counts_what_is_kept(alice):
    at_limit = "x" * INSTRUCTIONS_LIMIT
    chosen = person_settings_save(user=alice, changes={"about_you": f"\n  {at_limit}  \n"})
    assert chosen.about_you == at_limit

    with pytest.raises(InvalidInput) as refused:
        person_settings_save(user=alice, changes={"how_to_respond": "y" * (INSTRUCTIONS_LIMIT + 1)})

    assert "How to respond (how_to_respond)" in refused.value.message
    assert f"at most {INSTRUCTIONS_LIMIT} characters" in refused.value.message
    assert refused.value.detail["fields"].keys() == {"how_to_respond"}
    assert _choices(alice)[1] == ""


def test_a_refused_field_leaves_every_field_as_it_was(alice):
    with pytest.raises(InvalidInput) as refused:
        person_settings_save(
            user=alice,
            changes={
                "use_memories": False,
                "about_you": "z" * (INSTRUCTIONS_LIMIT + 5),
                "how_to_respond": "ok",
            },
        )

    assert refused.value.detail["fields"].keys() == {"about_you"}
    assert "5 too many" in refused.value.message
    assert not PersonSettings.objects.exists()


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"])
def test_text_that_cannot_be_stored_is_refused_clearly(alice, text):
    with pytest.raises(
        InvalidInput,
        match=re.escape("About you (about_you) must not contain NUL characters or lone surrogates"),
    ):
        person_settings_save(user=alice, changes={"about_you": text})
    assert not PersonSettings.objects.exists()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"use_memory": False}, "unknown setting: use_memory"),
        ({"learn_memories": "yes"}, "Learn new memories automatically (learn_memories) is on or off"),
        ({"learn_memories": 1}, "is on or off"),
        ({"about_you": 3}, "About you (about_you) must be text"),
    ],
)
def test_an_unknown_setting_or_a_value_of_another_type_is_refused(alice, changes, says):
    with pytest.raises(InvalidInput, match=re.escape(says)):
        person_settings_save(user=alice, changes=changes)
    assert not PersonSettings.objects.exists()


def test_no_change_at_all_writes_nothing(alice):
    chosen = person_settings_save(user=alice, changes={})
    assert chosen.pk is None and chosen.use_memories is True
    assert not PersonSettings.objects.exists()


def test_a_change_made_for_someone_else_is_audited(alice, staff, caplog):
    with caplog.at_level(logging.WARNING, logger="agentapp.audit"):
        person_settings_save(user=alice, changes={"learn_memories": False}, by=staff)
        person_settings_save(user=alice, changes={"learn_memories": True}, by=alice)

    [record] = [r for r in caplog.records if r.name == "agentapp.audit"]
    assert record.getMessage() == "ops changed the settings of alice: ['learn_memories']"


# --- the page ------------------------------------------------------------------------------------


def test_the_page_is_linked_from_the_header_and_shows_the_defaults(client, alice):
    client.force_login(alice)
    body = client.get("/memories/").content.decode()
    assert 'href="/settings/"' in body

    body = client.get("/settings/").content.decode()
    assert "<h1>Your settings</h1>" in body
    for heading in ("About you", "How to respond", "Memory"):
        assert heading in body
    assert f"0 of {INSTRUCTIONS_LIMIT} characters" in body
    assert 'id="use_memories" name="use_memories" value="on" checked' in body
    assert 'id="review_memories" name="review_memories" value="on" aria-describedby' in body
    assert "Saved." not in body


def test_a_plain_post_saves_then_the_page_says_so_once(client, alice):
    client.force_login(alice)
    form = {"about_you": "  I am a nurse.  ", "how_to_respond": "Short answers.", **FORM_OFF}
    form["use_memories"] = ["off", "on"]  # hidden "off", then the checked box's "on"

    response = client.post("/settings/", form)

    assert response.status_code == 303 and response["Location"] == "/settings/"
    assert _choices(alice) == ("I am a nurse.", "Short answers.", True, False, False)
    body = client.get("/settings/").content.decode()
    assert "<strong>Saved.</strong>" in body and ">I am a nurse.</textarea>" in body
    assert "Saved." not in client.get("/settings/").content.decode()


def test_an_htmx_post_answers_the_form_alone_with_a_saved_status(client, alice):
    client.force_login(alice)
    response = client.post("/settings/", {"how_to_respond": "Use bullet points.", **FORM_OFF}, headers=HTMX)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<form method="post" action="/settings/" id="settings-form"')
    assert '<p role="status" id="settings-status" class="settings-status"><strong>Saved.</strong>' in body
    assert ">Use bullet points.</textarea>" in body
    assert _choices(alice) == ("", "Use bullet points.", False, False, False)


def test_past_the_limit_the_form_comes_back_with_the_reason_next_to_the_field(client, alice):
    client.force_login(alice)
    person_settings_save(user=alice, changes={"about_you": "Kept."})
    too_long = "w" * (INSTRUCTIONS_LIMIT + 12)

    response = client.post("/settings/", {"about_you": too_long, **FORM_OFF}, headers=HTMX)

    assert response.status_code == 422
    body = response.content.decode()
    assert f">{too_long}</textarea>" in body  # what was typed is not lost
    assert 'aria-describedby="about_you-help about_you-count about_you-error" aria-invalid="true"' in body
    assert (
        f'<p class="error field-error" id="about_you-error">About you (about_you) is at most '
        f"{INSTRUCTIONS_LIMIT} characters; this is {INSTRUCTIONS_LIMIT + 12}, 12 too many.</p>"
    ) in body
    assert "Not saved: see the reason above." in body
    assert f"{INSTRUCTIONS_LIMIT + 12} of {INSTRUCTIONS_LIMIT} characters: 12 too many</p>" in body
    assert _choices(alice) == ("Kept.", "", True, True, False)


def test_a_plain_post_past_the_limit_answers_the_whole_page_with_the_reason(client, alice):
    client.force_login(alice)
    response = client.post("/settings/", {"how_to_respond": "v" * (INSTRUCTIONS_LIMIT + 1)})

    assert response.status_code == 422
    body = response.content.decode()
    assert "<h1>Your settings</h1>" in body and 'id="how_to_respond-error"' in body
    assert not PersonSettings.objects.exists()


def test_a_post_changes_only_the_fields_it_holds(client, alice):
    person_settings_save(user=alice, changes={"about_you": "I run.", "review_memories": True})
    client.force_login(alice)

    client.post("/settings/", {"learn_memories": "off"}, headers=HTMX)

    assert _choices(alice) == ("I run.", "", True, False, True)


def test_each_person_sees_and_changes_only_their_own_settings(client, alice, bob):
    person_settings_save(user=alice, changes={"about_you": "Alice's secret."})
    client.force_login(bob)

    assert "Alice's secret." not in client.get("/settings/").content.decode()
    client.post("/settings/", {"about_you": "Bob here."}, headers=HTMX)

    assert _choices(alice)[0] == "Alice's secret." and _choices(bob)[0] == "Bob here."
