"""Message length, request size and the per-user rate limit on runs: each a clear 4xx, never a 500."""

from __future__ import annotations

import json
import threading
import uuid

import httpx
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from agentapp.errors import RateLimited
from apikeys.services import apikey_create
from sessions_app.models import Run
from sessions_app.ratelimit import run_rate_limit_check
from sessions_app.services import MAX_MESSAGE_CHARS

from .conftest import World

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


def _browser(world: World, user=None) -> Client:
    client = Client()
    client.force_login(user or world.alice)
    return client


def _api(world: World, body: dict | str, key: str = "alice_key"):
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"Authorization": f"Bearer {world.tokens[key]}"}
    return Client().post("/api/runs", data=data, content_type="application/json", headers=headers)


def _send(client: Client, world: World, text: str = "hi", **headers):
    return client.post(f"/chats/{world.session.session_id}/messages/", {"message": text}, headers=headers)


def _assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == {"message", "detail"} and body["message"]
    return body


# --- message length -----------------------------------------------------------------------
def test_a_chat_message_over_the_length_limit_is_refused_with_422(world):
    runs_before = Run.objects.count()
    response = _send(_browser(world), world, "x" * (MAX_MESSAGE_CHARS + 1), **HTMX)
    assert response.status_code == 422
    assert f"longer than {MAX_MESSAGE_CHARS}" in response.content.decode()
    assert Run.objects.count() == runs_before


def test_a_message_at_the_length_limit_is_accepted(world):
    assert _send(_browser(world), world, "x" * MAX_MESSAGE_CHARS, **HTMX).status_code == 200


def test_an_api_run_over_the_length_limit_is_refused_with_422(world):
    body = _assert_error_shape(_api(world, {"message": "x" * (MAX_MESSAGE_CHARS + 1)}), 422)
    assert body["detail"][0]["loc"][-1] == "message"


# --- request size ---------------------------------------------------------------------------
def test_an_oversized_form_post_is_refused_with_413_not_a_500(world):
    response = _send(_browser(world), world, "x" * (MIB + 10))  # multipart, as a browser's form
    assert response.status_code == 413
    assert "too large" in response.content.decode()


def test_an_oversized_urlencoded_post_is_refused_with_413(world):
    client = _browser(world)
    body = "message=" + "x" * (MIB + 10)
    url = f"/chats/{world.session.session_id}/messages/"
    response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413


def test_an_oversized_api_body_is_refused_with_413_in_the_error_shape(world):
    body = _assert_error_shape(_api(world, {"message": "x" * (MIB + 10)}), 413)
    assert body["detail"] == {"max_bytes": MIB}


def test_the_size_limit_follows_the_setting(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    _assert_error_shape(_api(world, {"message": "x" * 2_100}), 413)
    assert _send(_browser(world), world, "x" * 2_100).status_code == 413
    assert _send(_browser(world), world, "x" * 1_000).status_code == 302


def test_an_uploaded_file_is_bounded_by_its_own_view_not_by_the_body_limit(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    items = [{"memory": f"fact number {i}", "topics": []} for i in range(200)]
    upload = json.dumps({"memories": items}).encode()
    assert len(upload) > 2_000
    response = _browser(world).post(
        "/memories/import/", {"file": SimpleUploadedFile("m.json", upload, "application/json")}
    )
    assert response.status_code != 413
    assert response.status_code < 500


# --- the rate limit on runs -------------------------------------------------------------------
def test_the_chat_answers_429_with_retry_after_past_the_limit(world, settings):
    settings.AGENT_RUNS_PER_MINUTE = 2
    client = _browser(world)
    assert [_send(client, world, **HTMX).status_code for _ in range(2)] == [200, 200]
    runs_before = Run.objects.count()
    refused = _send(client, world, **HTMX)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61
    assert "Too many runs: at most 2 a minute" in refused.content.decode()  # shown in the composer
    assert Run.objects.count() == runs_before


def test_a_new_chat_counts_against_the_same_limit(world, settings):
    settings.AGENT_RUNS_PER_MINUTE = 1
    client = _browser(world)
    assert client.post("/chat/new/", {"message": "hi"}).status_code == 302
    refused = client.post("/chat/new/", {"message": "hi"})
    assert refused.status_code == 429 and refused["Retry-After"]


def test_the_api_answers_429_with_retry_after_and_the_error_shape(world, settings, replying):
    settings.AGENT_RUNS_PER_MINUTE = 2
    assert [_api(world, {"message": "hi"}).status_code for _ in range(2)] == [200, 200]
    refused = _api(world, {"message": "hi"})
    body = _assert_error_shape(refused, 429)
    assert body["detail"]["limit"] == 2
    assert int(refused["Retry-After"]) == body["detail"]["retry_after"]
    assert len(replying.requests) == 2  # the refused run never reached the model


def test_the_limit_is_per_person(world, settings):
    settings.AGENT_RUNS_PER_MINUTE = 1
    assert _send(_browser(world), world, **HTMX).status_code == 200
    assert _send(_browser(world), world, **HTMX).status_code == 429
    bob_client = _browser(world, world.bob)
    assert bob_client.post("/chat/new/", {"message": "hi"}).status_code == 302


def test_the_chat_and_the_api_share_one_count_per_person(world, settings, replying):
    settings.AGENT_RUNS_PER_MINUTE = 1
    assert _send(_browser(world), world, **HTMX).status_code == 200
    _assert_error_shape(_api(world, {"message": "hi"}), 429)


def test_a_service_key_is_counted_for_the_person_it_speaks_for(world, settings, replying):
    settings.AGENT_RUNS_PER_MINUTE = 1
    assert _api(world, {"message": "hi", "user_id": "alice"}, key="service_key").status_code == 200
    _assert_error_shape(_api(world, {"message": "hi", "user_id": "alice"}, key="service_key"), 429)
    assert _api(world, {"message": "hi", "user_id": "carol"}, key="service_key").status_code == 200


def test_an_operators_regenerate_in_the_browser_is_counted_for_the_person_whose_chat_it_is(
    world, settings, replying
):
    settings.AGENT_RUNS_PER_MINUTE = 1
    finished = Run.objects.filter(session=world.session, status=Run.Status.COMPLETED).first() or world.stopped
    staff = _browser(world, world.staff)
    assert staff.post(f"/chat/runs/{finished.run_id}/regenerate/", headers=HTMX).status_code == 200
    # alice's minute is spent; the operator's own is not.
    assert _send(_browser(world), world, HTTP_HX_REQUEST="true").status_code == 429
    run_rate_limit_check(user=world.staff)


def test_the_window_resets_after_a_minute(alice, settings):
    settings.AGENT_RUNS_PER_MINUTE = 1
    run_rate_limit_check(user=alice, now=600.0)
    with pytest.raises(RateLimited) as refused:
        run_rate_limit_check(user=alice, now=630.0)
    assert refused.value.retry_after == 31
    run_rate_limit_check(user=alice, now=660.0)


def test_zero_turns_the_limit_off(alice, settings):
    settings.AGENT_RUNS_PER_MINUTE = 0
    for _ in range(100):
        run_rate_limit_check(user=alice)


def test_concurrent_runs_on_redis_never_slip_past_the_limit(alice, settings):
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"security-test-{uuid.uuid4().hex}",  # never meets another test's keys
        }
    }
    settings.AGENT_RUNS_PER_MINUTE = 5
    outcomes: list[bool] = []
    barrier = threading.Barrier(20)

    def attempt() -> None:
        barrier.wait()
        try:
            run_rate_limit_check(user=alice, now=1_200.0)
            outcomes.append(True)
        except RateLimited:
            outcomes.append(False)

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(True) == 5 and outcomes.count(False) == 15


