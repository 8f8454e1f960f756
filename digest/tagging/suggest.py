"""Rule changes proposed from editors' corrections: every pin (+topic) or removal (-topic) an editor
made is a labelled example, and the rules should agree with as many of them as they can.

Three kinds of proposal, each about one topic and one phrase:
- "drop": the phrase of the topic's rules that caused most of the tags editors removed leaves them;
- "negative": a phrase the stories editors removed the topic from share, and the stories keeping
  it mostly lack, becomes a negative rule strong enough to veto the topic;
- "rule": a phrase the stories editors added the topic to share becomes a rule of its own.

Each candidate is tried for real: the rules with the change are compiled and every stored story the
phrase occurs in is tagged again, so a proposal lists exactly the stories it would change. Proposals
are ranked by the corrections they fix, less those they undo, less a fraction of the stories nobody
corrected that they change (those may be right or wrong: an editor reads them before applying).
Pure: rules data and stories in, proposals out.
"""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

from digest.tagging.phrases import WORDS, make_phrase
from digest.tagging.rules import Ruleset, compile_rules
from digest.tagging.tagger import fold_text, tag_story

# How much an uncorrected story that a proposal changes counts against it, against 1 per correction.
OTHERS_COST = 0.5
# Words too common to say what a story is about alone (a phrase may still contain them).
STOPWORDS = frozenset(
    """a about after against all also an and any are as at be been before but by can could did do does
    for from had has have he her his how if in into is it its just may more most new not of on or our
    out over said says she so than that the their them then there these they this those to under up
    us was we were what when where which while who why will with would you your""".split()  # noqa: SIM905
)
CANDIDATES_PER_KIND = 8  # per topic and kind, the most promising candidates tried for real


@dataclass(frozen=True, slots=True)
class StoryText:
    id: int
    title: str
    summary: str


@dataclass(frozen=True, slots=True)
class Proposal:
    key: str  # stable while the rules and the corrections stay the same
    kind: str  # "drop", "negative" or "rule"
    topic: str
    phrase: str
    weight: float
    fixes: tuple[int, ...]  # stories whose editors' correction the change makes the rules agree with
    undoes: tuple[int, ...]  # stories whose editors' decision the rules would then contradict
    gains: tuple[int, ...] = ()  # stored stories that would gain the topic (corrected or not)
    loses: tuple[int, ...] = ()  # stored stories that would lose it
    others: tuple[int, ...] = field(default=())  # stories changed that no editor decided on

    @property
    def score(self) -> float:
        return len(self.fixes) - len(self.undoes) - OTHERS_COST * len(self.others)

    def describe(self) -> str:
        count = f"{len(self.fixes)} correction{'s' if len(self.fixes) != 1 else ''}"
        if self.kind == "drop":
            return f'{self.topic}: stop counting "{self.phrase}" (it caused tags editors removed; fixes {count})'
        if self.kind == "negative":
            return f'{self.topic}: a negative rule for "{self.phrase}" (editors removed the topic; fixes {count})'
        return f'{self.topic}: a rule for "{self.phrase}" (editors added the topic; fixes {count})'


