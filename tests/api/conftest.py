from __future__ import annotations

import pytest
from django.test import Client

from apikeys.services import apikey_create
from tests.fake_openai import Reply


class ApiClient:
    """Django's test client speaking JSON with a bearer key (or none: anonymous)."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, json=None, **params):
        kwargs = {"headers": self.headers}
        if json is not None:
            kwargs.update(data=json, content_type="application/json")
        elif params:
            kwargs["data"] = params
        return getattr(self.client, method)(path, **kwargs)

    def get(self, path: str, **params):
        return self._call("get", path, **params)

    def post(self, path: str, json=None):
        return self._call("post", path, json=json if json is not None else {})

    def patch(self, path: str, json=None):
        return self._call("patch", path, json=json if json is not None else {})

    def delete(self, path: str):
        return self._call("delete", path)


@pytest.fixture
def alice_api(alice) -> ApiClient:
    return ApiClient(apikey_create(user=alice, name="alice's key")[1])


@pytest.fixture
def bob_api(bob) -> ApiClient:
    return ApiClient(apikey_create(user=bob, name="bob's key")[1])


@pytest.fixture
def service_api(staff) -> ApiClient:
    return ApiClient(apikey_create(user=staff, name="product backend")[1])


@pytest.fixture
def anon_api() -> ApiClient:
    return ApiClient(None)


@pytest.fixture
def replying_model(app_model):
    """The app's agent on the loopback model, answering every request with a short text."""
    app_model.responder = lambda request: Reply(text="Noted.")
    return app_model


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"message", "detail"}
    assert isinstance(body["message"], str) and body["message"]
    return body
