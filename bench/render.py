"""Benchmark: what one digest rendering costs, hand-written tables against an MJML layout compiler.

The digest is a full one: three sections of ten stories (the most a reader gets per topic), an
editor's note and a lead. "tables" is ``render_digest`` as the service runs it (Jinja2 into
table-based HTML, then css-inline, plus the plain-text part). "mjml" renders the same content into
an equivalent MJML document with Jinja2 and compiles it with mrml (``mjml-python``, the Rust port
of MJML), plus the same plain-text part. The baseline, run in the same process, is the plain-text
part alone. Times are CPU seconds per rendering, the fastest of five rounds.

    python bench/render.py [--renders 200]

mjml-python is not a dependency of the service; without it only the tables are measured.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime

import css_inline
from jinja2 import Environment

from digest.config import Settings
from digest.digests.editions import Desk
from digest.digests.render import render_digest
from digest.digests.select import Candidate, Selection
from digest.templating import environment

NAMES = {"ai-misuse": "AI misuse", "child-protection": "Child protection", "deepfakes": "Deepfakes"}
EDITION = "daily:2026-12-01"
SUMMARY = (
    "Prosecutors said the defendant used a voice-cloning service to impersonate the finance director "
    "and order transfers; the court heard that the firm lost the money within hours. "
) * 2

MJML = """<mjml><mj-head><mj-title>{{ subject }}</mj-title><mj-preview>{{ preheader }}</mj-preview>
<mj-attributes><mj-all font-family="Georgia, serif" /><mj-text font-size="16px" line-height="24px" color="#1c1c1c" />
</mj-attributes></mj-head><mj-body background-color="#f3f1ec" width="640px">
<mj-section background-color="#ffffff"><mj-column>
<mj-text align="right" font-size="12px"><a href="{{ archive_url }}">View in the browser</a></mj-text>
<mj-text font-size="24px" font-weight="bold">{{ sender }}</mj-text>
<mj-text font-size="13px">Your {{ frequency }} digest · {{ edition_label }}</mj-text>
<mj-divider border-width="3px" border-color="#1c1c1c" />
<mj-text font-size="13px">In this issue: {{ contents }}</mj-text>
{% if note_html %}<mj-text container-background-color="#f8f3e4">{{ note_html | safe }}</mj-text>{% endif %}
{% if lead %}<mj-text font-size="12px" color="#9b1c1c">{{ lead.kicker }}</mj-text>
<mj-text font-size="26px" line-height="32px"><a href="{{ lead.link }}">{{ lead.title }}</a></mj-text>
<mj-text font-size="13px">{{ lead.sources }} · {{ lead.date }}</mj-text>
<mj-text font-size="17px">{{ lead.summary }}</mj-text>
{% endif %}
{% for group in groups %}<mj-text font-size="14px" font-weight="bold">{{ group.name }}</mj-text>
<mj-divider border-width="1px" border-color="#d9d6cf" />
{% for story in group.stories %}<mj-text font-size="18px"><a href="{{ story.link }}">{{ story.title }}</a></mj-text>
<mj-text font-size="13px">{{ story.sources }} · {{ story.date }}</mj-text><mj-text>{{ story.summary }}</mj-text>
{% if story.topics %}<mj-text font-size="13px">Also in: {{ story.topics }}</mj-text>{% endif %}
{% endfor %}{% endfor %}
<mj-divider border-width="1px" border-color="#d9d6cf" />
<mj-text font-size="12px">You get this because you subscribed to a {{ frequency }} digest on: {{ chosen }}.</mj-text>
<mj-text font-size="12px"><a href="{{ preferences_url }}">Manage your topics</a> ·
<a href="{{ unsubscribe_url }}">Unsubscribe</a> · <a href="{{ privacy_url }}">Privacy policy</a></mj-text>
<mj-text font-size="12px">{{ contact_line }}</mj-text>
</mj-column></mj-section></mj-body></mjml>"""


def digest() -> tuple[Selection, Desk]:
    now = datetime(2026, 12, 1, 6, tzinfo=UTC)
    groups = []
    for t, topic in enumerate(NAMES):
        stories = tuple(
            Candidate(
                t * 100 + i,
                f"Court jails fraudster number {i} who cloned a company director's voice",
                f"https://wire.example/{t}/{i}",
                SUMMARY,
                now,
                now,
                frozenset({topic, "ai-misuse"}),
                ("Wire", "Daily Planet"),
            )
            for i in range(10)
        )
        groups.append((topic, stories))
    note = "Good morning. **Three** rulings today, and [the judgment](https://court.example/r) in full."
    return Selection(tuple(groups)), Desk(EDITION, lead=101, notes={"": note})


def fastest(work: Callable[[], object], renders: int) -> float:
    best = float("inf")
    for _round in range(5):
        start = time.process_time()
        for _ in range(renders):
            work()
        best = min(best, (time.process_time() - start) / renders)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    settings = Settings(base_url="https://news.example")
    selection, desk = digest()
    chosen = list(NAMES)
    # The MJML layout gets exactly what the tables get: the context of a real rendering, caught on
    # its way into the (cached) template.
    template = environment("email").get_template("digest.html")
    jinja_render = template.render
    context: dict[str, object] = {}

    def catch(**values: object) -> str:
        context.update(values)
        return jinja_render(**values)

    template.render = catch  # type: ignore[method-assign]
    rendered = render_digest(settings, NAMES, selection, chosen, "daily", EDITION, desk)
    template.render = jinja_render  # type: ignore[method-assign]
    inliner = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)

    def baseline_work() -> object:
        return jinja_render(**context)

    def tables() -> object:
        return inliner.inline(jinja_render(**context))

    def whole() -> object:
        return render_digest(settings, NAMES, selection, chosen, "daily", EDITION, desk)

    baseline = fastest(baseline_work, args.renders)
    ours = fastest(tables, args.renders)
    service = fastest(whole, args.renders)
    print(f"digest of 30 stories, {len(rendered.html):,} bytes of HTML; CPU time per rendering, best of 5 rounds")
    print(f"  baseline (Jinja2 into the HTML template, nothing inlined): {baseline * 1000:6.2f} ms")
    print(f"  tables: Jinja2 + css-inline: {ours * 1000:6.2f} ms   ratio to baseline {ours / baseline:5.2f}")
    print(f"  render_digest (both parts, MIME template, encoded bodies): {service * 1000:6.2f} ms")
    try:
        import mjml  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("  mjml: not installed (pip install mjml-python to compare)")
        return
    mjml_template = Environment(autoescape=True).from_string(MJML)

    def compiled() -> object:
        return mjml.mjml2html(mjml_template.render(**context))

    theirs = fastest(compiled, args.renders)
    size = len(mjml.mjml2html(mjml_template.render(**context)))
    print(f"  MJML: Jinja2 + mrml: {theirs * 1000:6.2f} ms   ratio to baseline {theirs / baseline:5.2f}")
    print(f"  MJML / tables: {theirs / ours:.2f}  (MJML's HTML: {size:,} bytes)")


if __name__ == "__main__":
    main()