def suggest_changes(
    data: Mapping[str, Any],
    ruleset: Ruleset,
    decisions: Mapping[int, Mapping[str, bool]],
    stories: Sequence[StoryText],
    *,
    limit: int = 10,
    min_support: int = 2,
) -> list[Proposal]:
    """Proposals, best first, from editors' ``decisions`` (story id -> {topic: wanted}) on ``stories``
    (every stored story, the decided ones among them) under the rules ``data`` compiled as ``ruleset``."""
    texts = {s.id: s for s in stories}
    folded = {s.id: fold_text(f"{s.title}\n{s.summary}") for s in stories}
    current = {s.id: set(tag_story(ruleset, s.title, s.summary).topics) for s in stories}
    proposals: dict[str, Proposal] = {}
    for topic in ruleset.topics:
        slug = topic.slug
        decided = {i: d[slug] for i, d in decisions.items() if slug in d and i in texts}
        removed = [i for i, wanted in decided.items() if not wanted and slug in current[i]]
        added = [i for i, wanted in decided.items() if wanted and slug not in current[i]]
        keeping = [i for i in texts if slug in current[i] and decided.get(i, True)]
        lacking = [i for i in texts if slug not in current[i] and not decided.get(i, False)]
        candidates: list[tuple[str, str]] = []
        if len(removed) >= min_support:
            candidates += [("drop", p) for p in _causes(ruleset, slug, [texts[i] for i in removed], min_support)]
            candidates += [("negative", p) for p in _shared(folded, removed, keeping, min_support)]
        if len(added) > min_support:  # a new rule reaches further than a veto: it needs more support
            # ... and two words: one word shared by a few added stories is seldom what they are about.
            shared = _shared(folded, added, lacking, min_support + 1, pairs_only=True)
            candidates += [("rule", p) for p in shared]
        for kind, phrase in candidates:
            proposal = _try(data, ruleset, kind, slug, phrase, texts, folded, current, decisions)
            if proposal is not None and proposal.fixes and proposal.score > 0:
                proposals.setdefault(proposal.key, proposal)
    ranked = sorted(proposals.values(), key=lambda p: (-p.score, p.topic, p.kind, p.phrase))
    return ranked[:limit]


def changed_rules(data: Mapping[str, Any], ruleset: Ruleset, kind: str, slug: str, phrase: str) -> dict[str, Any]:
    """The rules ``data`` with one proposal's change made (a copy; ``data`` is left as it is)."""
    changed = copy.deepcopy(dict(data))
    topic = next(t for t in changed["topics"] if t.get("slug") == slug)
    if kind == "drop":
        for rule in topic.get("rules", []):
            for members in _member_lists(rule):
                if isinstance(members, list) and phrase in members and len(members) > 1:
                    members.remove(phrase)
        for name in _group_names(topic):
            members = changed.get("groups", {}).get(name)
            if isinstance(members, list) and phrase in members and len(members) > 1:
                members.remove(phrase)
    elif kind == "negative":
        name = f"editors removed it: {phrase}"
        topic.setdefault("negatives", []).append({"name": name, "weight": veto(ruleset, slug), "phrases": [phrase]})
    else:
        name = f"editors added it: {phrase}"
        topic["rules"].append({"name": name, "weight": ruleset.topic(slug).threshold, "phrases": [phrase]})
    return changed


def recompiled(ruleset: Ruleset, data: Mapping[str, Any]) -> Ruleset:
    """The changed rules, with the learned layer of ``ruleset`` beside them as before."""
    return replace(compile_rules(dict(data), ruleset.source), learned=ruleset.learned)


def veto(ruleset: Ruleset, slug: str) -> float:
    """A negative rule's weight: enough to undo one ordinary rule matched in the headline, not the
    topic's strongest evidence (a named form of it), so a word editors removed the topic for in a few
    stories does not veto it in every story."""
    return ruleset.title_weight * ruleset.topic(slug).threshold


def _try(
    data: Mapping[str, Any],
    ruleset: Ruleset,
    kind: str,
    slug: str,
    phrase: str,
    texts: Mapping[int, StoryText],
    folded: Mapping[int, str],
    current: Mapping[int, set[str]],
    decisions: Mapping[int, Mapping[str, bool]],
) -> Proposal | None:
    try:
        pattern = make_phrase(0, phrase).pattern
        changed = recompiled(ruleset, changed_rules(data, ruleset, kind, slug, phrase))
    except Exception:  # a candidate the rules cannot take is simply not proposed
        return None
    fixes, undoes, gains, loses, others = [], [], [], [], []
    for story_id, text in folded.items():
        if not pattern.search(text):
            continue  # a change about one phrase changes only the stories that have it
        story = texts[story_id]
        after = set(tag_story(changed, story.title, story.summary).topics)
        before = current[story_id]
        if after == before:
            continue
        if slug in after - before:
            gains.append(story_id)
        if slug in before - after:
            loses.append(story_id)
        decided = decisions.get(story_id, {})
        for topic in after ^ before:
            if topic not in decided:
                others.append(story_id)
            elif (topic in after) == decided[topic]:
                fixes.append(story_id)
            else:
                undoes.append(story_id)
    weight = veto(ruleset, slug) if kind == "negative" else ruleset.topic(slug).threshold
    return Proposal(
        key=hashlib.sha1(f"{kind}\0{slug}\0{phrase}".encode()).hexdigest()[:8],
        kind=kind,
        topic=slug,
        phrase=phrase,
        weight=weight,
        fixes=tuple(dict.fromkeys(fixes)),
        undoes=tuple(dict.fromkeys(undoes)),
        gains=tuple(gains),
        loses=tuple(loses),
        others=tuple(dict.fromkeys(others)),
    )


