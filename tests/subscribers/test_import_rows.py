"""Reading subscriber rows: every good row comes out as written, every bad one is named by its line."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from digest.subscribers.csvfile import detect_encoding, open_text
from digest.subscribers.import_rows import Row, read_rows

TOPICS = ("ai-misuse", "child-protection", "deepfakes")
LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéü0123456789._+-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
GOOD = st.tuples(
    LOCAL,
    st.sampled_from(["example.org", "Example.ORG", "mail.example.co.uk", "bücher.de"]),
    st.lists(st.sampled_from(TOPICS), min_size=1, max_size=3, unique=True),
    st.sampled_from(["daily", "weekly", ""]),
    st.sampled_from(["true", "yes", "1", "false", "no", "0", "", "pending"]),
)
BAD = st.sampled_from(
    [
        ["not-an-address", "deepfakes", "weekly", "true"],
        ["a@example.org", "crypto", "weekly", "true"],
        ["b@example.org", "deepfakes", "hourly", "true"],
        ["c@example.org", "deepfakes", "weekly", "perhaps"],
    ]
)


@given(
    st.lists(st.one_of(GOOD.map(lambda g: ("good", g)), BAD.map(lambda b: ("bad", b))), max_size=30),
    st.sampled_from(["utf-8", "utf-8-sig"]),  # guessed code pages: test_csvfile, test_importer
    st.sampled_from(["\n", "\r\n"]),
)
def test_rows_come_out_as_written_and_bad_ones_by_line(rows: list[tuple[str, object]], codec: str, end: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=end)
    writer.writerow(["email", "topics", "frequency", "confirmed"])
    expected: list[tuple[int, str, tuple[str, ...], str, bool]] = []
    bad_lines: list[int] = []
    for line, (kind, value) in enumerate(rows, start=2):
        if kind == "bad":
            assert isinstance(value, list)
            writer.writerow(value)
            bad_lines.append(line)
            continue
        assert isinstance(value, tuple)
        local, domain, topics, frequency, confirmed = value
        writer.writerow([f"{local}@{domain}", ";".join(topics), frequency, confirmed])
        ascii_domain = domain.lower().replace("bücher.de", "xn--bcher-kva.de")
        flag = confirmed in ("true", "yes", "1")
        expected.append((line, f"{local.lower()}@{ascii_domain}", tuple(sorted(topics)), frequency or "weekly", flag))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        path.write_bytes(buffer.getvalue().encode(codec))
        problems: list[tuple[int, str]] = []
        stream, _ = open_text(path, detect_encoding(path))
        with stream:
            got: list[Row] = list(read_rows(stream, TOPICS, (), "weekly", lambda n, what: problems.append((n, what))))
    assert [(r.line, r.email, r.topics, r.frequency, r.confirmed) for r in got] == expected
    assert [line for line, _ in problems] == bad_lines
    assert all(what for _, what in problems)
