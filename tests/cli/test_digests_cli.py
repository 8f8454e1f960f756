"""`digest send` and `digest preview` as editors and the scheduler use them."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_feeds_cli import SAMPLES, run
from tests.conftest import TOPICS
from tests.httpserver import FeedServer, Route
from tests.mailbox import messages, text_of


def test_send_and_preview(database_url: str, feed_server: FeedServer, tmp_path: Path) -> None:
    env = {
        "DIGEST_TOPICS_FILE": str(TOPICS),
        "DIGEST_MAIL_URL": f"file://{tmp_path}/outbox",
        "DIGEST_BASE_URL": "https://news.example",
    }
    for email, topics in (("deep@example.org", "deepfakes"), ("kids@example.org", "child-protection")):
        assert run(database_url, "subscribers", "add", email, "--topics", topics, "--confirmed", env=env).exit_code == 0
    url = feed_server.add("/wire.xml", Route((SAMPLES / "cyberlaw-wire.xml").read_bytes()))
    run(database_url, "feeds", "add", url, env=env)
    run(database_url, "poll", env=env)

    preview = run(database_url, "preview", "deep@example.org", "--text", env=env)
    assert preview.exit_code == 0
    assert "Subject: Court jails fraudster who cloned a company... + 1 more on Deepfakes\n" in preview.output
    assert "Court jails fraudster who cloned a company director's voice" in preview.output
    html_file = tmp_path / "preview.html"
    written = run(database_url, "preview", "deep@example.org", "--out", str(html_file), env=env)
    assert written.exit_code == 0 and f"to {html_file}" in written.output
    page = html_file.read_text()
    assert '<h2 class="lead-title" style="' in page and "cloned a company director" in page
    assert "https://news.example/unsubscribe/" in page
    assert "no subscriber has the address" in run(database_url, "preview", "who@example.org", env=env).output

    dry = run(database_url, "send", "--dry-run", env=env)
    assert "2 digests would be sent, 0 subscribers have nothing new" in dry.output
    assert messages(tmp_path / "outbox") == []  # previews and dry runs send and mark nothing

    sent = run(database_url, "send", env=env)
    assert sent.exit_code == 0, sent.output
    assert "sent 2, skipped-empty 0, failed 0" in sent.output
    by_reader = {m["To"]: m for m in messages(tmp_path / "outbox")}
    assert "children's data" in text_of(by_reader["kids@example.org"])
    again = run(database_url, "send", env=env)
    assert "sent 0" in again.output and len(messages(tmp_path / "outbox")) == 2


def test_send_as_of_another_time(database_url: str, tmp_path: Path) -> None:
    env = {"DIGEST_TOPICS_FILE": str(TOPICS), "DIGEST_MAIL_URL": f"file://{tmp_path}/outbox"}
    added = run(database_url, "subscribers", "add", "deep@example.org", "--topics", "deepfakes", "--confirmed", env=env)
    assert added.exit_code == 0
    wrong = run(database_url, "send", "--now", "next tuesday", env=env)
    assert wrong.exit_code == 2 and "Traceback" not in wrong.output
    assert "--now 'next tuesday' is not an ISO time" in wrong.output
    dry = run(database_url, "send", "--dry-run", "--now", "2031-03-05T09:00", env=env)  # no offset: UTC
    assert dry.exit_code == 0 and "editions daily 2031-03-05, weekly 2031-W10" in dry.output
