"""The metrics the benchmarks and the evaluations share."""

from __future__ import annotations

import pytest

from tuning.metrics import levenshtein, pct, similarity


@pytest.mark.parametrize("a, b, expected", [
    ("", "", 0), ("abc", "", 3), ("kitten", "sitting", 3), ("flaw", "lawn", 2), ("same", "same", 0),
])
def test_levenshtein(a, b, expected):
    assert levenshtein(a, b) == expected == levenshtein(b, a)


@pytest.mark.parametrize("a, b, expected", [("", "", 1.0), ("abc", "xyz", 0.0), ("abcd", "abce", 0.75)])
def test_similarity(a, b, expected):
    assert similarity(a, b) == expected


@pytest.mark.parametrize("values, q, expected", [
    ([], 0.5, None),
    ([7.0], 0.95, 7.0),
    ([3.0, 1.0, 2.0], 0.5, 2.0),  # unsorted input
    (list(range(1, 101)), 0.95, 95.0),  # nearest rank: index round(0.95 * 99) = 94
    (list(range(1, 101)), 0.0, 1.0),
    (list(range(1, 101)), 1.0, 100.0),
    ([1.234, 5.678], 1.0, 5.68),
])
def test_pct_is_the_nearest_rank_quantile(values, q, expected):
    assert pct(values, q) == expected
