"""Editors' merges and splits: applying them to a few stories gives what applying them to the whole
window gives, so a digest's stories need only themselves and the stories the decisions name."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from digest.events.decisions import Decision, Membership, apply_decisions

STORIES = range(1, 25)
groups = st.dictionaries(
    st.sampled_from(STORIES),
    st.tuples(st.integers(0, 5), st.integers(0, 3)).map(lambda et: Membership(f"e:{et[0]}", f"t:{et[1]}")),
    min_size=1,
)
decisions = st.lists(
    st.builds(
        Decision,
        st.sampled_from(["merge", "split", "headline"]),
        st.sampled_from(["event", "thread"]),
        st.sampled_from(STORIES),
        st.one_of(st.none(), st.sampled_from(STORIES)),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(groups, decisions, st.sets(st.sampled_from(STORIES), min_size=1))
def test_a_few_stories_are_placed_as_the_whole_window_places_them(
    window: dict[int, Membership], made: list[Decision], wanted: set[int]
) -> None:
    named = {d.story_id for d in made} | {d.other_story_id for d in made if d.other_story_id is not None}
    few = {i: m for i, m in window.items() if i in wanted | named}
    whole, part = apply_decisions(window, made), apply_decisions(few, made)
    assert {i: whole[i] for i in wanted if i in whole} == {i: part[i] for i in wanted if i in part}


def test_a_merged_event_reaches_a_story_that_is_not_named() -> None:
    window = {1: Membership("e:1", "t:1"), 2: Membership("e:1", "t:1"), 3: Membership("e:3", "t:3")}
    merged = apply_decisions(window, [Decision("merge", "event", 3, 1)])
    assert merged[2] == Membership("e:3", "t:3")
