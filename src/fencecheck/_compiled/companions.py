"""Compiled kernels of the companion rule: slot positions, candidate pairs, pair statistics.

A track is one owner's pings sorted by time, with equal times already reduced
to the last row. Its position at a slot end ``e`` (a multiple of ``slot_ms``) is
known when the owner's last ping before ``e``, ``a``, is at most ``hold_ms``
old; it is interpolated linearly (x, y and accuracy) towards the next ping
``b`` when ``t_b - t_a <= hold_ms``, and held at ``a`` otherwise. So the slots a
ping ``a`` speaks for are the ends ``e`` in ``(t_a, min(t_a + hold, t_b)]``.

Nothing here imports from the rest of fencecheck; arrays in, arrays out.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

__all__ = ["candidate_pairs", "pair_statistics", "track_positions"]


@njit(nogil=True, cache=True, error_model="numpy")
def _first_slot(t: int, slot_ms: int) -> int:
    """The first slot end strictly after ``t``."""
    return (t // slot_ms + 1) * slot_ms


@njit(nogil=True, cache=True, error_model="numpy")
def _at(i: int, e: int, t: Any, x: Any, y: Any, acc: Any, has_next: bool, hold_ms: int) -> Any:
    """The position at slot end ``e`` from ping ``i`` (and ping ``i + 1`` when it follows)."""
    if has_next and t[i + 1] - t[i] <= hold_ms and t[i + 1] > t[i]:
        f = (e - t[i]) / (t[i + 1] - t[i])
        return (
            x[i] + f * (x[i + 1] - x[i]),
            y[i] + f * (y[i + 1] - y[i]),
            acc[i] + f * (acc[i + 1] - acc[i]),
        )
    return x[i], y[i], acc[i]


@njit(nogil=True, cache=True, error_model="numpy")
def _last_slot(i: int, t: Any, has_next: bool, hold_ms: int) -> int:
    end = t[i] + hold_ms
    if has_next and t[i + 1] < end:
        end = t[i + 1]
    return end


@njit(nogil=True, cache=True, error_model="numpy")
def track_positions(
    owner: Any, t: Any, x: Any, y: Any, acc: Any, lo: Any, hi: Any, slot_ms: int, hold_ms: int
) -> Any:
    """Every known slot position of every track, slot ends in ``(lo[owner], hi[owner]]``.

    Returns ``(owner, e, x, y, accuracy)`` arrays, by owner then slot end.
    """
    n = t.shape[0]
    count = 0
    for i in range(n):
        o = owner[i]
        has_next = i + 1 < n and owner[i + 1] == o
        first = max(_first_slot(t[i], slot_ms), _first_slot(lo[o], slot_ms))
        last = min(_last_slot(i, t, has_next, hold_ms), hi[o])
        if last >= first:
            count += (last - first) // slot_ms + 1
    out_owner = np.empty(count, dtype=np.int64)
    out_e = np.empty(count, dtype=np.int64)
    out_x = np.empty(count, dtype=np.float64)
    out_y = np.empty(count, dtype=np.float64)
    out_acc = np.empty(count, dtype=np.float64)
    k = 0
    for i in range(n):
        o = owner[i]
        has_next = i + 1 < n and owner[i + 1] == o
        first = max(_first_slot(t[i], slot_ms), _first_slot(lo[o], slot_ms))
        last = min(_last_slot(i, t, has_next, hold_ms), hi[o])
        e = first
        while e <= last:
            px, py, pa = _at(i, e, t, x, y, acc, has_next, hold_ms)
            out_owner[k] = o
            out_e[k] = e
            out_x[k] = px
            out_y[k] = py
            out_acc[k] = pa
            k += 1
            e += slot_ms
    return out_owner, out_e, out_x, out_y, out_acc


@njit(nogil=True, cache=True, error_model="numpy")
def _cell_key(e: int, cx: int, cy: int, e0: int, slot_ms: int) -> int:
    return ((e - e0) // slot_ms) * (1 << 42) + (cx + (1 << 20)) * (1 << 21) + (cy + (1 << 20))


@njit(nogil=True, cache=True, error_model="numpy")
def candidate_pairs(
    person: Any,
    t: Any,
    x: Any,
    y: Any,
    acc: Any,
    lo: Any,
    hi: Any,
    case_keys: Any,
    slot_start: Any,
    case_owner: Any,
    case_x: Any,
    case_y: Any,
    n_cases: int,
    e0: int,
    slot_ms: int,
    hold_ms: int,
    cell_m: float,
    close_m: float,
) -> Any:
    """The (person, case) pairs with a slot in one grid cell, or within ``close_m``.

    The persons' positions are made slot by slot from their pings (never stored);
    the cases' are looked up by ``case_keys``, the sorted ``(slot, cell)`` keys of
    their positions (``case_owner``, ``case_x``, ``case_y`` in the same order), whose
    slot ``s`` (counted from ``e0``) holds rows ``[slot_start[s], slot_start[s + 1])``:
    a slot without a case costs nothing, and a search runs over one slot's keys only.
    """
    n = t.shape[0]
    seen = np.full(n_cases, -1, dtype=np.int64)
    out_person = []
    out_case = []
    n_slots = slot_start.shape[0] - 1
    for i in range(n):
        p = person[i]
        has_next = i + 1 < n and person[i + 1] == p
        first = max(_first_slot(t[i], slot_ms), _first_slot(lo[p], slot_ms))
        last = min(_last_slot(i, t, has_next, hold_ms), hi[p])
        e = first
        while e <= last:
            s = (e - e0) // slot_ms
            if e < e0 or s >= n_slots or slot_start[s] == slot_start[s + 1]:
                e += slot_ms
                continue
            lo_k = slot_start[s]
            hi_k = slot_start[s + 1]
            px, py, _ = _at(i, e, t, x, y, acc, has_next, hold_ms)
            cx = int(math.floor(px / cell_m))  # noqa: RUF046 (numba)
            cy = int(math.floor(py / cell_m))  # noqa: RUF046 (numba)
            fx = px - cx * cell_m
            fy = py - cy * cell_m
            for dx in range(-1, 2):
                if dx == -1 and fx > close_m:
                    continue
                if dx == 1 and cell_m - fx > close_m:
                    continue
                for dy in range(-1, 2):
                    if dy == -1 and fy > close_m:
                        continue
                    if dy == 1 and cell_m - fy > close_m:
                        continue
                    key = _cell_key(e, cx + dx, cy + dy, e0, slot_ms)
                    k = lo_k + np.searchsorted(case_keys[lo_k:hi_k], key)
                    while k < hi_k and case_keys[k] == key:
                        c = case_owner[k]
                        if seen[c] != p:
                            same = dx == 0 and dy == 0
                            if same or math.hypot(case_x[k] - px, case_y[k] - py) <= close_m:
                                seen[c] = p
                                out_person.append(p)
                                out_case.append(c)
                        k += 1
            e += slot_ms
    return np.array(out_person, dtype=np.int64), np.array(out_case, dtype=np.int64)


@njit(nogil=True, cache=True, error_model="numpy")
def pair_statistics(
    pair_person: Any,
    pair_case: Any,
    person_start: Any,
    t: Any,
    x: Any,
    y: Any,
    acc: Any,
    lo: Any,
    hi: Any,
    case_start: Any,
    case_e: Any,
    case_x: Any,
    case_y: Any,
    case_acc: Any,
    slot_ms: int,
    hold_ms: int,
    cell_m: float,
    close_m: float,
) -> Any:
    """Per pair, over every slot where both positions are known.

    ``person_start`` and ``case_start`` give each owner's rows (``[start[o],
    start[o + 1])``); the cases' rows are their slot positions, sorted by slot end.
    Returns per pair the grid minutes' slots in the grid and in the grid moved by
    half a cell in x, in y and in both (``grid``, shape (n, 4)), the close slots,
    the smallest distance, the first slot's start and the last slot's end counted
    in grid or close slots, the same for close slots alone, and, for every close
    slot, its pair, distance and combined sigma² (for ``p_close``).
    """
    n_pairs = pair_person.shape[0]
    grid = np.zeros((n_pairs, 4), dtype=np.int64)
    close = np.zeros(n_pairs, dtype=np.int64)
    min_d = np.full(n_pairs, np.inf)
    first = np.full(n_pairs, -1, dtype=np.int64)
    last = np.full(n_pairs, -1, dtype=np.int64)
    first_close = np.full(n_pairs, -1, dtype=np.int64)
    last_close = np.full(n_pairs, -1, dtype=np.int64)
    close_pair = []
    close_d = []
    close_s2 = []
    half = 0.5 * cell_m
    for q in range(n_pairs):
        p = pair_person[q]
        c = pair_case[q]
        ck = case_start[c]
        c_end = case_start[c + 1]
        for i in range(person_start[p], person_start[p + 1]):
            has_next = i + 1 < person_start[p + 1]
            f0 = max(_first_slot(t[i], slot_ms), _first_slot(lo[p], slot_ms))
            f1 = min(_last_slot(i, t, has_next, hold_ms), hi[p])
            e = f0
            while e <= f1:
                while ck < c_end and case_e[ck] < e:
                    ck += 1
                if ck >= c_end:
                    break
                if case_e[ck] != e:
                    e += slot_ms
                    continue
                px, py, pa = _at(i, e, t, x, y, acc, has_next, hold_ms)
                qx = case_x[ck]
                qy = case_y[ck]
                d = math.hypot(qx - px, qy - py)
                if d < min_d[q]:
                    min_d[q] = d
                counted = False
                for g in range(4):
                    ox = half if g == 1 or g == 3 else 0.0
                    oy = half if g == 2 or g == 3 else 0.0
                    same = math.floor((px + ox) / cell_m) == math.floor(
                        (qx + ox) / cell_m
                    ) and math.floor((py + oy) / cell_m) == math.floor((qy + oy) / cell_m)
                    if same:
                        grid[q, g] += 1
                        if g == 0:
                            counted = True
                if d <= close_m:
                    close[q] += 1
                    counted = True
                    if first_close[q] < 0:
                        first_close[q] = e - slot_ms
                    last_close[q] = e
                    close_pair.append(q)
                    close_d.append(d)
                    sp = pa / 1.5096
                    sc = case_acc[ck] / 1.5096
                    close_s2.append(sp * sp + sc * sc)
                if counted:
                    if first[q] < 0:
                        first[q] = e - slot_ms
                    last[q] = e
                e += slot_ms
    return (
        grid,
        close,
        min_d,
        first,
        last,
        first_close,
        last_close,
        np.array(close_pair, dtype=np.int64),
        np.array(close_d, dtype=np.float64),
        np.array(close_s2, dtype=np.float64),
    )
