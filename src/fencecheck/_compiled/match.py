"""Compiled (numba) kernel of matching: candidate pairs decided exactly, in one pass.

For each ping, the kernel looks up its cell in a :class:`~fencecheck._compiled.grid.BoxGrid`
of the index's windows, keeps the windows whose half-open interval holds the
ping's time, and decides each (ping, fence) pair on the flat geometry of
:mod:`fencecheck._compiled.flat`:

- *where is the ping?* A ray-crossing test per ring (shell, then holes; any part
  of a MultiPolygon) with the orientation sign certified by Shewchuk's error
  bound for ``orient2d``. When the bound cannot certify a sign (the ping on or
  within rounding of an edge's line), or the ping is exactly on a vertex or a
  horizontal edge, the pair is *deferred*: the caller decides it with GEOS.
  Otherwise the answer is the exact one GEOS's robust predicates give.
- *how far?* The minimum over every ring segment of GEOS's own point–segment
  distance formula (``Distance::pointToSegment``), in the same operation order,
  so the distances are GEOS's to the last bit; a pair whose distance lies within
  ``1e-9`` m of a threshold (``buffer_m``, or ``buffer_m + accuracy_m``) is
  deferred all the same, so that no rounding difference can flip a decision.

So a pair's answer is either GEOS's answer or handed back to GEOS. The rules are
those of :mod:`fencecheck._compiled.rules` (docs/domain.md, section 3).

Functions are compiled on first use and cached on disk (``cache=True``); they
release the GIL (``nogil=True``) so that the caller runs them on several threads.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

__all__ = ["UNDECIDED", "locate_fence", "match_block", "point_segment_distance"]

OUTSIDE = 0
INSIDE = 1
UNDECIDED = 2
# Shewchuk's ccwerrboundA, (3 + 16 eps) eps with eps = 2**-53: when
# |det| > bound * (|detleft| + |detright|), the float sign of orient2d is exact.
_ORIENT_BOUND = 3.3306690738754716e-16
THRESHOLD_GUARD_M = 1e-9
_PRUNE_SLACK = 1.0 + 1e-9


@njit(nogil=True, cache=True, error_model="numpy")
def point_segment_distance(
    px: float, py: float, ax: float, ay: float, bx: float, by: float
) -> float:
    """Distance from P to segment AB, as GEOS's ``Distance::pointToSegment`` computes it."""
    if ax == bx and ay == by:
        dx = px - ax
        dy = py - ay
        return math.sqrt(dx * dx + dy * dy)
    len2 = (bx - ax) * (bx - ax) + (by - ay) * (by - ay)
    r = ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / len2
    if r <= 0.0:
        dx = px - ax
        dy = py - ay
        return math.sqrt(dx * dx + dy * dy)
    if r >= 1.0:
        dx = px - bx
        dy = py - by
        return math.sqrt(dx * dx + dy * dy)
    s = ((ay - py) * (bx - ax) - (ax - px) * (by - ay)) / len2
    return abs(s) * math.sqrt(len2)


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _ray_crossing(px: float, py: float, x1: float, y1: float, x2: float, y2: float) -> int:
    """Whether segment 1->2 crosses the ray from P towards +x: 1, 0 or UNDECIDED.

    0 for a segment horizontal at P's height; UNDECIDED when P is within
    rounding of the segment's line (Shewchuk's certificate fails). The caller
    deals with P on the segment: on its end vertex, or along it when horizontal.
    """
    if (y1 > py) == (y2 > py) or (x1 < px and x2 < px):
        return 0
    detleft = (x1 - px) * (y2 - py)
    detright = (y1 - py) * (x2 - px)
    det = detleft - detright
    if abs(det) <= _ORIENT_BOUND * (abs(detleft) + abs(detright)):
        return UNDECIDED
    # P left of P1->P2 (det > 0) on an upward edge, or right of a downward one.
    return 1 if (det > 0.0) == (y2 > y1) else 0


