"""Imports from CSV and from listmonk's export: good rows in, bad rows reported by line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.importer import import_csv
from digest.subscribers.privacy import erase_subscriber, export_subscriber, is_suppressed

TOPICS = ("ai-misuse", "child-protection", "deepfakes")
SETTINGS = Settings()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(text)
    return path


def test_our_csv_imports_good_rows_and_reports_bad_ones(engine: Engine, tmp_path: Path) -> None:
    csv = write(
        tmp_path,
        "email,topics,frequency,confirmed\n"
        "ann@example.org,ai-misuse;deepfakes,daily,true\n"
        "not-an-address,deepfakes,weekly,false\n"
        "bob@example.org,crypto,weekly,false\n"
        "\n"
        "cy@example.org,child-protection,weekly,maybe\n"
        'dee@example.org,"deepfakes, child-protection",,no\n'
        "ANN@example.org,deepfakes,daily,true\n",
    )
    progress: list[tuple[int, int]] = []
    report = import_csv(engine, SETTINGS, csv, TOPICS, on_progress=lambda done, total: progress.append((done, total)))
    assert report.added == 2
    assert [line for line, _ in report.errors] == [3, 4, 6]
    assert "unknown topic crypto" in report.errors[1][1]
    assert report.skipped == [(8, "ann@example.org is already on the list (confirmed)")]
    assert progress[-1][0] == progress[-1][1]
    with session_scope(engine) as s:
        ann = store.by_email(s, "ann@example.org")
        dee = store.by_email(s, "dee@example.org")
        assert ann is not None and dee is not None
        assert (ann.status, ann.frequency, ann.topic_slugs) == ("confirmed", "daily", ["ai-misuse", "deepfakes"])
        assert (dee.status, dee.frequency) == ("pending", "weekly")
        consent = store.consents(s, ann)[0]
        assert (consent.action, consent.method) == ("imported", "import")
        assert "consent confirmed by the editor" in consent.detail


def test_listmonk_exports_are_understood(engine: Engine, tmp_path: Path) -> None:
    csv = write(
        tmp_path,
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        'u1,eve@example.org,Eve,"{""topics"": [""deepfakes""], ""frequency"": ""daily""}",'
        "enabled,2024-01-01,2024-01-01\n"
        "u2,fay@example.org,Fay,{},enabled,2024-01-01,2024-01-01\n"
        "u3,gus@example.org,Gus,{},blocklisted,2024-01-01,2024-01-01\n"
        "u4,hal@example.org,Hal,{},disabled,2024-01-01,2024-01-01\n"
        "u5,ivy@example.org,Ivy,not json,enabled,2024-01-01,2024-01-01\n",
    )
    report = import_csv(engine, SETTINGS, csv, TOPICS, default_topics=["ai-misuse"])
    assert report.added == 2
    assert [line for line, _ in report.skipped] == [4, 5]
    assert report.errors == [(6, "'attributes' is not valid JSON")]
    with session_scope(engine) as s:
        eve = store.by_email(s, "eve@example.org")
        fay = store.by_email(s, "fay@example.org")
        assert eve is not None and fay is not None
        assert (eve.topic_slugs, eve.frequency, eve.status) == (["deepfakes"], "daily", "confirmed")
        assert (fay.topic_slugs, fay.frequency) == (["ai-misuse"], "weekly")
        assert is_suppressed(s, "gus@example.org") and store.by_email(s, "gus@example.org") is None


def test_erased_people_cannot_be_imported_again(engine: Engine, tmp_path: Path) -> None:
    csv = write(tmp_path, "email,topics,frequency,confirmed\nzoe@example.org,deepfakes,daily,true\n")
    assert import_csv(engine, SETTINGS, csv, TOPICS).added == 1
    with session_scope(engine) as s:
        zoe = store.by_email(s, "zoe@example.org")
        assert zoe is not None
        exported = export_subscriber(s, zoe)
        assert exported["email"] == "zoe@example.org" and exported["topics"] == ["deepfakes"]
        assert [e["action"] for e in exported["consent_events"]] == ["imported"]
        erase_subscriber(s, zoe, datetime.now(UTC))
    again = import_csv(engine, SETTINGS, csv, TOPICS)
    assert again.added == 0
    assert "unsubscribed or was erased" in again.skipped[0][1]
    with session_scope(engine) as s:
        assert store.count_by_status(s) == {}


def test_files_that_are_not_subscriber_lists_are_refused(engine: Engine, tmp_path: Path) -> None:
    assert import_csv(engine, SETTINGS, write(tmp_path, ""), TOPICS).errors == [(1, "the file is empty")]
    wrong = import_csv(engine, SETTINGS, write(tmp_path, "name,phone\nA,1\n"), TOPICS)
    assert wrong.errors[0][0] == 1 and "unknown columns" in wrong.errors[0][1]
