"""Snippets in the original text (with its diacritics) around the words a query matched.

The index holds folded words; a snippet is cut from the original text by folding it with a map
of offsets (``fold.fold_with_offsets``) and finding the query's words there, whole words only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from preservation.search.fold import fold_with_offsets

WIDTH = 160  # characters of original text in a snippet
ELLIPSIS = "…"


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: list[tuple[int, int]]  # [start, end) of each matched word in ``text``


def _spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """Where the words are in ``text``, as [start, end) of the original characters."""
    if not words:
        return []
    folded, where = fold_with_offsets(text)
    pattern = re.compile(r"(?<![^\W_])(?:" + "|".join(re.escape(w) for w in sorted(
        words, key=len, reverse=True)) + r")(?![^\W_])")
    spans = []
    for m in pattern.finditer(folded):
        start = where[m.start()]
        end = where[m.end() - 1] + 1
        while end < len(text) and unicodedata.combining(text[end]):
            end += 1  # combining marks of an NFD last letter belong to the word
        spans.append((start, end))
    return spans


def make_snippet(text: str, words: list[str], width: int = WIDTH) -> Snippet:
    """At most ``width`` characters of ``text`` around its first matched word (the start of
    the text when nothing matches), cut at spaces, with ``…`` where it was cut."""
    text = " ".join(text.split())
    spans = _spans(text, words)
    if len(text) <= width:
        return Snippet(text, spans)
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and first - space < width // 2 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(text) else ""
    shift = len(prefix) - start
    inside = [(a + shift, b + shift) for a, b in spans if a >= start and b <= end]
    return Snippet(prefix + text[start:end] + suffix, inside)
