"""The labelled parts grouping is fitted and measured on, by name.

Most parts are JSON lines of whole stories in this folder. ``real-feeds`` labels the stories of the
feeds captured in ../shared/data/real-feeds (every dated entry the poll's parser keeps, in feed
order): its file here holds only each story's id ("FILE#N") with its event and thread, and the
stories themselves are read from the shared data, never copied.
"""

from __future__ import annotations

import json
from pathlib import Path

from digest.events.measure import Labelled, load_labelled
from digest.events.scoring import Story
from tests.tagging.score import REAL_FEEDS, parsed_entries

HERE = Path(__file__).parent
# What the event score was fitted on, and what was only ever scored.
DEVELOPMENT = ("dev", "dev2", "train-2023", "train-2025", "real-feeds")
HELD_OUT = ("heldout2", "heldout3")


def load_part(name: str) -> list[Labelled]:
    if name != "real-feeds":
        return load_labelled(HERE / f"{name}.jsonl")
    stories = real_feed_stories()
    labels = [json.loads(line) for line in (HERE / "real-feeds.jsonl").read_text().splitlines() if line.strip()]
    return [Labelled(stories[item["id"]], item["event"], item["thread"]) for item in labels]


def real_feed_stories(folder: Path = REAL_FEEDS) -> dict[str, Story]:
    """Every dated entry of the captured feeds as grouping sees it, by "FILE#N"; its feed is its source."""
    return {
        key: Story(key, entry.title, entry.summary_text, entry.published_at, key.split("#")[0])
        for key, entry in parsed_entries(folder)
        if entry.published_at is not None
    }
