"""One live memory per person and text, held by the database: two identical creates at once (two web
workers) store one, and the second gets the first's memory as its answer."""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import IntegrityError, connection, connections, transaction

from memory_app import services
from memory_app.models import Memory

WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def _waiting_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(WAITING_ON_A_LOCK)
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_identical_creates_at_once_store_one_and_the_second_gets_the_first(alice):
    """Was: both stored (each checked before the other had committed)."""
    inserted, release = threading.Event(), threading.Event()
    second: dict = {}

    def first_worker() -> None:
        try:
            with transaction.atomic():
                services.memory_create(user_pk=alice.pk, text="Likes green tea", actor="person")
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second_worker() -> None:
        try:
            second["answer"] = services.memory_create(user_pk=alice.pk, text="likes  GREEN tea", actor="api")
        except Exception as exc:  # reported below
            second["error"] = exc
        finally:
            connections.close_all()

    one = threading.Thread(target=first_worker)
    one.start()
    assert inserted.wait(10)
    two = threading.Thread(target=second_worker)
    two.start()
    deadline = time.monotonic() + 5
    while _waiting_backends() == 0 and two.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)  # until the second insert waits on the first's uncommitted row
    release.set()
    one.join(10)
    two.join(10)

    assert "error" not in second, second.get("error")
    memory, created = second["answer"]
    live = Memory.objects.filter(user=alice, deleted_at__isnull=True)
    assert created is False and list(live) == [memory] and memory.text == "Likes green tea"


@pytest.mark.django_db
def test_the_database_itself_refuses_a_second_live_copy(alice):
    services.memory_create(user_pk=alice.pk, text="Likes tea", actor="person")

    with pytest.raises(IntegrityError), transaction.atomic():
        Memory.objects.create(user=alice, text="likes tea", normalized_text="likes tea")


@pytest.mark.django_db
def test_a_deleted_copy_does_not_count(alice):
    memory, _ = services.memory_create(user_pk=alice.pk, text="Likes tea", actor="person")
    services.memory_delete(memory=memory, actor="person")

    again, created = services.memory_create(user_pk=alice.pk, text="Likes tea", actor="person")

    assert created and again.pk != memory.pk


@pytest.mark.django_db
def test_a_long_memory_in_any_script_is_stored(alice):
    """Was: 2,000 CJK characters overflowed the btree index on the text (a database error)."""
    rnd = random.Random(7)
    text = "".join(chr(rnd.randrange(0x4E00, 0x9FFF)) for _ in range(services.MAX_MEMORY_CHARS))

    memory, created = services.memory_create(user_pk=alice.pk, text=text, actor="person")
    again, created_again = services.memory_create(user_pk=alice.pk, text=text, actor="person")

    assert created and not created_again and again.pk == memory.pk
