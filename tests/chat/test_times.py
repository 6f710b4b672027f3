"""The chat's times in words: relative message times and the sidebar's day groups, at the edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sessions_app.chat.times import day_group, exact_time, group_by_day, relative_time

NOW = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # a Thursday
PARIS = ZoneInfo("Europe/Paris")  # UTC+1 in December


def test_a_message_of_the_last_minute_is_just_now_and_one_from_a_clock_ahead_too():
    assert relative_time(NOW - timedelta(seconds=59), now=NOW, tz=UTC) == "just now"
    assert relative_time(NOW + timedelta(seconds=5), now=NOW, tz=UTC) == "just now"


def test_a_message_of_the_last_hour_says_how_many_minutes_ago():
    assert relative_time(NOW - timedelta(minutes=1), now=NOW, tz=UTC) == "1 min ago"
    assert relative_time(NOW - timedelta(minutes=59, seconds=59), now=NOW, tz=UTC) == "59 min ago"


def test_an_older_message_says_today_yesterday_or_its_date():
    assert relative_time(NOW - timedelta(hours=2), now=NOW, tz=UTC) == "today 12:30"
    assert relative_time(datetime(2026, 12, 2, 14, 3, tzinfo=UTC), now=NOW, tz=UTC) == "yesterday 14:03"
    assert relative_time(datetime(2026, 11, 3, 9, 5, tzinfo=UTC), now=NOW, tz=UTC) == "3 Nov 09:05"
    assert relative_time(datetime(2025, 11, 3, 9, 5, tzinfo=UTC), now=NOW, tz=UTC) == "3 Nov 2025"


def test_relative_time_counts_days_in_the_given_time_zone():
    # 23:30 UTC on the 2nd is 00:30 on the 3rd in Paris: today there, yesterday in UTC.
    late = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert relative_time(late, now=NOW, tz=UTC) == "yesterday 23:30"
    assert relative_time(late, now=NOW, tz=PARIS) == "today 00:30"


def test_the_exact_time_is_the_full_local_date_and_time_with_the_zone():
    when = datetime(2026, 12, 3, 14, 3, 7, tzinfo=UTC)
    assert exact_time(when, tz=UTC) == "Thursday 3 December 2026, 14:03:07 UTC"
    assert exact_time(when, tz=PARIS) == "Thursday 3 December 2026, 15:03:07 CET"


def test_day_groups_at_their_boundaries():
    today = NOW.date()
    assert day_group(today, today=today)[1] == "Today"
    assert day_group(today + timedelta(days=1), today=today)[1] == "Today"
    assert day_group(today - timedelta(days=1), today=today)[1] == "Yesterday"
    assert day_group(today - timedelta(days=2), today=today)[1] == "Previous 7 days"
    assert day_group(today - timedelta(days=7), today=today)[1] == "Previous 7 days"
    assert day_group(today - timedelta(days=8), today=today)[1] == "Previous 30 days"
    assert day_group(today - timedelta(days=30), today=today)[1] == "Previous 30 days"
    assert day_group(today - timedelta(days=31), today=today)[1] == "November 2026"
    assert day_group(today.replace(year=2025), today=today)[1] == "December 2025"


def test_a_session_updated_exactly_at_midnight_is_of_the_day_that_begins():
    midnight = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    groups = group_by_day([midnight, midnight - timedelta(microseconds=1)], when=lambda t: t, now=NOW, tz=UTC)
    assert groups == [("Today", [midnight]), ("Yesterday", [midnight - timedelta(microseconds=1)])]


def test_groups_follow_the_time_zone_given():
    # Midnight in Paris is 23:00 UTC the day before.
    paris_midnight = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert group_by_day([paris_midnight], when=lambda t: t, now=NOW, tz=UTC)[0][0] == "Yesterday"
    assert group_by_day([paris_midnight], when=lambda t: t, now=NOW, tz=PARIS)[0][0] == "Today"


def test_groups_come_in_order_with_months_newest_first_and_keep_the_order_within():
    times = [
        datetime(2025, 6, 1, tzinfo=UTC),
        NOW - timedelta(minutes=5),
        datetime(2026, 10, 20, tzinfo=UTC),
        NOW - timedelta(days=1),
        NOW - timedelta(days=20),
        NOW - timedelta(days=3),
        NOW - timedelta(hours=1),
        datetime(2026, 10, 2, tzinfo=UTC),
    ]
    groups = group_by_day(times, when=lambda t: t, now=NOW, tz=UTC)
    assert [label for label, _ in groups] == [
        "Today",
        "Yesterday",
        "Previous 7 days",
        "Previous 30 days",
        "October 2026",
        "June 2025",
    ]
    assert groups[0][1] == [NOW - timedelta(minutes=5), NOW - timedelta(hours=1)]
    assert groups[4][1] == [datetime(2026, 10, 20, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)]


def test_no_sessions_make_no_groups():
    assert group_by_day([], when=lambda t: t, now=NOW, tz=UTC) == []
