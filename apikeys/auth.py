from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from .services import apikey_authenticate


class ApiKeyAuth(HttpBearer):
    """`Authorization: Bearer agk_...`; request.auth becomes the key's user, request.api_key the key."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        key = apikey_authenticate(token=token.strip())
        if key is None:
            return None
        request.api_key = key  # type: ignore[attr-defined]
        return key.user
