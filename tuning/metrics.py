"""Metrics shared by retention, the benchmarks and the evaluations: string similarity, quantiles."""

from __future__ import annotations


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions), O(len(a) * len(b))."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1 - Levenshtein / max(len): 1.0 for equal strings (two empty ones included), 0.0 for nothing shared."""
    if not a and not b:
        return 1.0
    if len(a) * len(b) > 4_000_000:  # too big to compare exactly; equal or not is what is left
        return 1.0 if a == b else 0.0
    return 1 - levenshtein(a, b) / max(len(a), len(b))


def pct(values: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank) of values, rounded to 0.01, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))], 2)
