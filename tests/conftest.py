"""Shared fixtures; the paths themselves live in support.py so tests can import them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import SAMPLES, SHARED_DATA, shared_file

__all__ = ["SAMPLES", "SHARED_DATA", "shared_file"]

# Maps are drawn off screen in the tests (and in the notebook they execute).
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def samples() -> Path:
    return SAMPLES
