"""The shape of the labelled story files written down from public news, and that no story is labelled twice.

``heldout2-written.jsonl`` is a second held-out set (scored only to report) and ``pool-written.jsonl``
is the pool that editors' corrections are drawn from. Both must stay large enough to measure with and
must keep the near misses well represented, or a score on them would say little about real news.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.tagging.score import HERE, NEAR_MISSES, REAL, REAL_FEEDS, SHARED_DATA, TOPICS, feed_entries, read_jsonl

# file name -> (id prefix, fewest stories)
WRITTEN = {
    "heldout2-written.jsonl": ("h2-", 220),
}
SOURCE = re.compile(r"\S.*, (2019|202[0-6])-(0[1-9]|1[0-2])")


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_each_written_story_is_complete_and_uses_known_labels(name: str) -> None:
    prefix, fewest = WRITTEN[name]
    lines = (REAL / name).read_text().splitlines()
    items = read_jsonl(REAL / name)
    assert len(items) == len(lines) >= fewest, "one JSON object per line, no blank lines"
    ids = [str(item["id"]) for item in items]
    assert len(set(ids)) == len(ids), "an id used twice"
    assert [i for i in ids if not re.fullmatch(re.escape(prefix) + r"\d{3}", i)] == []
    for item in items:
        story = str(item["id"])
        assert set(item) <= {"id", "title", "summary", "topics", "source", "kind", "note"}, story
        assert str(item["title"]).strip() and str(item["summary"]).strip(), story
        assert 4 <= len(str(item["title"]).split()) <= 18, f"{story}: a feed's headline, not a sentence"
        assert SOURCE.fullmatch(str(item["source"])), f"{story}: source is 'Outlet, YYYY-MM'"
        topics = item["topics"]
        assert isinstance(topics, list) and set(topics) <= set(TOPICS) and len(set(topics)) == len(topics), story
        # Every deepfakes story is also ai-misuse, by definition.
        assert "deepfakes" not in topics or "ai-misuse" in topics, story
        assert item.get("kind") is None or item["kind"] in NEAR_MISSES, story


def topics_of(item: dict[str, object]) -> list[str]:
    topics = item["topics"]
    assert isinstance(topics, list)
    return [str(topic) for topic in topics]


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_each_written_file_mixes_near_misses_positives_and_plain_news(name: str) -> None:
    items = read_jsonl(REAL / name)
    # plain-ai-harm stories are positives told without the field's words; every other kind is a near miss.
    near = [i for i in items if i.get("kind") not in (None, "plain-ai-harm")]
    positive = [i for i in items if topics_of(i)]
    plain = [i for i in items if not topics_of(i) and not i.get("kind")]
    assert len(near) >= 0.35 * len(items) and len(positive) >= 0.35 * len(items) and len(plain) >= 0.1 * len(items)
    assert [i["id"] for i in near if topics_of(i) and i.get("kind") not in ("ai-defence", "teen-suspect")] == []
    per_topic = Counter(topic for i in items for topic in topics_of(i))
    assert min(per_topic[topic] for topic in TOPICS) >= 0.08 * len(items)
    assert sum(len(topics_of(i)) >= 2 for i in items) >= 0.1 * len(items), "stories with two or three topics"
    assert sum(i.get("kind") == "plain-ai-harm" for i in items) >= 10
    kinds = {str(i["kind"]) for i in near}
    assert kinds == set(NEAR_MISSES) - {"plain-ai-harm"}, "every near miss of the issue is represented"


def labelled_titles() -> list[str]:
    """Every headline labelled anywhere: the written sets, the cases, the shared set and the captured feeds."""
    paths = sorted(REAL.glob("*.jsonl")) + sorted(HERE.glob("cases*.jsonl"))
    paths += [p for p in [SHARED_DATA / "tagging-dev.jsonl"] if p.exists()]
    titles = [str(item["title"]) for path in paths for item in read_jsonl(path) if "title" in item]
    if REAL_FEEDS.exists():
        titles += [title for title, _ in feed_entries(REAL_FEEDS).values()]
    return titles


def normalised(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


def test_no_written_story_repeats_a_headline_labelled_elsewhere() -> None:
    ours = [str(item["title"]) for name in WRITTEN for item in read_jsonl(REAL / name)]
    assert [t for t, n in Counter(map(normalised, ours)).items() if n > 1] == [], "written down twice"
    elsewhere = Counter(map(normalised, labelled_titles()))
    assert [t for t in ours if elsewhere[normalised(t)] > 1] == [], "also labelled in another file"
