"""The stories cursor: what it gives out reads back exactly; anything else is refused in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digest.web.api.cursor import BadCursor, make_cursor, read_cursor

TIMES = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(9999, 1, 1), timezones=st.just(UTC))


@given(TIMES, st.integers(min_value=1, max_value=2**63))
def test_a_cursor_reads_back_as_the_position_it_was_made_from(published: datetime, story_id: int) -> None:
    cursor = make_cursor(published, story_id)
    assert read_cursor(cursor) == (published, story_id)
    assert cursor.isascii() and all(c.isalnum() or c in "-_" for c in cursor)


@given(st.text(max_size=200))
def test_any_other_text_is_refused_as_a_cursor_not_an_error(text: str) -> None:
    try:
        published, story_id = read_cursor(text)
    except BadCursor as exc:
        assert "next_cursor" in str(exc)
    else:  # only text that happens to decode as a real position
        assert published.tzinfo is not None and story_id >= 1


@pytest.mark.parametrize("made_up", ["", "bm9wZQ", make_cursor(datetime(2026, 1, 1, tzinfo=UTC), 5)[:-3], "fHw"])
def test_made_up_or_cut_cursors_are_refused(made_up: str) -> None:
    with pytest.raises(BadCursor):
        read_cursor(made_up)
