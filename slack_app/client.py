"""Slack's Web API client (the SDK's), pointed at SLACK_API_URL."""

from __future__ import annotations

from slack_sdk import WebClient

from .config import api_url, bot_token

TIMEOUT_SECONDS = 10


def web_client() -> WebClient:
    return WebClient(token=bot_token(), base_url=api_url(), timeout=TIMEOUT_SECONDS)
