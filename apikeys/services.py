"""Creating, revoking and checking API keys. The plaintext leaves apikey_create once and is never stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from agentapp.errors import InvalidInput

from . import key_cache
from .models import ApiKey

TOKEN_PREFIX = "agk_"
PREFIX_CHARS = len(TOKEN_PREFIX) + 8  # what is shown in lists: enough to tell keys apart
LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write per key per minute
MAX_TOKEN_CHARS = 200


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def apikey_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key for `user`; returns (key, plaintext). Show the plaintext once: it cannot be recovered."""
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("an API key needs a name")
    if len(name) > 100:
        raise InvalidInput("the name is longer than 100 characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, name=name, prefix=token[:PREFIX_CHARS], key_hash=_hash(token))
    return key, token


def apikey_revoke(*, apikey: ApiKey) -> ApiKey:
    if apikey.revoked_at is None:
        apikey.revoked_at = timezone.now()
        apikey.save(update_fields=["revoked_at"])
    return apikey


def apikey_authenticate(*, token: str) -> ApiKey | None:
    """The active key `token` belongs to (with its user), or None. A key checked a moment ago is
    answered from this process's cache (key_cache.py), which a revocation empties at once."""
    if not token or len(token) > MAX_TOKEN_CHARS or not token.startswith(TOKEN_PREFIX):
        return None
    digest = _hash(token)
    if (key := key_cache.cached(digest)) is not None:
        if _touch(key):
            key_cache.note_use(digest, key.last_used_at)
        return key
    born = key_cache.generation()
    candidates = ApiKey.objects.select_related("user").filter(
        prefix=token[:PREFIX_CHARS], revoked_at__isnull=True, user__is_active=True
    )
    for key in candidates:
        if hmac.compare_digest(key.key_hash, digest):
            _touch(key)
            key_cache.remember(digest, key, born)
            return key
    return None


def _touch(key: ApiKey) -> bool:
    """Whether `last_used_at` was written (at most once a minute a key)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return False
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return True
