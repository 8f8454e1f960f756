"""The console's notice tokens: what is sealed opens again for the same session, nothing else does."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from digest.subscribers.tokens import LinkSigner
from digest.web.editor_forms import Notice, format_when, open_notice, seal_notice, whole_number

SIGNER = LinkSigner("notice-test-key")
_words = (
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300)
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)
notices = st.builds(Notice, st.sampled_from(["success", "error"]), _words, st.none() | _words.map(lambda t: t[:150]))


@given(notices)
def test_a_sealed_notice_opens_for_its_session_only(notice: Notice) -> None:
    token = seal_notice(SIGNER, notice, "session-a")
    assert open_notice(SIGNER, token, "session-a") == notice
    assert open_notice(SIGNER, token, "session-b") is None
    assert open_notice(LinkSigner("another-key"), token, "session-a") is None


@given(notices, st.integers(min_value=0), st.characters(whitelist_categories=("Ll", "Lu", "Nd")))
def test_an_altered_token_never_opens(notice: Notice, where: int, letter: str) -> None:
    token = seal_notice(SIGNER, notice, "s")
    i = where % len(token)
    altered = token[:i] + letter + token[i + 1 :]
    if altered != token:
        assert open_notice(SIGNER, altered, "s") is None


def test_a_long_notice_is_cut_to_fit_a_cookie() -> None:
    token = seal_notice(SIGNER, Notice("success", "word " * 2000, "feed " * 100), "s")
    assert len(token) < 3800
    opened = open_notice(SIGNER, token, "s")
    assert opened is not None and opened.text.endswith("…") and len(opened.text) <= 1000


def test_expired_and_foreign_tokens_are_refused() -> None:
    token = seal_notice(SIGNER, Notice("error", "x"), "s")
    assert open_notice(SIGNER, token, "s", max_age=-1) is None
    assert open_notice(SIGNER, SIGNER.make("editor-csrf", "s"), "s") is None
    assert open_notice(SIGNER, "", "s") is None


def test_times_name_their_zone_and_numbers_are_checked() -> None:
    moment = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)
    assert format_when(moment, "Europe/Vienna") == "2026-07-01 08:30 CEST"
    assert format_when(moment, "UTC") == "2026-07-01 06:30 UTC"
    assert format_when(None, "UTC") == "never"
    assert [whole_number(v, 1, 10) for v in ("5", " 7 ", "0", "11", "-3", "2.5", "")] == [
        5,
        7,
        None,
        None,
        None,
        None,
        None,
    ]