@njit(nogil=True, cache=True, error_model="numpy")
def _locate_ring(
    px: float, py: float, vx: Any, vy: Any, lo: int, hi: int, locate: bool = True
) -> tuple[int, float]:
    """(location in the ring, distance to the ring): OUTSIDE, INSIDE or UNDECIDED.

    With ``locate`` false (the caller knows the point lies outside the ring's
    box) only the distance is computed, and the location is OUTSIDE.

    The ring is no farther than its nearest vertex, so a first pass over the
    vertices bounds the distance. In the second, a segment whose box lies beyond
    that bound, or beyond the best distance so far, cannot be the nearest and
    gets no distance computed (the bounds carry a margin far above rounding, so
    the minimum is exactly GEOS's). Such a segment is not touched by the point
    either, so it can only cross the point's ray, which is tested when its
    height range holds the point's.
    """
    best2 = np.inf
    for k in range(lo, hi - 1):
        ex = vx[k] - px
        ey = vy[k] - py
        best2 = min(best2, ex * ex + ey * ey)
    best2 *= _PRUNE_SLACK * _PRUNE_SLACK
    best = np.inf
    crossings = 0
    undecided = False
    for k in range(lo, hi - 1):
        x1 = vx[k]
        y1 = vy[k]
        x2 = vx[k + 1]
        y2 = vy[k + 1]
        gx = max(min(x1, x2) - px, px - max(x1, x2), 0.0)
        gy = max(min(y1, y2) - py, py - max(y1, y2), 0.0)
        if gx * gx + gy * gy <= best2:
            d = point_segment_distance(px, py, x1, y1, x2, y2)
            if d < best:
                best = d
                best2 = (d * _PRUNE_SLACK) * (d * _PRUNE_SLACK)
            # Only a segment this near can hold the point: on its end vertex, or
            # along it when it is horizontal at the point's height.
            if locate and gy == 0.0:
                on_vertex = px == x2 and py == y2
                on_flat = y1 == py and y2 == py and min(x1, x2) <= px <= max(x1, x2)
                undecided |= on_vertex or on_flat
        if locate and gy == 0.0:
            crossing = _ray_crossing(px, py, x1, y1, x2, y2)
            undecided |= crossing == UNDECIDED
            crossings += crossing == 1
    if undecided:
        return UNDECIDED, best
    return (INSIDE if crossings % 2 == 1 else OUTSIDE), best


@njit(nogil=True, cache=True, error_model="numpy")
def locate_fence(
    px: float,
    py: float,
    fence: int,
    fence_part: Any,
    part_ring: Any,
    part_point: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
    locate: bool = True,
) -> tuple[int, float]:
    """Where a point is against one fence, and its distance to the fence's boundary.

    The location is INSIDE (in a polygon's interior), OUTSIDE (in no polygon, or
    the fence is made of points) or UNDECIDED (on a boundary, or too close to
    one for a float certificate). The distance is to the nearest ring segment
    or venue point: the depth when inside, the distance to the fence when outside.
    With ``locate`` false (the point lies outside the fence's box) only the
    distance is computed.
    """
    location = OUTSIDE
    best = np.inf
    for part in range(fence_part[fence], fence_part[fence + 1]):
        r0 = part_ring[part]
        r1 = part_ring[part + 1]
        if part_point[part]:
            v = ring_vertex[r0]
            d = point_segment_distance(px, py, vx[v], vy[v], vx[v], vy[v])
            if d < best:
                best = d
            continue
        part_location = OUTSIDE
        for ring in range(r0, r1):
            where, d = _locate_ring(
                px, py, vx, vy, ring_vertex[ring], ring_vertex[ring + 1], locate
            )
            if d < best:
                best = d
            if where == UNDECIDED:
                part_location = UNDECIDED
            elif part_location != UNDECIDED:
                if ring == r0:
                    part_location = where
                elif where == INSIDE and part_location == INSIDE:
                    part_location = OUTSIDE  # in a hole
        if part_location == UNDECIDED:
            location = UNDECIDED
        elif part_location == INSIDE and location == OUTSIDE:
            location = INSIDE
    return location, best


