"""Subscriber CSV files as spreadsheets save them: UTF-8 with or without BOM, UTF-16, Windows code pages."""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from digest.subscribers.csvfile import detect_encoding, open_text

HEADER = "email,topics,frequency,confirmed\n"


def test_plain_and_bom_utf8_and_utf16_are_recognised(tmp_path: Path) -> None:
    text = HEADER + "josé@example.org,deepfakes,weekly,true\n"
    cases = {
        "plain.csv": (text.encode(), "UTF-8"),
        "bom.csv": (codecs.BOM_UTF8 + text.encode(), "UTF-8 (with byte-order mark)"),
        "utf16.csv": (text.encode("utf-16"), "UTF-16 (with byte-order mark)"),
    }
    for name, (data, label) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        encoding = detect_encoding(path)
        assert (encoding.label, encoding.guessed) == (label, False)
        stream, counter = open_text(path, encoding)
        with stream:
            assert stream.read() == text  # no BOM left at the start of the header
        assert counter.bytes_read == len(data)


def test_an_excel_windows_1252_file_is_guessed_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    rows = "".join(f"reader{i}@example.org,deepfakes,weekly,true\r\n" for i in range(3000))
    # The only non-ASCII byte comes far past the first sample, as in a long list.
    path.write_bytes((HEADER + rows + "josé@example.org,deepfakes,weekly,true\r\n").encode("cp1252"))
    encoding = detect_encoding(path)
    assert encoding.guessed and encoding.codec == "cp1252"
    assert encoding.label == "Windows-1252 (guessed: line 3002 is not UTF-8)"
    stream, _ = open_text(path, encoding)
    with stream:
        assert stream.read().endswith("josé@example.org,deepfakes,weekly,true\r\n")


def test_the_byte_count_follows_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(HEADER + "x@example.org,deepfakes,weekly,true\n" * 100_000)
    stream, counter = open_text(path, detect_encoding(path))
    with stream:
        stream.readline()
        assert 0 < counter.bytes_read < path.stat().st_size  # buffered, not the whole file at once
        for _ in stream:
            pass
    assert counter.bytes_read == path.stat().st_size


@given(st.text(min_size=1, max_size=200), st.booleans())
def test_any_utf8_text_reads_back_unchanged(text: str, bom: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.csv"
        path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode())
        encoding = detect_encoding(path)
        assert not encoding.guessed
        stream, _ = open_text(path, encoding)
        with stream:
            # A leading U+FEFF in UTF-8 is a byte-order mark, whether we wrote it or the text began so.
            assert stream.read() == (text if bom else text.removeprefix("\ufeff"))
