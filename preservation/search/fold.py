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
from functools import lru_cache

WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 12  # more words only narrow a result that is already tiny
MAX_WORD = 60  # no Vietnamese word is longer; a longer run is noise (a hash, a pasted blob)


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """One character folded: ``Ệ`` -> ``e``, ``đ``/``Đ`` -> ``d``; may be "" (a lone mark)."""
    if ch < "\x80":
        return ch.lower()
    if ch in "đĐ":
        return "d"
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
    return base.lower().replace("đ", "d")


def fold(text: str) -> str:
    """``text`` without case or diacritics; "Đảng ủy" -> "dang uy"."""
    if text.isascii():
        return text.lower()
    return "".join(fold_char(c) for c in unicodedata.normalize("NFC", text))


def words(text: str) -> list[str]:
    """The folded words of ``text`` (what the index holds and a query looks for)."""
    return [w for w in WORD.findall(fold(text)) if len(w) <= MAX_WORD]


def index_text(*parts: str | None) -> str:
    """The folded words of the parts, joined by single spaces: the form both backends index,
    free of anything their own tokenisers could read differently (``123/QĐ-UBND``)."""
    return " ".join(w for p in parts if p for w in words(p))


def query_words(q: str | None) -> list[str]:
    """The distinct words of a query, in order, at most ``MAX_QUERY_WORDS``."""
    seen: dict[str, None] = {}
    for w in words(q or ""):
        seen.setdefault(w, None)
    return list(seen)[:MAX_QUERY_WORDS]


def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each folded character the index in ``text`` it came from:
    what maps a match in the folded text back to the original words for a snippet."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        f = fold_char(ch)
        out.append(f)
        where.extend([i] * len(f))
    return "".join(out), where
