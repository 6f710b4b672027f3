"""The settings page's list of the person's linked Slack identities, each with Unlink."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User

from ..selectors import identities_linked

register = template.Library()


@register.inclusion_tag("slack_app/_links.html")
def slack_links(user: User) -> dict[str, Any]:
    return {"identities": list(identities_linked(user=user))}
