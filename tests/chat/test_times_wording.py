"""Times read the same everywhere: a moment ago is "just now", as in the chat, never "0 minutes ago"."""

from __future__ import annotations

import pytest

from memory_app import services
from memory_app.models import MemoryChange
from tests.conftest import PASSWORD


@pytest.mark.django_db
def test_a_memory_updated_a_moment_ago_reads_just_now(client, alice):
    services.memory_create(user_pk=alice.pk, text="Likes tea", actor=MemoryChange.Actor.PERSON)
    client.login(username="alice", password=PASSWORD)
    page = client.get("/memories/").content.decode()
    assert "updated just now" in page
    assert "0\xa0minutes ago" not in page and "0 minutes ago" not in page