def _causes(ruleset: Ruleset, slug: str, stories: Iterable[StoryText], min_support: int) -> list[str]:
    """The phrases of the topic's rules found in most of these stories (each story counted once)."""
    topic = ruleset.topic(slug)
    own = {i for rule in topic.rules for group in rule.groups for i in group}
    counts: Counter[str] = Counter()
    for story in stories:
        found = set(ruleset.index.find(fold_text(story.title))) | set(ruleset.index.find(fold_text(story.summary)))
        counts.update({ruleset.phrases[i].text for i in found & own})
    return [p for p, n in counts.most_common(CANDIDATES_PER_KIND) if n >= min_support]


def _shared(
    folded: Mapping[int, str], chosen: Sequence[int], rest: Sequence[int], min_support: int, *, pairs_only: bool = False
) -> list[str]:
    """Words and word pairs most of the ``chosen`` stories have and few of the ``rest`` do."""
    inside: Counter[str] = Counter()
    for story_id in chosen:
        inside.update(t for t in _terms(folded[story_id]) if not pairs_only or " " in t)
    frequent = {t for t, n in inside.items() if n >= min_support}
    if not frequent:
        return []
    outside: Counter[str] = Counter()
    for story_id in rest:
        outside.update(_terms(folded[story_id]) & frequent)
    ranked = sorted(frequent, key=lambda t: (-(inside[t] - 2 * outside[t]), -len(t), t))
    return [t for t in ranked if inside[t] > outside[t]][:CANDIDATES_PER_KIND]


def _terms(text: str) -> set[str]:
    words = WORDS.findall(text)
    terms = {w for w in words if len(w) > 3 and w.isalpha() and w not in STOPWORDS}
    terms.update(
        f"{a} {b}"
        for a, b in pairwise(words)
        if a.isalpha() and b.isalpha() and a not in STOPWORDS and b not in STOPWORDS
    )
    return terms


def _member_lists(rule: Mapping[str, Any]) -> list[Any]:
    if "phrases" in rule:
        return [rule["phrases"]]
    return list(rule.get("all", []))


def _group_names(topic: Mapping[str, Any]) -> set[str]:
    return {m for rule in topic.get("rules", []) for m in _member_lists(rule) if isinstance(m, str)}


def learn_rules(
    data: Mapping[str, Any],
    ruleset: Ruleset,
    decisions: Mapping[int, Mapping[str, bool]],
    stories: Sequence[StoryText],
    *,
    rounds: int = 10,
) -> tuple[dict[str, Any], Ruleset, list[Proposal]]:
    """The rules after applying the best proposal, again and again (at most ``rounds`` times) while
    one helps: what an editor accepting every first proposal would end with."""
    current, applied = dict(data), []
    for _ in range(rounds):
        proposals = suggest_changes(current, ruleset, decisions, stories, limit=1)
        if not proposals:
            break
        best = proposals[0]
        current = changed_rules(current, ruleset, best.kind, best.topic, best.phrase)
        ruleset = recompiled(ruleset, current)
        applied.append(best)
    return current, ruleset, applied
