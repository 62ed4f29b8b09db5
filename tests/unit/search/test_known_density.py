"""``query._known``: a query's matches per id from the database's word statistics
(``[rows, floor, share of each word...]``), given only where they tell it clearly; otherwise
None, and the search takes its first look at the entries (``_peek``)."""

from __future__ import annotations

import pytest

from preservation.search import query

SPAN = 1_000_000


def test_one_tracked_word_is_its_share():
    assert query._known([SPAN, 0.001, 0.2], SPAN) == pytest.approx(0.2)


def test_the_share_is_per_id_over_the_span_of_ids():
    """After deletions the ids are spread thinner than the entries."""
    assert query._known([SPAN / 2, 0.001, 0.2], SPAN) == pytest.approx(0.1)


def test_a_rare_word_makes_the_query_rare_whatever_the_others():
    """Its share bounds the query's: under ``DENSE_LIMIT`` there, every match is read."""
    known = query._known([SPAN, 0.001, 0.5, 0.002, 0.4], SPAN)
    assert known is not None and known * SPAN <= query.DENSE_LIMIT


def test_a_word_the_statistics_do_not_track_is_under_their_floor():
    known = query._known([SPAN, 0.001, 0.5, -1], SPAN)
    assert known == pytest.approx(0.001)


def test_a_common_word_not_tracked_is_not_guessed():
    """A floor past ``DENSE_LIMIT`` bounds nothing useful: the first look decides."""
    assert query._known([SPAN, 0.01, -1], SPAN) is None


def test_words_found_together_or_apart_are_for_the_first_look():
    """0.2 and 0.2: 0.04 if apart, 0.2 if always together ("hồ sơ"): not guessed."""
    assert query._known([SPAN, 0.001, 0.2, 0.2], SPAN) is None


def test_common_words_with_a_near_certain_one_are_known_closely():
    known = query._known([SPAN, 0.001, 0.2, 0.9], SPAN)
    assert known is not None and 0.18 <= known <= 0.2


@pytest.mark.parametrize("freqs", [None, [], [SPAN, 0.001]])
def test_no_statistics_no_guess(freqs):
    assert query._known(freqs, SPAN) is None


@pytest.mark.parametrize(("peeked", "held"), [(0.001, 0.04 / query.KNOWN_SLACK),
                                              (0.1, 0.1), (0.5, 0.2 * query.KNOWN_SLACK)])
def test_a_first_look_is_held_within_what_the_words_allow(monkeypatch, peeked, held):
    """Two words in a fifth of the entries each: 0.04 to 0.2 matches per id. A look at 4,000
    ids that saw fewer (it took 4,000 matches for under ``DENSE_LIMIT``: a reading of
    ``DENSE_LIMIT`` matches, then the sample) or more is held to them, with some slack."""
    monkeypatch.setattr(query, "_peek", lambda *a: peeked)
    density = query._density(None, query.SearchQuery(), ["a", "b"], 1, SPAN,
                             [SPAN, 0.001, 0.2, 0.2])
    assert density == pytest.approx(held)


def test_without_statistics_the_first_look_decides(monkeypatch):
    monkeypatch.setattr(query, "_peek", lambda *a: 0.0001)
    assert query._density(None, query.SearchQuery(), ["a"], 1, SPAN, None) == 0.0001
