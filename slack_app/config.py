"""Slack's configuration, read from settings (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN, SLACK_API_URL)."""

from __future__ import annotations

from django.conf import settings


def signing_secret() -> str:
    return settings.SLACK_SIGNING_SECRET


def bot_token() -> str:
    return settings.SLACK_BOT_TOKEN


def api_url() -> str:
    """Slack's Web API, or the loopback fake of the tests; with the trailing slash the SDK expects."""
    url = settings.SLACK_API_URL or "https://slack.com/api/"
    return url if url.endswith("/") else f"{url}/"


def configured() -> bool:
    return bool(signing_secret() and bot_token())
