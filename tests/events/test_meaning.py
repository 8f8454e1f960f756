"""Meaning vectors: reports worded their own way come out alike, different events less so."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from digest.events.features import dump_features, extract_features, extract_many, load_features
from digest.events.meaning import DIMENSIONS, matrix


def alike(a: tuple[str, str], b: tuple[str, str]) -> float:
    va, vb = matrix([extract_features(*a).meaning, extract_features(*b).meaning])
    return float(va @ vb)


RULING = (
    "FCC rules AI-generated voices in robocalls are illegal",
    "The commission adopted a declaratory ruling that calls using voice cloning count as artificial voices.",
)
SAME_RULING = (
    "Declaratory ruling extends 1991 robocall law to cloned voices",
    "Regulators said calls made with synthetic voices now need the called party's consent.",
)
OTHER_CASE = (
    "Hospital network says ransomware attack exposed 5.5 million patients' records",
    "The health system mailed letters after intruders copied names and Social Security numbers.",
)


def test_two_reports_of_one_ruling_in_other_words_are_more_alike_than_another_story() -> None:
    assert alike(RULING, SAME_RULING) > alike(RULING, OTHER_CASE) + 0.2


def test_a_story_with_no_known_word_has_no_meaning_and_compares_as_zero() -> None:
    features = extract_features("1234 5678", "")
    assert features.meaning == b""
    assert not matrix([features.meaning]).any()


def test_kept_features_keep_the_meaning() -> None:
    features = extract_features(*RULING)
    assert load_features(dump_features(features)) == features


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(text, text), max_size=12))
def test_meanings_are_unit_vectors_and_the_same_one_by_one_as_together(stories: list[tuple[str, str]]) -> None:
    together = extract_many(stories)
    assert together == [extract_features(title, summary) for title, summary in stories]
    vectors = matrix([f.meaning for f in together])
    assert vectors.shape == (len(stories), DIMENSIONS)
    for features, vector in zip(together, vectors, strict=True):
        length = float(np.sqrt(vector @ vector))
        assert (length == 0.0) if not features.meaning else abs(length - 1.0) < 1e-2