@njit(nogil=True, cache=True, error_model="numpy")
def match_block(
    pings: Any,
    x: Any,
    y: Any,
    t: Any,
    reach: Any,
    disc: bool,
    strict: bool,
    grid_x0: float,
    grid_y0: float,
    grid_cell: float,
    grid_nx: int,
    grid_ny: int,
    grid_offsets: Any,
    grid_entries: Any,
    window_fence: Any,
    window_start: Any,
    window_end: Any,
    fence_box: Any,
    buffer_m: Any,
    fence_part: Any,
    part_ring: Any,
    part_point: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
) -> tuple[Any, Any, Any, Any, Any]:
    """Hits (and deferred pairs) of the pings at positions ``pings``.

    ``reach`` is the accuracy in disc mode (0 in point mode); ``fence_box`` holds
    each fence's bounding box (without margin), a cheap first test: a ping farther
    from the box than its threshold is farther from the fence. Returns
    ``(ping, window, inside, depth, deferred)``, pairs in the order of ``pings``
    then of the cell's entries. A deferred pair's other columns are meaningless:
    the caller decides it with GEOS.
    """
    total = 0
    for k in range(pings.shape[0]):
        i = pings[k]
        fx = math.floor((x[i] - grid_x0) / grid_cell)
        fy = math.floor((y[i] - grid_y0) / grid_cell)
        if 0.0 <= fx < grid_nx and 0.0 <= fy < grid_ny:
            c = int(fy) * grid_nx + int(fx)
            total += grid_offsets[c + 1] - grid_offsets[c]
    out_ping = np.empty(total, dtype=np.int64)
    out_window = np.empty(total, dtype=np.int64)
    out_inside = np.empty(total, dtype=np.bool_)
    out_depth = np.empty(total, dtype=np.float64)
    out_deferred = np.empty(total, dtype=np.bool_)
    m = 0
    for k in range(pings.shape[0]):
        i = pings[k]
        px = x[i]
        py = y[i]
        fx = math.floor((px - grid_x0) / grid_cell)
        fy = math.floor((py - grid_y0) / grid_cell)
        if not (0.0 <= fx < grid_nx and 0.0 <= fy < grid_ny):
            continue
        c = int(fy) * grid_nx + int(fx)
        ti = t[i]
        extra = reach[i]
        for e in range(grid_offsets[c], grid_offsets[c + 1]):
            w = grid_entries[e]
            if ti < window_start[w] or ti >= window_end[w]:
                continue
            f = window_fence[w]
            b = buffer_m[f]
            grow = b + extra
            pad = grow + 1e-6 + 1e-12 * (abs(px) + abs(py))
            # The distance to the fence is at least the distance to its box.
            gap_x = max(fence_box[f, 0] - px, px - fence_box[f, 2], 0.0)
            gap_y = max(fence_box[f, 1] - py, py - fence_box[f, 3], 0.0)
            if gap_x * gap_x + gap_y * gap_y > pad * pad:
                continue
            # Strictly outside the fence's box: outside the fence, only the distance counts.
            boxed = (
                fence_box[f, 0] <= px <= fence_box[f, 2]
                and fence_box[f, 1] <= py <= fence_box[f, 3]
            )
            where, d = locate_fence(
                px, py, f, fence_part, part_ring, part_point, ring_vertex, vx, vy, boxed
            )
            deferred = where == UNDECIDED
            if not deferred and where == OUTSIDE:
                deferred = abs(d - b) <= THRESHOLD_GUARD_M or (
                    disc and abs(d - grow) <= THRESHOLD_GUARD_M
                )
            if deferred:
                out_ping[m] = i
                out_window[m] = w
                out_inside[m] = False
                out_depth[m] = np.nan
                out_deferred[m] = True
                m += 1
                continue
            if where == INSIDE:
                inside = True
                hit = True
            else:
                inside = d < b if strict else d <= b
                hit = inside or (disc and (d < grow if strict else d <= grow))
            if hit:
                out_ping[m] = i
                out_window[m] = w
                out_inside[m] = inside
                out_depth[m] = d if where == INSIDE else -d
                out_deferred[m] = False
                m += 1
    return out_ping[:m], out_window[:m], out_inside[:m], out_depth[:m], out_deferred[:m]
