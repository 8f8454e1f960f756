"""Imports from CSV and from listmonk's export: good rows in, bad rows reported by line."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from digest.config import Settings
from digest.db.engine import session_scope
from digest.subscribers import store
from digest.subscribers.importer import BATCH, import_csv
from digest.subscribers.models import ConsentEvent, Subscriber, SubscriberTopic
from digest.subscribers.privacy import erase_subscriber, export_subscriber, is_suppressed
from digest.subscribers.signup import request_subscription

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


def many(count: int, *, start: int = 0, confirmed: str = "true", header: bool = True) -> str:
    return ("email,topics,frequency,confirmed\n" if header else "") + "".join(
        f"reader{i}@example.org,deepfakes;ai-misuse,weekly,{confirmed}\n" for i in range(start, start + count)
    )


def counts(engine: Engine) -> tuple[int, int, int]:
    """Subscribers, their topic rows, their consent records."""
    with session_scope(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Subscriber)) or 0,
            s.scalar(select(func.count()).select_from(SubscriberTopic)) or 0,
            s.scalar(select(func.count()).select_from(ConsentEvent)) or 0,
        )


def test_files_of_more_than_one_batch_import_with_progress(engine: Engine, tmp_path: Path) -> None:
    csv = write(tmp_path, many(BATCH * 2 + 1) + "broken,deepfakes,weekly,true\n")
    progress: list[tuple[int, int]] = []
    report = import_csv(engine, SETTINGS, csv, TOPICS, on_progress=lambda done, total: progress.append((done, total)))
    assert (report.added, report.error_count) == (BATCH * 2 + 1, 1)
    assert report.errors == [
        (BATCH * 2 + 3, "'broken' is not a valid email address: An email address must have an @-sign.")
    ]
    assert counts(engine) == (BATCH * 2 + 1, 2 * (BATCH * 2 + 1), BATCH * 2 + 1)
    done = [d for d, _ in progress]
    assert done == sorted(done) and 0 < done[0] < csv.stat().st_size and progress[-1] == (csv.stat().st_size,) * 2


def test_a_windows_1252_file_from_excel_imports_and_says_how_it_was_read(engine: Engine, tmp_path: Path) -> None:
    csv = tmp_path / "excel.csv"
    csv.write_bytes(
        "email,topics,frequency,confirmed\r\njosé@example.org,deepfakes,weekly,true\r\n".encode("cp1252")
        + b"bad\x81@example.org,deepfakes,weekly,true\r\n"  # a byte Windows-1252 does not define
        + "renée@example.org,ai-misuse,daily,false\r\n".encode("cp1252")
    )
    report = import_csv(engine, SETTINGS, csv, TOPICS)
    assert report.encoding.codec == "cp1252" and report.encoding.label.startswith("Windows-1252 (guessed")
    assert report.added == 2
    assert report.errors == [(3, f"the address has characters that cannot be read as {report.encoding.label}")]
    with session_scope(engine) as s:
        assert store.by_email(s, "josé@example.org") is not None
        renee = store.by_email(s, "renée@example.org")
        assert renee is not None and (renee.status, renee.frequency) == ("pending", "daily")


def test_importing_the_same_file_again_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    csv = write(
        tmp_path, many(30) + "bad-row,deepfakes,weekly,true\n" + many(5, start=100, confirmed="false", header=False)
    )
    first = import_csv(engine, SETTINGS, csv, TOPICS)
    assert (first.added, first.pending, first.present, first.error_count) == (35, 5, 0, 1)
    with session_scope(engine) as s:
        before = [export_subscriber(s, p) for batch in store.iter_subscribers(s) for p in batch]
    again = import_csv(engine, SETTINGS, csv, TOPICS)
    assert (again.added, again.present, again.skipped_count, again.error_count) == (0, 35, 35, 1)
    assert again.errors == first.errors
    assert again.skipped[0] == (2, "reader0@example.org is already on the list (confirmed)")
    assert again.skipped[-1] == (37, "reader104@example.org is already on the list (pending)")
    assert counts(engine) == (35, 70, 35)
    with session_scope(engine) as s:
        assert [export_subscriber(s, p) for batch in store.iter_subscribers(s) for p in batch] == before


def test_imported_times_are_stored_as_everywhere_else(engine: Engine, tmp_path: Path) -> None:
    import_csv(engine, SETTINGS, write(tmp_path, many(1)), TOPICS)
    with session_scope(engine) as s:
        request_subscription(s, SETTINGS, "form@example.org", ["deepfakes"], "weekly", TOPICS, datetime.now(UTC))
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT email, CAST(created_at AS TEXT) FROM subscribers")).all())
        consent = connection.execute(text("SELECT CAST(at AS TEXT) FROM consent_events ORDER BY id")).scalars().all()

    def shape(value: str) -> str:
        return re.sub(r"\d+", "0", value)  # PostgreSQL's text leaves out trailing zeros of microseconds

    assert shape(stored["reader0@example.org"]) == shape(stored["form@example.org"])
    assert shape(consent[0]) == shape(consent[1])
    with session_scope(engine) as s:
        reader = store.by_email(s, "reader0@example.org")
        assert reader is not None and reader.created_at.tzinfo is UTC
        assert abs(datetime.now(UTC) - reader.created_at).total_seconds() < 120
