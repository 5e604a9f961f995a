"""The fences in one metric frame, and what the compiled kernels make of them.

A :class:`FenceShapes` holds a fence set projected into a planar metric frame
and everything matching derives from it, each made once, on first use: the
fences as flat arrays for the kernels, the fences grown by their margins (as
polygons, flat arrays, areas and area moments for ``p_inside``), and a uniform
grid of window boxes per reach class that proposes candidate fences for a point.
:class:`fencecheck.FenceIndex` is a :class:`FenceShapes` with an R-tree, changes
and persistence; :mod:`fencecheck.matching` reads only what is here.

Examples
--------
>>> import fencecheck as fc
>>> fences = fc.read_fences("data/samples/fences.geojson")
>>> shapes = FenceShapes(fences, fences.frame())
>>> len(shapes.geometry), round(float(shapes.grown_area[0]))
(7, 20263)
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck._compiled.flat import FlatGeometry
from fencecheck._compiled.grid import BoxGrid
from fencecheck._compiled.mass import FenceMoments, FencePieces
from fencecheck._compiled.raster import FenceRaster
from fencecheck._compiled.rules import grown_polygons
from fencecheck.fences import FenceSet
from fencecheck.frame import MetricFrame
from fencecheck.options import thread_count
from fencecheck.times import OPEN_END

__all__ = ["OPEN_END_COORD", "REACH_STEPS", "FenceShapes"]

OPEN_END_COORD = 1e13
"""Milliseconds (year 2286): where an open window ends in a box's time axis."""
REACH_STEPS = (0.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0)
"""Reach classes (metres) of the candidate grids: a point looks up the grid of the
smallest class at least its reach (its accuracy in disc mode, 0 in point mode)."""

_S = TypeVar("_S", bound="FenceShapes")


