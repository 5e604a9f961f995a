"""Compiled (numba) stay detector for episodes: one pass over each episode's pings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

__all__ = ["stopped_episodes"]


@njit(nogil=True, cache=True, error_model="numpy")
def stopped_episodes(
    starts: Any,
    ends: Any,
    t: Any,
    x: Any,
    y: Any,
    usable: Any,
    radius_m: float,
    min_ms: float,
) -> Any:
    """Whether each episode holds a stay: usable pings near one of them for long enough.

    A stay is usable pings within ``radius_m`` of the first of them for at least
    ``min_ms``.

    Episode ``e`` is the rows ``starts[e]:ends[e]`` of the time-sorted arrays.
    From each usable ping in turn (the anchor), the following usable pings are
    taken while they stay within the radius of it; the episode is stopped when
    they span at least ``min_ms``. Unusable pings (fixes too coarse to place a
    stay) are stepped over.
    """
    out = np.zeros(starts.shape[0], dtype=np.bool_)
    for e in range(starts.shape[0]):
        lo = starts[e]
        hi = ends[e]
        for i in range(lo, hi):
            if not usable[i]:
                continue
            last = t[i]
            for j in range(i + 1, hi):
                if not usable[j]:
                    continue
                if math.hypot(x[j] - x[i], y[j] - y[i]) > radius_m:
                    break
                last = t[j]
            if last - t[i] >= min_ms:
                out[e] = True
                break
    return out
