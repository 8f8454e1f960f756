"""What grouping compares in a story, and the form it is kept in between polls."""

from __future__ import annotations

from pathlib import Path

from digest.events.features import dump_features, extract_features, load_features, shared_phrases
from digest.events.grouping import Known, group_stories
from digest.events.measure import load_labelled

DEV = load_labelled(Path(__file__).parent / "dev.jsonl")


def test_amounts_written_differently_agree_and_model_numbers_and_years_do_not_count() -> None:
    a = extract_features("Clorox sues Cognizant for $380M", "The A380 case, filed in 2023, covers 12,000 files.")
    b = extract_features("Clorox lawsuit", "Clorox seeks $380 million over a 2023 breach of 12000 records.")
    assert a.numbers == b.numbers == {"3.8e+08", "1.2e+04"}
    assert "clorox" in a.names and "cognizant" in a.names
    assert shared_phrases(a, b) == []
    c = extract_features("Clorox sues Cognizant", "Clorox sues Cognizant over the help desk.")
    assert shared_phrases(a, c) == ["clorox sue", "sue cognizant"]


def test_kept_features_group_new_stories_as_freshly_extracted_ones_do() -> None:
    earlier, later = DEV[: len(DEV) // 2], DEV[len(DEV) // 2 :]
    grouped = group_stories([d.story for d in earlier])
    kept = [load_features(dump_features(extract_features(d.story.title, d.story.summary))) for d in earlier]
    assert all(k is not None for k in kept)
    with_kept = [Known(d.story, a.event, a.thread, k) for d, a, k in zip(earlier, grouped, kept, strict=True)]
    without = [Known(d.story, a.event, a.thread) for d, a in zip(earlier, grouped, strict=True)]
    fresh = [d.story for d in later]
    assert group_stories(fresh, known=with_kept) == group_stories(fresh, known=without)
    # Some later stories do join events of the earlier half, so the window was used.
    assert any(a.event in {g.event for g in grouped} for a in group_stories(fresh, known=with_kept))


def test_features_kept_by_another_version_are_not_used() -> None:
    text = dump_features(extract_features("Clorox sues Cognizant", ""))
    assert load_features(text) is not None
    assert load_features("0" + text[1:]) is None
    assert load_features(None) is None and load_features("") is None