class FenceShapes:
    """Fences in a metric frame, with the arrays the compiled kernels read.

    Fences keep the positions they were given; a retired fence stays in the
    arrays, marked not ``alive``.

    Attributes
    ----------
    fences : FenceSet
        Every fence ever added (WGS-84).
    frame : MetricFrame
        The frame all metres are measured in.
    geometry : ndarray of shapely geometries
        The fences in frame coordinates (metres), without their margins.
    alive : ndarray of bool
        Which fences count (not retired).
    """

    def __init__(
        self,
        fences: FenceSet,
        frame: MetricFrame,
        geometry: NDArray[np.object_] | None = None,
    ) -> None:
        """Hold ``fences`` in ``frame``.

        ``geometry`` gives the fences already in frame coordinates (planar test
        data, such as GEOS's test cases); by default they are projected.
        """
        self.frame = frame
        self.fences = fences
        self.geometry: NDArray[np.object_] = (
            frame.project_geometry(fences.geometry) if geometry is None else np.asarray(geometry)
        )
        self.alive = np.ones(len(fences), dtype=bool)
        self._grown: NDArray[np.object_] = np.full(len(fences), None, dtype=object)
        self._forget()

    def _forget(self) -> None:
        """Drop everything derived from the fences (they changed)."""
        self._grids: dict[float, BoxGrid] = {}
        self._boundary: NDArray[np.object_] | None = None
        self._flat: FlatGeometry | None = None
        self._grown_flat: FlatGeometry | None = None
        self._grown_moments: FenceMoments | None = None
        self._grown_pieces: FencePieces | None = None
        self._grown_area: NDArray[np.float64] | None = None
        self._fence_box: NDArray[np.float64] | None = None
        self._raster: FenceRaster | None = None
        self._fence_windows: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None

    def extend(self, fences: FenceSet) -> NDArray[np.int64]:
        """Append fences (their positions follow the existing ones); return their new windows."""
        old_windows = len(self.fences.window_start)
        self.fences = FenceSet.concat([self.fences, fences], unique_ids=False)
        self.geometry = np.concatenate(
            [self.geometry, self.frame.project_geometry(fences.geometry)]
        )
        self.alive = np.concatenate([self.alive, np.ones(len(fences), dtype=bool)])
        self._grown = np.concatenate([self._grown, np.full(len(fences), None, dtype=object)])
        self._forget()
        return np.arange(old_windows, len(self.fences.window_start), dtype=np.int64)

    def retire(self, positions: list[int]) -> None:
        """Mark fences by position as no longer counting (their arrays stay)."""
        self.alive[positions] = False
        self._grids.clear()
        self._raster = None
        self._fence_windows = None

    def live_fences(self) -> FenceSet:
        """The fences now in the index, as a fence set (what :meth:`save` writes)."""
        return self.fences.take(np.flatnonzero(self.alive))

    def window_boxes(self, windows: NDArray[np.int64]) -> NDArray[np.float64]:
        """``(minx, miny, mint, maxx, maxy, maxt)`` of windows, their fence grown by its margin."""
        fence = self.fences.window_fence[windows]
        bounds = shapely.bounds(self.geometry[fence]).reshape(-1, 4)
        grow = self.fences.buffer_m[fence]
        start = self.fences.window_start[windows].astype(np.float64)
        end = self.fences.window_end[windows]
        end_coord = np.where(end == OPEN_END, OPEN_END_COORD, end.astype(np.float64))
        # Padded by a hair, so that a ping exactly on a bounding-box edge is always
        # proposed whatever the R-tree's comparisons; candidates are decided exactly.
        pad = grow + 1e-6 + 1e-12 * np.abs(bounds).max(axis=1)
        return np.column_stack(
            [
                bounds[:, 0] - pad,
                bounds[:, 1] - pad,
                start,
                bounds[:, 2] + pad,
                bounds[:, 3] + pad,
                end_coord,
            ]
        )

    def point_candidates(
        self, x: NDArray[np.float64], y: NDArray[np.float64], reach: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Candidate windows for many points, each with a reach (0, or its accuracy).

        Pairs ``(point position, window)`` where the point, grown by its reach,
        may meet the window's fence grown by its margin; a superset, at any time,
        to be decided exactly. Found in a uniform grid derived from the R-tree
        (:mod:`fencecheck._compiled.grid`), one grid per reach class, so that each point
        looks up a single cell.
        """
        points, windows = [], []
        for grid, sel in self.reach_grids(reach):
            point, window = grid.query(x[sel], y[sel])
            points.append(sel[point])
            windows.append(window)
        if not points:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return np.concatenate(points).astype(np.int64), np.concatenate(windows)

    @property
    def boundary(self) -> NDArray[np.object_]:
        """Each fence's boundary in the frame (rings, or the venue's points), made once."""
        if self._boundary is None or self._boundary.shape[0] != self.geometry.shape[0]:
            self._boundary = shapely.boundary(self.geometry)
        return self._boundary

    def grown_geometry(self, fences: NDArray[np.int64]) -> NDArray[np.object_]:
        """Fences with their margins as finely segmented polygons, made once per fence."""
        empty = np.fromiter(
            (g is None for g in self._grown[fences]), dtype=bool, count=fences.shape[0]
        )
        missing = np.unique(fences[empty])
        if missing.shape[0]:
            self._grown[missing] = grown_polygons(
                self.geometry[missing], self.fences.buffer_m[missing]
            )
        grown: NDArray[np.object_] = self._grown[fences]
        return grown

    @property
    def flat(self) -> FlatGeometry:
        """The fences in the frame as flat arrays for the compiled kernels, made once."""
        if self._flat is None:
            self._flat = FlatGeometry.from_shapely(self.geometry)
        return self._flat

    @property
    def grown_flat(self) -> FlatGeometry:
        """The fences grown by their margins (shells counter-clockwise), as flat arrays."""
        if self._grown_flat is None:
            grown = self.grown_geometry(np.arange(self.geometry.shape[0], dtype=np.int64))
            self._grown_flat = FlatGeometry.from_shapely(
                shapely.orient_polygons(grown, exterior_cw=False)
            )
        return self._grown_flat

    @property
    def grown_moments(self) -> Any:
        """Centres, radii and area moments of the grown fences (a ``FenceMoments``)."""
        if self._grown_moments is None:
            self._grown_moments = FenceMoments(self.grown_flat)
        return self._grown_moments

    @property
    def grown_area(self) -> NDArray[np.float64]:
        """The area of each grown fence (m²), as the mass kernel integrates over it."""
        if self._grown_area is None:
            grown = self.grown_geometry(np.arange(self.geometry.shape[0], dtype=np.int64))
            self._grown_area = np.asarray(shapely.area(grown), dtype=np.float64)
        return self._grown_area

    @property
    def grown_pieces(self) -> Any:
        """The grown fences cut into the four quarters of their bounding box (moments of each).

        Piece ``4 f + q`` is quarter ``q`` of fence ``f``; ``piece_reach[f]`` is the
        largest radius of fence ``f``'s pieces (a ``FencePieces``).
        """
        if self._grown_pieces is None:
            grown = self.grown_geometry(np.arange(self.geometry.shape[0], dtype=np.int64))
            self._grown_pieces = FencePieces(grown, self.grown_moments.center)
        return self._grown_pieces

    def prepare(self: _S) -> _S:
        """Make now what matching makes on first use, and return the index.

        The flat arrays of the fences and of the fences grown by their margins,
        and the area moments of every live grown fence and of its four quarters,
        which ``p_inside`` of a large accuracy disc uses. Lazily, the first
        scan of a fresh index pays for them (about 3 s for 5,000 fences on a
        2-core machine); a service that keeps its index calls this once.
        Answers are the same either way.
        """
        threads = thread_count(None)
        live = np.flatnonzero(self.alive).astype(np.int64)
        _ = self.flat, self.grown_area, self.fence_box, self.raster, self.fence_windows
        self.grown_moments.ensure(live, threads=threads)
        quarters = (4 * live[:, None] + np.arange(4, dtype=np.int64)).ravel()
        self.grown_pieces.moments.ensure(quarters, threads=threads)
        return self

    @property
    def fence_box(self) -> NDArray[np.float64]:
        """Each fence's bounding box in the frame, without its margin, shape (n, 4)."""
        if self._fence_box is None:
            self._fence_box = np.ascontiguousarray(
                shapely.bounds(self.geometry).reshape(-1, 4), dtype=np.float64
            )
        return self._fence_box

    @property
    def raster(self) -> FenceRaster:
        """The classified raster of the live fences grown by their margins, made once.

        Each cell lists the fences it meets, surely inside or on the boundary
        (:mod:`fencecheck._compiled.raster`); point-mode matching without
        evidence (``evidence="hits"``) reads it.
        """
        if self._raster is None:
            live = np.flatnonzero(self.alive).astype(np.int64)
            self._raster = FenceRaster.build(
                self.flat,
                self.fence_box,
                np.ascontiguousarray(self.fences.buffer_m, dtype=np.float64),
                live,
                threads=thread_count(None),
            )
        return self._raster

    @property
    def fence_windows(self) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Each live fence's windows as CSR ``(offsets, windows)``, windows in their order."""
        if self._fence_windows is None:
            window_fence = self.fences.window_fence
            live = np.flatnonzero(self.alive[window_fence]).astype(np.int64)
            windows = live[np.argsort(window_fence[live], kind="stable")]
            offsets = np.zeros(len(self.fences) + 1, dtype=np.int64)
            counts = np.bincount(window_fence[windows], minlength=len(self.fences))
            np.cumsum(counts, out=offsets[1:])
            self._fence_windows = (offsets, windows)
        return self._fence_windows

    def reach_grids(self, reach: NDArray[np.float64]) -> list[tuple[BoxGrid, NDArray[np.int64]]]:
        """The candidate grid for each reach class present, with the points that use it."""
        reach = np.asarray(reach, dtype=np.float64)
        steps = np.asarray(REACH_STEPS)
        bucket = np.searchsorted(steps, reach, side="left")
        beyond = bucket >= steps.shape[0]
        bound = np.where(beyond, 0.0, steps[np.minimum(bucket, steps.shape[0] - 1)])
        if beyond.any():  # rare: reaches past the last class get classes of 6.4 km steps
            bound[beyond] = np.ceil(reach[beyond] / steps[-1]) * steps[-1]
        values = np.unique(bound)
        if values.shape[0] == 1:
            return [(self._grid(float(values[0])), np.arange(reach.shape[0], dtype=np.int64))]
        return [(self._grid(float(v)), np.flatnonzero(bound == v)) for v in values]

    def _grid(self, reach: float) -> BoxGrid:
        grid = self._grids.get(reach)
        if grid is None:
            windows = np.flatnonzero(self.alive[self.fences.window_fence])
            boxes = self.window_boxes(windows)[:, [0, 1, 3, 4]]
            boxes[:, :2] -= reach
            boxes[:, 2:] += reach
            sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            base = float(np.clip(np.median(sides) / 4, 20.0, 1000.0)) if sides.size else 100.0
            grid = BoxGrid(boxes, windows, cell=max(base, reach / 2))
            self._grids[reach] = grid
        return grid
