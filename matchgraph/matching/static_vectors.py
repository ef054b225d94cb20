"""Static sentence vectors that ship with matchgraph: dense matching in the default install.

A text's vector is the sum of fixed vectors of its WordPiece tokens, normalised to unit length;
two texts are compared by cosine. The token vectors were fitted to the all-MiniLM-L6-v2 sentence
encoder (Apache-2.0) the way tokenlearn does it: starting from the encoder's embedding of every
vocabulary token on its own, mapped linearly and then adjusted token by token so that the mean of
a sentence's token vectors comes close to the encoder's embedding of the sentence, over some 40,000
real sentences (docstrings of Python packages, MTEB task descriptions); 384 dimensions, the
encoder's own space. ``bench/distil_static.py`` rebuilds the table.

No neural network runs at match time: embedding a need is a tokenizer pass and a mean of a few
rows, so cold ``matchgraph match`` stays fast and entity vectors for 100k entities take seconds.
The vectors are weaker than the full encoder (``--semantic``) but carry much of its knowledge of
what words mean alike ("masked language model" is near "BERT-style encoder").

The tokenizer is BERT's uncased WordPiece written out in Python (lower case, accents stripped,
punctuation split off, greedy longest-match word pieces), so nothing beyond NumPy is imported.
ASCII text, 97 % of the MTEB descriptions, takes a path of two regular expressions that splits
exactly as the character-by-character path does (a test compares them on random ASCII): 25x
faster on the 2,021 ASCII MTEB descriptions (0.019 s against 0.479 s); the static vectors of
20,000 entities take 2.7 s of CPU instead of 8.8 (BENCHMARKS.md, round 5).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["StaticEncoder", "load_static", "wordpiece", "DATA_FILE", "VOCAB_FILE"]

#: The token table: float16, one row per token id, already weighted (memory-mapped when loaded).
DATA_FILE = Path(__file__).parent.parent / "data" / "static-minilm.vectors.npy"
#: The WordPiece vocabulary, one token per line, in id order.
VOCAB_FILE = Path(__file__).parent.parent / "data" / "static-minilm.vocab.txt"
_MAX_WORD = 100


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF or 0x2A700 <= cp <= 0x2B73F
            or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF or 0xF900 <= cp <= 0xFAFF
            or 0x2F800 <= cp <= 0x2FA1F)


# ASCII text (nearly every catalog text) needs none of the Unicode tables: control characters other
# than tab and line breaks are dropped, and a token is a run of letters and digits or one punctuation
# character (BERT counts every ASCII symbol as punctuation).
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_TOKEN = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")


def _basic(text: str) -> list[str]:
    """BERT's basic tokenizer (uncased): clean, split CJK characters and punctuation, strip accents."""
    if text.isascii():
        return _ASCII_TOKEN.findall(_ASCII_CONTROL.sub("", text).lower())
    return _basic_unicode(text)


def _basic_unicode(text: str) -> list[str]:
    """:func:`_basic` for text with non-ASCII characters, one character at a time."""
    out: list[str] = []
    chars = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        chars.append(f" {ch} " if _is_cjk(cp) else (" " if ch.isspace() else ch))
    for word in "".join(chars).lower().split():
        word = "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")
        current = ""
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    out.append(current)
                    current = ""
                out.append(ch)
            else:
                current += ch
        if current:
            out.append(current)
    return out


class _Vocab:
    def __init__(self, tokens: list[str]) -> None:
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.unk = self.ids.get("[UNK]", 0)

    @lru_cache(maxsize=1 << 17)
    def pieces(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first WordPiece ids of one basic token."""
        if len(word) > _MAX_WORD:
            return (self.unk,)
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.ids.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return (self.unk,)
            ids.append(found)
            start = end
        return tuple(ids)


def wordpiece(text: str, vocab: list[str] | _Vocab) -> list[int]:
    """WordPiece token ids of a text (no ``[CLS]``/``[SEP]``), as BERT's uncased tokenizer gives them.

    Examples
    --------
    >>> wordpiece("Unaffable, isn't it?", ["[UNK]", "un", "##aff", "##able", ",", "isn", "'", "t", "it", "?"])
    [1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    table = vocab if isinstance(vocab, _Vocab) else _Vocab(list(vocab))
    return [i for word in _basic(text) for i in table.pieces(word)]


class StaticEncoder:
    """Unit sentence vectors as weighted means of static token vectors.

    Parameters
    ----------
    vocab : list of str
        WordPiece vocabulary in id order.
    vectors : numpy.ndarray
        One (weighted) vector per token.

    Examples
    --------
    >>> enc = StaticEncoder(["[UNK]", "cat", "dog"], np.array([[0, 0], [1, 0], [0.8, 0.6]], dtype=np.float32))
    >>> [[round(float(x), 2) for x in row] for row in enc.encode(["cat", "dog", "unknown words"])]
    [[1.0, 0.0], [0.8, 0.6], [0.0, 0.0]]
    """

    def __init__(self, vocab: list[str], vectors: np.ndarray) -> None:
        self.vocab = _Vocab(list(vocab))
        self.vectors = vectors
        self.dim = int(vectors.shape[1])
        self._skip = {self.vocab.ids[t] for t in ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]") if t in self.vocab.ids}

    def ids(self, text: str) -> list[int]:
        """The token ids a text's vector is the mean of (unknown and special tokens left out)."""
        return [i for i in wordpiece(text, self.vocab) if i not in self._skip]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, float32, shape ``(len(texts), dim)``; all zeros for a text without known tokens."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = self.ids(text or "")
            if ids:
                v = self.vectors[np.asarray(ids, dtype=np.int64)].astype(np.float32).sum(0)
                norm = float(np.linalg.norm(v))
                if norm > 0:
                    out[row] = v / norm
        return out


@lru_cache(maxsize=1)
def load_static() -> StaticEncoder:
    """The encoder with the bundled token table (loaded once per process).

    Raises
    ------
    FileNotFoundError
        The package was installed without its data files.
    """
    vectors = np.asarray(np.load(DATA_FILE, mmap_mode="r"))
    vocab = VOCAB_FILE.read_text(encoding="utf-8").split("\n")[:len(vectors)]
    return StaticEncoder(vocab, vectors)
