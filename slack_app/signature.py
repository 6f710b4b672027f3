"""Slack's request signature: an HMAC of the timestamp and the body with the signing secret, the
timestamp no older than five minutes (the SDK's SignatureVerifier checks both)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from slack_sdk.signature import SignatureVerifier

from .config import signing_secret


def request_verified(*, body: bytes, headers: Mapping[str, str]) -> bool:
    """Whether Slack signed this request just now. Without a signing secret, nothing is."""
    secret = signing_secret()
    if not secret.strip():
        return False
    timestamp = headers.get("X-Slack-Request-Timestamp") or ""
    signature = headers.get("X-Slack-Signature") or ""
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return False
    try:
        return SignatureVerifier(secret).is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:  # Slack sends UTF-8; anything else is not Slack
        return False
