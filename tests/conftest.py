"""Shared fixtures; the paths themselves live in support.py so tests can import them."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import SAMPLES, SHARED_DATA, shared_file

__all__ = ["SAMPLES", "SHARED_DATA", "shared_file"]


@pytest.fixture
def samples() -> Path:
    return SAMPLES
