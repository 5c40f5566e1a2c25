"""Reliability tests: the real server under hostile input, faults and load (bounded, seeded)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "/reliability/" in str(item.fspath):
            item.add_marker(pytest.mark.slow)
