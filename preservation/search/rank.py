"""Ranking in Python, the same on both backends: BM25's term-frequency saturation and length
normalisation, the title weighing ten times the rest, over the folded words.

Not the backends' own scores: SQLite's ``bm25()`` first counts, for every query word, all the
rows holding it (its IDF), again in every statement that calls it, so scoring a sample spread
over twenty id ranges cost 17 ms a range (2026-12-07, 1M documents); PostgreSQL's
``ts_rank_cd`` weighs no word by its rarity either. Every hit holds every word (AND), so
without IDF the order still rewards where and how often the words occur.
"""

from __future__ import annotations

from collections.abc import Sequence

K1 = 1.2
B = 0.75
TITLE_WEIGHT = 10.0
BODY_CHARS = 4000
"""Of a long body (OCR text), only the beginning is scored: a bounded cost per candidate."""


def _part(tokens: list[str], words: Sequence[str], average: float) -> float:
    if not tokens:
        return 0.0
    norm = K1 * (1 - B + B * len(tokens) / max(average, 1.0))
    total = 0.0
    for w in words:
        tf = tokens.count(w)
        if tf:
            total += tf * (K1 + 1) / (tf + norm)
    return total


def scores(words: Sequence[str], texts: Sequence[tuple[str, str]]) -> list[float]:
    """The score of each ``(title_f, body_f)`` for ``words`` (higher is better); lengths are
    normalised by the averages of the texts given."""
    if not texts:
        return []
    split = [((t or "").split(), (b or "")[:BODY_CHARS].split()) for t, b in texts]
    avg_title = sum(len(t) for t, _ in split) / len(split)
    avg_body = sum(len(b) for _, b in split) / len(split)
    return [TITLE_WEIGHT * _part(t, words, avg_title) + _part(b, words, avg_body)
            for t, b in split]
