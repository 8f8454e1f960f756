"""What a story is about, as a vector: so that two reports worded their own way ("FCC rules AI voices
in robocalls illegal", "Declaratory ruling extends 1991 robocall law to cloned voices") still come out
alike when they share few words. Pure; reads only the vectors shipped with the package.

The vectors (digest/events/vectors/, made by tools/distill_vectors.py) are a static distillation of
the sentence model all-MiniLM-L6-v2: one 64-dimensional vector per word piece of its vocabulary. A
story's vector is the sum of its words' pieces' vectors, at unit length, which is what the distilled
model computes (the mean points the same way), without running any model: each distinct word is split
into pieces once (the model's own WordPiece tokenizer, through ``tokenizers``) and then looked up.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer
from tokenizers.models import WordPiece
from tokenizers.normalizers import BertNormalizer
from tokenizers.pre_tokenizers import BertPreTokenizer

VECTORS = Path(__file__).parent / "vectors"
DIMENSIONS = 64
# Kept with a grouped story as half-precision bytes (see features.dump_features): 128 bytes a story.
STORED = np.float16
# Stories whose pieces are summed at once (a few megabytes of vectors).
_CHUNK = 512


class _Meanings:
    """The shipped vectors and the model's own tokenizer (lower-cased, accents stripped, punctuation
    split off), read once."""

    def __init__(self, folder: Path) -> None:
        pieces = (folder / "pieces.txt").read_text(encoding="utf-8").splitlines()
        self.table = np.load(folder / "vectors.npy").astype(np.float32)
        if self.table.shape != (len(pieces), DIMENSIONS):
            raise ValueError(f"{folder}: {len(pieces)} pieces but vectors of shape {self.table.shape}")
        vocabulary = {piece: row for row, piece in enumerate(pieces)}
        tokenizer = Tokenizer(WordPiece(vocabulary, unk_token="[UNK]", continuing_subword_prefix="##"))
        tokenizer.normalizer = BertNormalizer(lowercase=True)
        tokenizer.pre_tokenizer = BertPreTokenizer()
        self.tokenizer = tokenizer
        self.unknown = vocabulary["[UNK]"]


@lru_cache(maxsize=1)
def _meanings() -> _Meanings:
    return _Meanings(VECTORS)


def pieces(word: str) -> tuple[int, ...]:
    """The rows of a word's pieces ("deepfake": "deep", "##fa", "##ke"); callers remember them per word."""
    meanings = _meanings()
    return tuple(i for i in meanings.tokenizer.encode(word, add_special_tokens=False).ids if i != meanings.unknown)


def vectors(stories: Sequence[Sequence[int]]) -> list[bytes]:
    """Each story's meaning from the rows of its word pieces: the unit-length sum of their vectors,
    as stored bytes (empty when a story has none). Summed a chunk of stories at a time, so the
    pieces' vectors of a whole poll are never in memory at once."""
    table, found = _meanings().table, list[bytes]()
    for start in range(0, len(stories), _CHUNK):
        chunk = stories[start : start + _CHUNK]
        lengths = np.fromiter(map(len, chunk), dtype=np.intp, count=len(chunk))
        rows = np.fromiter(chain.from_iterable(chunk), dtype=np.intp, count=int(lengths.sum()))
        some = lengths > 0
        if not len(rows):
            found.extend(b"" for _ in chunk)
            continue
        # Each story with pieces sums from where its pieces start to where the next one's do.
        sums = np.add.reduceat(table[rows], (np.cumsum(lengths) - lengths)[some], axis=0)
        unit = iter((sums / np.maximum(np.linalg.norm(sums, axis=1), 1e-12)[:, None]).astype(STORED))
        found.extend(next(unit).tobytes() if has else b"" for has in some)
    return found


def matrix(stored: Sequence[bytes]) -> np.ndarray:
    """Stored vectors as the rows of one array, ready to compare (float32): one conversion for a
    whole window instead of one per story; a story without a meaning gets a row of zeros."""
    empty = bytes(DIMENSIONS * np.dtype(STORED).itemsize)
    joined = b"".join(v or empty for v in stored)
    return np.frombuffer(joined, dtype=STORED).reshape(len(stored), DIMENSIONS).astype(np.float32)
