from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """A person's own data and preferences."""

    name = "agentapp.accounts"
    label = "accounts"
    verbose_name = "Accounts"
