"""When things happened, in words: a message's relative time and the sidebar's day groups.

Pure functions of an instant, `now` and a time zone (no Django, no database), so the day
boundaries can be tested exactly. The chat uses Django's current time zone: the person's own
(agentapp/platform/local_time.py), else `TIME_ZONE`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, tzinfo
from typing import TypeVar

T = TypeVar("T")

TODAY, YESTERDAY, WEEK, MONTH = "Today", "Yesterday", "Previous 7 days", "Previous 30 days"


def _clock(local: datetime) -> str:
    return local.strftime("%H:%M")


def relative_time(when: datetime, *, now: datetime, tz: tzinfo) -> str:
    """ "just now", "5 min ago", "today 09:12", "yesterday 14:03", "3 Nov 14:03", "3 Nov 2025"."""
    seconds = (now - when).total_seconds()
    if seconds < 60:  # a clock a little ahead of ours counts as now
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    local, today = when.astimezone(tz), now.astimezone(tz).date()
    days = (today - local.date()).days
    if days == 0:
        return f"today {_clock(local)}"
    if days == 1:
        return f"yesterday {_clock(local)}"
    if local.year == today.year:
        return f"{local.day} {local:%b} {_clock(local)}"
    return f"{local.day} {local:%b %Y}"


def exact_time(when: datetime, *, tz: tzinfo) -> str:
    """The full local date and time with the zone's name: "Thursday 3 December 2026, 14:03:07 UTC"."""
    local = when.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M:%S} {local.tzname() or ''}".rstrip()


def day_group(day: date, *, today: date) -> tuple[int, str]:
    """The sidebar group of a local day, with a key that sorts the groups newest first."""
    days = (today - day).days
    if days <= 0:  # today, or a clock ahead of ours
        return (0, TODAY)
    if days == 1:
        return (1, YESTERDAY)
    if days <= 7:
        return (2, WEEK)
    if days <= 30:
        return (3, MONTH)
    # Months after the fixed groups, the newest first: a larger rank is older.
    return (4 + (today.year - day.year) * 12 + today.month - day.month, f"{day:%B %Y}")


def group_by_day(
    items: Iterable[T], *, when: Callable[[T], datetime], now: datetime, tz: tzinfo
) -> list[tuple[str, list[T]]]:
    """`items` in the sidebar's groups (Today, Yesterday, Previous 7 days, Previous 30 days, then
    each month), in that order; within a group the items keep their order."""
    today = now.astimezone(tz).date()
    groups: dict[tuple[int, str], list[T]] = {}
    for item in items:
        groups.setdefault(day_group(when(item).astimezone(tz).date(), today=today), []).append(item)
    return [(label, members) for (_, label), members in sorted(groups.items(), key=lambda g: g[0][0])]
