"""Edition names: what people type, what is stored, and the order of editions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.digests.editions import BadEditionName, edition_for, next_edition, parse_edition, review_deadline

DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(DAYS)
def test_every_day_and_week_round_trips_through_its_name(day: date) -> None:
    noon = datetime.combine(day, time(12), tzinfo=UTC)
    daily, weekly = edition_for("daily", noon, "UTC"), edition_for("weekly", noon, "UTC")
    assert parse_edition(daily.partition(":")[2]) == daily == parse_edition(daily)
    assert parse_edition(weekly.partition(":")[2]) == weekly == parse_edition(weekly)
    assert next_edition(daily) == edition_for("daily", noon + timedelta(days=1), "UTC")
    assert next_edition(weekly) == edition_for("weekly", noon + timedelta(days=7), "UTC")
    assert next_edition(daily) > daily and next_edition(weekly) > weekly  # stored keys sort by time


@given(st.text(max_size=20))
def test_anything_else_is_refused_with_what_a_name_looks_like(text: str) -> None:
    try:
        key = parse_edition(text)
    except BadEditionName as exc:
        assert "2026-12-01" in str(exc) or "ISO week" in str(exc) or "not a date" in str(exc)
    else:
        assert key.startswith(("daily:", "weekly:"))


def test_impossible_dates_and_weeks() -> None:
    with pytest.raises(BadEditionName, match="is not a date"):
        parse_edition("2026-02-30")
    with pytest.raises(BadEditionName, match="2025 has no ISO week 53"):
        parse_edition("2025-W53")
    assert parse_edition("2026-W53") == "weekly:2026-W53"  # a year that starts on a Thursday has 53


def test_the_review_deadline_is_the_next_such_local_time() -> None:
    planned = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    assert review_deadline(planned, "10:00", "UTC") == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert review_deadline(planned, "06:30", "UTC") == datetime(2026, 12, 2, 6, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)  # 07:00 in London
    assert review_deadline(summer, "10:00", "Europe/London") == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
