"""Folding for search: case and Vietnamese diacritics (đ/Đ included) removed in Python, the
same way for the indexed text and for the query, so both backends agree and neither needs the
PostgreSQL ``unaccent`` extension (which the harness's PostgreSQL may lack, and which does not
fold every combining sequence NFD produces the same way).

Words are runs of letters and digits (``[^\\W_]+``); everything else separates them, so a query
can carry no FTS syntax at all: quotes, ``*``, ``-``, ``NEAR``, ``:`` and parentheses are just
separators, and the match expression is built from the words alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

NOT_WORD = re.compile(r"[\W_]+")
MAX_QUERY_WORDS = 12  # more words only narrow a result that is already tiny
MAX_WORD = 60  # no Vietnamese word is longer; a longer run is noise (a hash, a pasted blob)


@lru_cache(maxsize=1)
def _marks() -> dict[int, str | None]:
    """Every combining mark dropped, ``đ`` (``Đ`` once lowered) to ``d``: one table for
    ``str.translate``, which folds in C (a million documents are folded at a reindex)."""
    table: dict[int, str | None] = {cp: None for cp in range(0x300, 0x110000)
                                    if unicodedata.combining(chr(cp))}
    table[ord("đ")] = "d"
    return table


def fold(text: str) -> str:
    """``text`` without case or diacritics; "Đảng ủy" -> "dang uy". Lowered first: ``İ``
    lowers to ``i`` and a combining dot, which the decomposition then drops."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFD", text.lower()).translate(_marks())


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """One character folded as ``fold`` folds it in a text (may be "": a lone mark)."""
    return fold(ch)


def words(text: str) -> list[str]:
    """The folded words of ``text`` (what the index holds and a query looks for)."""
    return [w for w in NOT_WORD.split(fold(text)) if w and len(w) <= MAX_WORD]


def index_text(*parts: str | None) -> str:
    """The folded words of the parts, joined by single spaces: the form both backends index,
    free of anything their own tokenisers could read differently (``123/QĐ-UBND``)."""
    return " ".join(words(" ".join(p for p in parts if p)))


def query_words(q: str | None) -> list[str]:
    """The distinct words of a query, in order, at most ``MAX_QUERY_WORDS``."""
    seen: dict[str, None] = {}
    for w in words(q or ""):
        seen.setdefault(w, None)
    return list(seen)[:MAX_QUERY_WORDS]


def fold_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """``text`` folded, and for each folded character the index in ``text`` it came from:
    what maps a match in the folded text back to the original words for a snippet."""
    if all(len(fold_char(c)) == 1 for c in set(text) if not c.isascii()):
        # one folded character per character (NFC text: the usual case): offsets are equal
        folded = fold(text)
        if len(folded) == len(text):
            return folded, range(len(text))
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = fold_char(ch)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where
