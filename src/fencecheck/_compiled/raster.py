"""Compiled (numba) classified raster: point-mode hits with the exact test only near edges.

A square grid over the fences grown by their margins, in frame metres. Each cell
lists the fences whose grown area its box meets, each entry marked

- *surely inside*: every point of the cell's box lies in the fence grown by its
  margin, with room to spare far above rounding (a point there is a point-mode
  hit under both boundary rules, ``covers`` and ``contains``), or
- *boundary*: anything else; a point there gets the exact test of
  :mod:`fencecheck._compiled.match` (certified, or handed back to GEOS).

A cell surely outside a fence does not list it. So a ping far inside a fence
costs one look-up, and only the pings in the thin band of cells along a grown
fence's edge pay for a ring walk.

How a block of cells is classified: every point of the block lies within ``h``
(the half-diagonal) of its centre ``c``. With the exact location of ``c`` and its
distance ``d`` to the fence's boundary (:func:`~fencecheck._compiled.match.locate_fence`,
GEOS's own distance formula):

- ``c`` inside the fence: every point of the block is within ``max(0, h - d)``
  of the fence, so the block is surely inside when ``h - d`` is below the margin;
- ``c`` outside at distance ``d``: every point is between ``d - h`` and ``d + h``
  from the fence: surely inside when ``d + h`` is below the margin, surely
  outside when ``d - h`` is above it.

Each comparison keeps a guard of a micrometre (and 1e-12 of the coordinates)
against rounding. A block that is neither is split in four, down to single
cells, which stay *boundary*; so does a centre whose location the float
certificate cannot decide. The work is proportional to the cells along the
edges, not to the fences' areas.

Examples
--------
>>> from fencecheck._compiled.flat import FlatGeometry
>>> import shapely
>>> flat = FlatGeometry.from_shapely(np.array([shapely.box(0, 0, 100, 100)], dtype=object))
>>> raster = FenceRaster.build(
...     flat, np.array([[0.0, 0.0, 100.0, 100.0]]), np.zeros(1), np.array([0]), cell=10.0)
>>> raster.entries_at(50.0, 50.0), raster.entries_at(0.5, 50.0)
([(0, True)], [(0, False)])
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from fencecheck._compiled.match import (
    INSIDE,
    OUTSIDE,
    THRESHOLD_GUARD_M,
    UNDECIDED,
    locate_fence,
)

__all__ = ["MAX_RASTER_CELLS", "FenceRaster", "match_raster_block"]

MAX_RASTER_CELLS = 4_000_000
"""The most cells a raster may have; the cell side grows to keep below it."""

_GUARD_M = 1e-6
_SPLIT = 0
_ALL_INSIDE = 1
_ALL_OUTSIDE = 2
_HIT = 0
_MISS = 1
_DEFER = 2


class FenceRaster:
    """The classified raster of some fences (see the module's description).

    Attributes
    ----------
    x0, y0 : float
        The grid's lower-left corner (frame metres).
    cell : float
        The cell side (metres).
    nx, ny : int
        Cells along x and y.
    offsets : ndarray of int32 (int64 past 2**31 entries), shape (nx * ny + 1,)
        Cell ``c``'s entries are ``entries[offsets[c]:offsets[c + 1]]``.
    entries : ndarray of int32
        ``2 * fence + 1`` for a surely inside entry, ``2 * fence`` for a boundary
        one; within a cell, in increasing fence order.
    centre_depth : ndarray of float64
        Per boundary entry, the signed distance of the cell's centre to the
        fence's boundary (positive inside; NaN when not certified): a ping near
        enough to the centre is decided from it by the triangle inequality,
        without the exact test.
    """

    def __init__(
        self,
        x0: float,
        y0: float,
        cell: float,
        nx: int,
        ny: int,
        offsets: NDArray[np.int32] | NDArray[np.int64],
        entries: NDArray[np.int32],
        centre_depth: NDArray[np.float64],
    ) -> None:
        self.x0, self.y0, self.cell, self.nx, self.ny = x0, y0, cell, nx, ny
        self.offsets = offsets
        self.entries = entries
        self.centre_depth = centre_depth

    @classmethod
    def build(
        cls,
        flat: Any,
        fence_box: NDArray[np.float64],
        buffer_m: NDArray[np.float64],
        fences: NDArray[np.int64],
        cell: float | None = None,
        threads: int = 1,
    ) -> FenceRaster:
        """Classify the cells of ``fences`` (positions into the flat arrays).

        Parameters
        ----------
        flat : FlatGeometry
            The fences (without margins) as flat arrays.
        fence_box : ndarray of shape (n, 4)
            Each fence's bounding box, without its margin.
        buffer_m : ndarray of float64
            Each fence's margin (metres).
        fences : ndarray of int64
            The fences to put in the raster (the live ones).
        cell : float, optional
            The cell side in metres (default: a sixteenth of the median grown
            fence's longer side, at least 5 m); made larger if the grid would have
            more than :data:`MAX_RASTER_CELLS` cells.
        threads : int
            Threads classifying the fences (each takes a contiguous run of them).
        """
        fences = np.asarray(fences, dtype=np.int64)
        if fences.shape[0] == 0:
            return cls(
                0.0, 0.0, 1.0, 1, 1, np.zeros(2, dtype=np.int64), np.zeros(0, np.int32), np.zeros(0)
            )
        if len(buffer_m) >= 2**30:
            raise ValueError("a raster holds at most 2**30 fences")
        grow = buffer_m[fences] + _GUARD_M + 1e-12 * np.abs(fence_box[fences]).max(axis=1)
        lo_x = fence_box[fences, 0] - grow
        lo_y = fence_box[fences, 1] - grow
        hi_x = fence_box[fences, 2] + grow
        hi_y = fence_box[fences, 3] + grow
        x0, y0 = float(lo_x.min()), float(lo_y.min())
        width, height = float(hi_x.max()) - x0, float(hi_y.max()) - y0
        if cell is None:
            sides = np.maximum(hi_x - lo_x, hi_y - lo_y)
            cell = max(float(np.median(sides)) / 16.0, 5.0)
        cell = max(float(cell), math.sqrt(max(width * height, 1.0) / MAX_RASTER_CELLS))
        nx = int(width // cell) + 1
        ny = int(height // cell) + 1
        from concurrent.futures import ThreadPoolExecutor

        args = (x0, y0, cell, nx, ny, fence_box, buffer_m, *flat.arrays())
        bounds = np.linspace(0, fences.shape[0], max(1, min(threads, fences.shape[0])) + 1)
        runs = [fences[int(a) : int(b)] for a, b in itertools.pairwise(bounds)]
        if len(runs) == 1:
            parts = [classify_fences(runs[0], *args)]
        else:
            with ThreadPoolExecutor(max_workers=len(runs)) as pool:
                parts = [
                    job.result() for job in [pool.submit(classify_fences, r, *args) for r in runs]
                ]
        cells = np.concatenate([p[0] for p in parts])
        codes = np.concatenate([p[1] for p in parts])
        depths = np.concatenate([p[2] for p in parts])
        offsets, entries, centre_depth = bucket_by_cell(cells, codes, depths, nx * ny)
        if offsets[-1] < 2**31:  # half the memory of the one array as long as the cells
            offsets = offsets.astype(np.int32)
        return cls(x0, y0, cell, nx, ny, offsets, entries, centre_depth)

    @property
    def nbytes(self) -> int:
        """Memory held by the raster's arrays."""
        return int(self.offsets.nbytes + self.entries.nbytes + self.centre_depth.nbytes)

    def entries_at(self, x: float, y: float) -> list[tuple[int, bool]]:
        """``(fence, surely inside)`` of the cell holding a point (for tests and inspection)."""
        fx = math.floor((x - self.x0) / self.cell)
        fy = math.floor((y - self.y0) / self.cell)
        if not (0 <= fx < self.nx and 0 <= fy < self.ny):
            return []
        c = fy * self.nx + fx
        codes = self.entries[self.offsets[c] : self.offsets[c + 1]]
        return [(int(code) >> 1, bool(code & 1)) for code in codes]


@njit(nogil=True, cache=True, error_model="numpy")
def _classify_block(
    cx: float, cy: float, h: float, f: int, b: float, fence_box: Any, flat: Any
) -> tuple[int, float]:
    """Whether a block (centre, half-diagonal) is surely inside, surely outside, or split.

    Also returns the centre's signed distance to the fence's boundary (positive
    inside, NaN when its location is not certified).
    """
    fence_part, part_ring, part_point, ring_vertex, vx, vy = flat
    boxed = fence_box[f, 0] <= cx <= fence_box[f, 2] and fence_box[f, 1] <= cy <= fence_box[f, 3]
    where, d = locate_fence(
        cx, cy, f, fence_part, part_ring, part_point, ring_vertex, vx, vy, boxed
    )
    guard = _GUARD_M + 1e-12 * (abs(cx) + abs(cy) + h + b)
    if where == INSIDE:
        if h - d < b - guard:
            return _ALL_INSIDE, d
        return _SPLIT, d
    if where == OUTSIDE:
        if d + h < b - guard:
            return _ALL_INSIDE, -d
        if d - h > b + guard:
            return _ALL_OUTSIDE, -d
        return _SPLIT, -d
    return _SPLIT, np.nan


@njit(nogil=True, cache=True, error_model="numpy")
def classify_fences(
    fences: Any,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    fence_box: Any,
    buffer_m: Any,
    fence_part: Any,
    part_ring: Any,
    part_point: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
) -> tuple[Any, Any, Any]:
    """Every (cell, code, centre depth) entry of some fences, fence by fence.

    See :class:`FenceRaster`; the centre depth is that of the entry's cell, for a
    boundary entry (a block surely inside gets the depth of the block's centre,
    unused).
    """
    flat = (fence_part, part_ring, part_point, ring_vertex, vx, vy)
    out_cell = np.empty(1 << 16, dtype=np.int64)
    out_code = np.empty(1 << 16, dtype=np.int32)
    out_depth = np.empty(1 << 16, dtype=np.float64)
    m = 0
    stack = np.empty((256, 3), dtype=np.int64)
    for k in range(fences.shape[0]):
        f = fences[k]
        b = buffer_m[f]
        grow = (
            b
            + _GUARD_M
            + 1e-12
            * max(
                abs(fence_box[f, 0]),
                abs(fence_box[f, 1]),
                abs(fence_box[f, 2]),
                abs(fence_box[f, 3]),
            )
        )
        i0 = min(max(math.floor((fence_box[f, 0] - grow - x0) / cell), 0), nx - 1)
        j0 = min(max(math.floor((fence_box[f, 1] - grow - y0) / cell), 0), ny - 1)
        i1 = min(max(math.floor((fence_box[f, 2] + grow - x0) / cell), 0), nx - 1)
        j1 = min(max(math.floor((fence_box[f, 3] + grow - y0) / cell), 0), ny - 1)
        size = 1
        while size < max(i1 - i0 + 1, j1 - j0 + 1):
            size *= 2
        top = 0
        stack[0, 0] = i0
        stack[0, 1] = j0
        stack[0, 2] = size
        top = 1
        while top > 0:
            top -= 1
            bi = stack[top, 0]
            bj = stack[top, 1]
            s = stack[top, 2]
            ie = min(bi + s, i1 + 1)
            je = min(bj + s, j1 + 1)
            if bi >= ie or bj >= je:
                continue
            xa = x0 + bi * cell
            xb = x0 + ie * cell
            ya = y0 + bj * cell
            yb = y0 + je * cell
            h = 0.5 * math.sqrt((xb - xa) * (xb - xa) + (yb - ya) * (yb - ya))
            state, depth = _classify_block(
                0.5 * (xa + xb), 0.5 * (ya + yb), h, f, b, fence_box, flat
            )
            if state == _ALL_OUTSIDE:
                continue
            if state == _SPLIT and s > 1:
                half = s // 2
                for di in range(2):
                    for dj in range(2):
                        stack[top, 0] = bi + di * half
                        stack[top, 1] = bj + dj * half
                        stack[top, 2] = half
                        top += 1
                continue
            code = 2 * f + (1 if state == _ALL_INSIDE else 0)
            need = m + (ie - bi) * (je - bj)
            if need > out_cell.shape[0]:
                grown = max(need, 2 * out_cell.shape[0])
                more_cell = np.empty(grown, dtype=np.int64)
                more_code = np.empty(grown, dtype=np.int32)
                more_depth = np.empty(grown, dtype=np.float64)
                more_cell[:m] = out_cell[:m]
                more_code[:m] = out_code[:m]
                more_depth[:m] = out_depth[:m]
                out_cell = more_cell
                out_code = more_code
                out_depth = more_depth
            for jj in range(bj, je):
                for ii in range(bi, ie):
                    out_cell[m] = jj * nx + ii
                    out_code[m] = code
                    out_depth[m] = depth
                    m += 1
    return out_cell[:m].copy(), out_code[:m].copy(), out_depth[:m].copy()


@njit(nogil=True, cache=True)
def bucket_by_cell(cells: Any, codes: Any, depths: Any, n_cells: int) -> tuple[Any, Any, Any]:
    """CSR of the entries by cell, keeping their order within a cell (a counting sort)."""
    offsets = np.zeros(n_cells + 1, dtype=np.int64)
    for k in range(cells.shape[0]):
        offsets[cells[k] + 1] += 1
    for c in range(n_cells):
        offsets[c + 1] += offsets[c]
    fill = offsets[:-1].copy()
    entries = np.empty(cells.shape[0], dtype=np.int32)
    entry_depth = np.empty(cells.shape[0], dtype=np.float64)
    for k in range(cells.shape[0]):
        c = cells[k]
        entries[fill[c]] = codes[k]
        entry_depth[fill[c]] = depths[k]
        fill[c] += 1
    return offsets, entries, entry_depth


@njit(nogil=True, cache=True, error_model="numpy")
def _decide_point(
    px: float,
    py: float,
    cx: float,
    cy: float,
    centre_depth: float,
    f: int,
    b: float,
    strict: bool,
    fence_box: Any,
    fence_part: Any,
    part_ring: Any,
    part_point: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
) -> int:
    """A point of a boundary cell against fence ``f``: _HIT, _MISS or _DEFER (to GEOS).

    First from the cell's centre: the point lies within r of it, so when the
    centre's signed distance is far enough from the threshold the triangle
    inequality decides. Otherwise as :func:`~fencecheck._compiled.match.match_block`
    decides a point-mode pair.
    """
    r = math.sqrt((px - cx) * (px - cx) + (py - cy) * (py - cy))
    guard = _GUARD_M + 1e-12 * (abs(cx) + abs(cy) + r + b)
    if centre_depth > 0.0:
        if r < centre_depth - guard:
            return _HIT  # inside the fence
    elif centre_depth <= 0.0:  # not NaN
        if r - centre_depth < b - guard:
            return _HIT  # within the margin
        if -centre_depth - r > b + guard:
            return _MISS  # beyond it
    pad = b + 1e-6 + 1e-12 * (abs(px) + abs(py))
    gap_x = max(fence_box[f, 0] - px, px - fence_box[f, 2], 0.0)
    gap_y = max(fence_box[f, 1] - py, py - fence_box[f, 3], 0.0)
    if gap_x * gap_x + gap_y * gap_y > pad * pad:
        return _MISS
    boxed = fence_box[f, 0] <= px <= fence_box[f, 2] and fence_box[f, 1] <= py <= fence_box[f, 3]
    where, d = locate_fence(
        px, py, f, fence_part, part_ring, part_point, ring_vertex, vx, vy, boxed
    )
    if where == UNDECIDED or (where == OUTSIDE and abs(d - b) <= THRESHOLD_GUARD_M):
        return _DEFER
    if where == INSIDE or (d < b if strict else d <= b):
        return _HIT
    return _MISS


@njit(nogil=True, cache=True)
def _grown(array: Any, m: int) -> Any:
    """``array`` in a buffer twice its size, its first ``m`` entries kept."""
    more = np.empty(2 * array.shape[0], dtype=array.dtype)
    more[:m] = array[:m]
    return more


@njit(nogil=True, cache=True, error_model="numpy")
def _raster_pairs(
    pings: Any,
    x: Any,
    y: Any,
    t: Any,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    offsets: Any,
    entries: Any,
    fence_window_offsets: Any,
    fence_windows: Any,
    window_start: Any,
    window_end: Any,
) -> tuple[Any, Any, Any]:
    """Every (ping, window) of a listed fence open at the ping's time, with its entry.

    The entry is -1 for a surely inside one (a hit), else its position in
    ``entries`` (a boundary entry, for :func:`_decide_pairs`). A tight loop of
    look-ups: no ring is walked here.
    """
    capacity = pings.shape[0] // 2 + 1024
    out_ping = np.empty(capacity, dtype=np.int64)
    out_window = np.empty(capacity, dtype=np.int64)
    out_entry = np.empty(capacity, dtype=np.int64)
    m = 0
    for k in range(pings.shape[0]):
        i = pings[k]
        fx = math.floor((x[i] - x0) / cell)
        fy = math.floor((y[i] - y0) / cell)
        if not (0 <= fx < nx and 0 <= fy < ny):
            continue
        c = fy * nx + fx
        ti = t[i]
        for e in range(offsets[c], offsets[c + 1]):
            code = entries[e]
            f = code >> 1
            for q in range(fence_window_offsets[f], fence_window_offsets[f + 1]):
                w = fence_windows[q]
                if ti < window_start[w] or ti >= window_end[w]:
                    continue
                if m == out_ping.shape[0]:
                    out_ping = _grown(out_ping, m)
                    out_window = _grown(out_window, m)
                    out_entry = _grown(out_entry, m)
                out_ping[m] = i
                out_window[m] = w
                out_entry[m] = -1 if code & 1 else e
                m += 1
    return out_ping[:m], out_window[:m], out_entry[:m]


@njit(nogil=True, cache=True, error_model="numpy")
def match_raster_block(
    pings: Any,
    x: Any,
    y: Any,
    t: Any,
    strict: bool,
    x0: float,
    y0: float,
    cell: float,
    nx: int,
    ny: int,
    offsets: Any,
    entries: Any,
    centre_depth: Any,
    fence_window_offsets: Any,
    fence_windows: Any,
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
) -> tuple[Any, Any, Any, Any]:
    """Point-mode hits of the pings at positions ``pings``: ``(ping, window, inside, deferred)``.

    Pairs come in the order of ``pings``, then fence, then window. A surely
    inside entry is a hit without a test; a boundary entry is decided by
    :func:`_decide_point`, once per (ping, fence) with some window open at the
    ping's time. ``inside`` is the point rule (true for every hit that is not
    deferred); a deferred pair is for the caller to decide with GEOS.
    """
    ping, window, entry = _raster_pairs(
        pings,
        x,
        y,
        t,
        x0,
        y0,
        cell,
        nx,
        ny,
        offsets,
        entries,
        fence_window_offsets,
        fence_windows,
        window_start,
        window_end,
    )
    keep = np.ones(ping.shape[0], dtype=np.bool_)
    deferred = np.zeros(ping.shape[0], dtype=np.bool_)
    last_ping = -1
    last_entry = -1
    verdict = _HIT
    for k in range(ping.shape[0]):
        e = entry[k]
        if e < 0:
            continue
        i = ping[k]
        if i != last_ping or e != last_entry:  # a fence's other windows share the answer
            last_ping = i
            last_entry = e
            px = x[i]
            py = y[i]
            fx = math.floor((px - x0) / cell)
            fy = math.floor((py - y0) / cell)
            # the cell's centre, computed as the classification computed it
            cx = 0.5 * ((x0 + fx * cell) + (x0 + (fx + 1) * cell))
            cy = 0.5 * ((y0 + fy * cell) + (y0 + (fy + 1) * cell))
            f = entries[e] >> 1
            verdict = _decide_point(
                px,
                py,
                cx,
                cy,
                centre_depth[e],
                f,
                buffer_m[f],
                strict,
                fence_box,
                fence_part,
                part_ring,
                part_point,
                ring_vertex,
                vx,
                vy,
            )
        keep[k] = verdict != _MISS
        deferred[k] = verdict == _DEFER
    return ping[keep], window[keep], ~deferred[keep], deferred[keep]
