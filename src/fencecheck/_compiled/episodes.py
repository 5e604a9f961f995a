"""Compiled (numba) stay detector for episodes: one pass over each episode's pings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "best_per_group",
    "dwell_upper_bounds",
    "group_statistics",
    "median_by_group",
    "stopped_episodes",
]


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


@njit(nogil=True, cache=True, error_model="numpy")
def group_statistics(first: Any, last: Any, depth: Any, p: Any, inside: Any) -> Any:
    """Per contiguous group ``first[g]..last[g]``: deepest row, best and median p, inside count.

    The deepest row is the first of equal depths; the median of an even count is
    the mean of the two middle values. A NaN ``p`` (not computed) is left out of
    the best (NaN when all are) and makes the median NaN.
    """
    n = first.shape[0]
    deepest = np.empty(n, dtype=np.int64)
    p_best = np.empty(n, dtype=np.float64)
    p_median = np.empty(n, dtype=np.float64)
    inside_count = np.empty(n, dtype=np.int64)
    for g in range(n):
        lo = first[g]
        hi = last[g] + 1
        best_row = lo
        top = -np.inf
        unknown = False
        count = 0
        for i in range(lo, hi):
            if depth[i] > depth[best_row]:
                best_row = i
            if p[i] > top:
                top = p[i]
            elif not p[i] <= top:
                unknown = True  # a NaN: a value not computed
            if inside[i]:
                count += 1
        deepest[g] = best_row
        p_best[g] = top if top > -np.inf else np.nan
        inside_count[g] = count
        k = hi - lo
        if unknown:
            p_median[g] = np.nan
        elif k == 1:
            p_median[g] = p[lo]
        else:
            ordered = np.sort(p[lo:hi])
            p_median[g] = (ordered[(k - 1) // 2] + ordered[k // 2]) / 2.0
    return deepest, p_best, p_median, inside_count


@njit(nogil=True, cache=True, error_model="numpy")
def median_by_group(group: Any, values: Any, n: int) -> Any:
    """The median of ``values`` per group ``0..n-1`` (NaN for an empty group).

    A counting sort by group, then each group's values sorted on their own.
    """
    counts = np.zeros(n + 1, dtype=np.int64)
    for g in group:
        counts[g + 1] += 1
    starts = np.cumsum(counts)
    fill = starts[:-1].copy()
    ordered = np.empty(values.shape[0], dtype=np.float64)
    for i in range(group.shape[0]):
        ordered[fill[group[i]]] = values[i]
        fill[group[i]] += 1
    out = np.full(n, np.nan)
    for g in range(n):
        lo = starts[g]
        k = starts[g + 1] - lo
        if k:
            chunk = np.sort(ordered[lo : lo + k])
            out[g] = (chunk[(k - 1) // 2] + chunk[k // 2]) / 2.0
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def dwell_upper_bounds(
    person: Any, t: Any, entry: Any, exit_: Any, fence: Any, credible_keys: Any, n_fences: int
) -> Any:
    """Seconds from the last ping before ``entry`` to the first after ``exit_`` not credibly inside.

    ``person`` and ``t`` are sorted by person, then time; ``entry`` and ``exit_``
    are positions in them (an episode's first and last credible ping) and
    ``fence`` the episode's fence. A ping is credibly inside when
    ``position * n_fences + fence`` is in the sorted ``credible_keys``; the
    bound steps over such pings, and stops at the first ping that is not one.
    NaN when the person has no such ping before or after.
    """
    n = person.shape[0]
    m = credible_keys.shape[0]
    out = np.empty(entry.shape[0], dtype=np.float64)
    for e in range(entry.shape[0]):
        who = person[entry[e]]
        f = fence[e]
        before = entry[e] - 1
        while before >= 0 and person[before] == who:
            key = before * n_fences + f
            k = np.searchsorted(credible_keys, key)
            if k < m and credible_keys[k] == key:
                before -= 1
            else:
                break
        after = exit_[e] + 1
        while after < n and person[after] == who:
            key = after * n_fences + f
            k = np.searchsorted(credible_keys, key)
            if k < m and credible_keys[k] == key:
                after += 1
            else:
                break
        if before >= 0 and after < n and person[before] == who and person[after] == who:
            out[e] = (t[after] - t[before]) / 1000.0
        else:
            out[e] = np.nan
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def best_per_group(
    group: Any, eligible: Any, dwell: Any, p: Any, entry: Any, fence: Any, n_groups: int
) -> Any:
    """Per group, the best eligible row; -1 for a group without one.

    Best is the longest dwell, then the highest ``p`` (NaN lowest), then the
    earliest entry, then the lowest fence, then the first row: the first row
    of a stable sort by those keys, found in one pass.
    """
    best = np.full(n_groups, -1, dtype=np.int64)
    for e in range(group.shape[0]):
        if not eligible[e]:
            continue
        g = group[e]
        b = best[g]
        if b < 0:
            best[g] = e
            continue
        if dwell[e] != dwell[b]:
            if dwell[e] > dwell[b]:
                best[g] = e
            continue
        pe = p[e] if p[e] == p[e] else -np.inf
        pb = p[b] if p[b] == p[b] else -np.inf
        if pe != pb:
            if pe > pb:
                best[g] = e
            continue
        if entry[e] != entry[b]:
            if entry[e] < entry[b]:
                best[g] = e
            continue
        if fence[e] < fence[b]:
            best[g] = e
    return best
