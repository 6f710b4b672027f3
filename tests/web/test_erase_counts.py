"""Erase answers with the numbers the data page showed: the memories the person sees, and, named
apart, the ones they had deleted before (kept for their history until now)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agentapp.accounts.services import user_data_counts, user_data_erase
from memory_app.services import memory_create, memory_delete
from tests import factories

pytestmark = pytest.mark.django_db


def _memories(alice, live: int, deleted: int) -> None:
    for n in range(live):
        memory_create(user_pk=alice.pk, text=f"Alice likes thing {n}", actor="person")
    for n in range(deleted):
        memory, _ = memory_create(user_pk=alice.pk, text=f"Alice once liked {n}", actor="person")
        memory_delete(memory=memory, actor="person", actor_user=alice)


def test_erase_counts_the_memories_the_page_counted_and_names_the_deleted_ones_apart(alice):
    factories.run(factories.session(alice, "s1"), "hello")
    _memories(alice, live=6, deleted=3)
    shown = user_data_counts(user=alice)
    erased = user_data_erase(user=alice)
    assert shown["memories"] == 6
    assert {k: erased[k] for k in shown} == shown
    assert erased["deleted_memories"] == 3


def test_the_page_after_an_erase_says_the_same_number_and_what_else_went(client, alice):
    _memories(alice, live=6, deleted=3)
    client.force_login(alice)
    before = client.get(reverse("accounts:data")).content.decode()
    assert 'id="count-memories">6<' in before
    client.post(reverse("accounts:data-erase"), {"confirm": "alice"})
    body = " ".join(client.get(reverse("accounts:data")).content.decode().split())
    assert "6 memories" in body and "9 memories" not in body
    assert "3 memories you had deleted" in body
