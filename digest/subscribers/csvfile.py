"""Opening a subscriber CSV as text: which encoding it is in, and how many of its bytes were read.

Spreadsheets save CSV in whatever the machine uses: UTF-8 with or without a byte-order mark,
UTF-16 ("Unicode text"), or a Windows code page such as Windows-1252. A file that is valid UTF-8
from start to end is read as UTF-8; otherwise charset-normalizer guesses from a sample that includes
the first byte UTF-8 cannot read, and the import says which encoding it assumed. Progress is the
count of bytes read from the binary file, never ``tell()`` on the text stream (which a csv reader in
the middle of iterating forbids).
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

CHUNK = 1 << 20
SAMPLE = 64 * 1024
# Excel on Windows in Western Europe and the Americas; a tiny sample reads the same in several code
# pages, and then this one is the likeliest.
PREFERRED = "cp1252"
UNDEFINED_IN_PREFERRED = b"\x81\x8d\x8f\x90\x9d"


@dataclass(frozen=True, slots=True)
class Encoding:
    codec: str  # the name Python's codecs know
    label: str  # what people are told
    guessed: bool  # True when the file was not UTF-8 and the encoding is a guess


UTF8 = Encoding("utf-8", "UTF-8", guessed=False)


class CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read through it."""

    def __init__(self, raw: io.FileIO) -> None:
        super().__init__()
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        count = self.raw.readinto(buffer) or 0
        self.bytes_read += count
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


def detect_encoding(path: Path) -> Encoding:
    """The encoding of a whole file: BOMs first, then a full UTF-8 check, then a guess."""
    with path.open("rb") as fh:
        head = fh.read(4)
        if head.startswith(codecs.BOM_UTF8):
            return Encoding("utf-8-sig", "UTF-8 (with byte-order mark)", guessed=False)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return Encoding("utf-16", "UTF-16 (with byte-order mark)", guessed=False)
        fh.seek(0)
        found = _first_non_utf8(fh)
        if found is None:
            return UTF8
        bad, line = found
        fh.seek(0)
        sample = fh.read(SAMPLE)
        if bad > len(sample):
            fh.seek(max(0, bad - 1024))
            sample += b"\n" + fh.read(SAMPLE)
    return _guess(sample, line)


def open_text(path: Path, encoding: Encoding) -> tuple[TextIO, CountingReader]:
    """The file as text for the csv module, and the counter of bytes read from it.

    Bytes the encoding cannot read become U+FFFD, so a row with them is reported, not the file refused.
    """
    counter = CountingReader(io.FileIO(path, "rb"))
    text = io.TextIOWrapper(io.BufferedReader(counter, CHUNK), encoding=encoding.codec, errors="replace", newline="")
    return text, counter


def _first_non_utf8(fh: BinaryIO) -> tuple[int, int] | None:
    """The offset and line of the first byte that is not UTF-8, or None for a UTF-8 file."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = lines = 0
    while chunk := fh.read(CHUNK):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            start = max(0, exc.start)
            return offset + start, lines + chunk.count(b"\n", 0, start) + 1
        offset += len(chunk)
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, lines + 1  # the file ends in the middle of a character
    return None


def _guess(sample: bytes, line: int) -> Encoding:
    where = f"line {line} is not UTF-8"
    codec = _likeliest(sample)
    cleaned = sample.translate(None, UNDEFINED_IN_PREFERRED)
    if codec != PREFERRED and cleaned != sample and _likeliest(cleaned) == PREFERRED:
        # A few stray bytes rule Windows-1252 out for charset-normalizer, yet it reads all the rest
        # best: keep it, and let the rows with those bytes be reported.
        codec = PREFERRED
    return Encoding(codec, f"{_name(codec)} (guessed: {where})", guessed=True)


def _likeliest(sample: bytes) -> str:
    import charset_normalizer  # only for files that are not UTF-8; it takes a while to load

    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return PREFERRED
    for match in matches:
        # Several code pages read a short sample about as well: take the one spreadsheets most likely used.
        if match.chaos <= best.chaos + 0.05 and PREFERRED in match.could_be_from_charset:
            return PREFERRED
    return best.encoding


def _name(codec: str) -> str:
    if codec.startswith("cp12") and len(codec) == 6:
        return f"Windows-{codec[2:]}"
    return codecs.lookup(codec).name