def test_a_regenerate_counts_against_the_limit(world, settings):
    settings.AGENT_RUNS_PER_MINUTE = 1
    client = _browser(world)
    assert client.post(f"/chat/runs/{world.stopped.run_id}/regenerate/", headers=HTMX).status_code == 200
    refused = client.post(f"/chat/runs/{world.stopped.run_id}/regenerate/", headers=HTMX)
    assert refused.status_code == 429 and refused["Retry-After"]


def test_under_the_asgi_server_an_oversized_body_is_a_413_too(asgi_server, alice):
    token = apikey_create(user=alice, name="k")[1]
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.post(f"{asgi_server}/api/runs", json={"message": "x" * (MIB + 10)}, headers=headers)
    assert response.status_code == 413
    assert set(response.json()) == {"message", "detail"}
    page = httpx.post(f"{asgi_server}/chat/new/", data={"message": "x" * (MIB + 10)})
    assert page.status_code == 413


def test_with_the_cache_away_runs_go_through_and_the_outage_is_logged(world, settings, replying, caplog):
    """Redis for the counters is down (nothing listens on its port): the limit steps aside, no 500."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.AGENT_RUNS_PER_MINUTE = 1

    statuses = [_api(world, {"message": "hi"}).status_code for _ in range(2)]
    chat = _send(_browser(world), world, **HTMX)

    assert statuses == [200, 200] and chat.status_code == 200
    assert len(replying.requests) == 2
    assert "run rate limit not applied: the cache is unavailable" in caplog.text


def _chunked_post(base: str, path: str, total: int, headers: dict[str, str]) -> tuple[int, int]:
    """POST `total` bytes with chunked encoding over a raw socket, as fast as the server takes them,
    while reading its answer. Returns (status, bytes the server took before it answered)."""
    import socket
    from urllib.parse import urlsplit

    url = urlsplit(base)
    conn = socket.create_connection((url.hostname, url.port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: {url.hostname}\r\nTransfer-Encoding: chunked\r\n"
    head += "Content-Type: application/json\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    conn.sendall((head + "\r\n").encode())
    answer: list[bytes] = []
    sent = 0

    def read() -> None:
        try:
            answer.append(conn.recv(65536))
        except OSError:
            answer.append(b"")

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    try:
        while sent < total and reader.is_alive():
            conn.sendall(frame)
            sent += len(chunk)
    except OSError:  # the server answered and closed: the rest is never read
        pass
    reader.join(timeout=30)
    conn.close()
    status_line = (answer[0] if answer else b"").split(b"\r\n", 1)[0]
    return int(status_line.split()[1]), sent


GIB = 1024 * MIB


@pytest.mark.parametrize("path", ["/chat/new/", "/login/"])
def test_a_gigabyte_chunked_anonymous_post_is_refused_before_it_is_spooled(asgi_server, path):
    """Was: the whole body was spooled to disk (929 MiB of 1 GB) before the 1 MiB limit refused it."""
    status, sent = _chunked_post(asgi_server, path, GIB, {})

    assert status == 413
    assert sent < 32 * MIB  # what the kernel's buffers took: the server stopped reading at 1 MiB


def test_an_anonymous_api_post_is_refused_before_its_body_is_read(asgi_server):
    status, sent = _chunked_post(asgi_server, "/api/runs", GIB, {})

    assert status == 401 and sent < 32 * MIB


def test_a_signed_in_gigabyte_api_post_is_refused_while_it_streams_in(asgi_server, alice):
    token = apikey_create(user=alice, name="k")[1]

    status, sent = _chunked_post(asgi_server, "/api/runs", GIB, {"Authorization": f"Bearer {token}"})

    assert status == 413 and sent < 32 * MIB
