"""The spatiotemporal fence index: which fences were active near here, and when.

A :class:`FenceIndex` holds a fence set in one planar metric frame (fixed when
the index is built and stored with it) and a 3-D R-tree (the ``rtree`` package:
x, y in metres, time in UTC milliseconds) with one box per active window: the
fence's bounding box grown by its margin, times the window. The R-tree only
proposes candidates; every answer is then decided exactly on the geometry and
the half-open window ``[start, end)``.

Fences change daily in real life (sealed areas declared and lifted), so an index
takes :meth:`~FenceIndex.add` and :meth:`~FenceIndex.remove` without a rebuild,
and answers exactly as a fresh build on the resulting fences would. An index is
saved as JSON (its frame and its fences as GeoJSON, coordinates at full
precision): loading it rebuilds the same index anywhere, and runs no code from
the file.

Examples
--------
>>> import fencecheck as fc
>>> index = FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> len(index), index.frame
(7, MetricFrame(lon0=116.329385, lat0=40.070315))
>>> index.query((116.3299, 40.0699, 116.3301, 40.0701), "2022-05-01", "2022-05-02").tolist()
['F-sealed-1']
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck._flat import FlatGeometry
from fencecheck._grid import BoxGrid
from fencecheck.errors import FenceDataError
from fencecheck.fence_io import fences_to_geojson, read_fences
from fencecheck.fences import FenceSet
from fencecheck.frame import MetricFrame
from fencecheck.options import Boundary, MatchMode
from fencecheck.times import OPEN_END, parse_time

if TYPE_CHECKING:
    from fencecheck.matching import Hits
    from fencecheck.pings import PingTable

__all__ = ["FORMAT_NAME", "FenceIndex"]

FORMAT_NAME = "fencecheck-index"
_FORMAT_VERSION = 1
_OPEN_END_COORD = 1e13  # ms, year 2286: where an open window ends in the R-tree
# Reach classes (metres) of the candidate grids: a point looks up the grid of the
# smallest class at least its reach (its accuracy in disc mode, 0 in point mode).
_REACH_STEPS = (0.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0)


def _rtree_properties() -> Any:
    from rtree import index as rtree_index

    props = rtree_index.Property()
    props.dimension = 3
    return props


class FenceIndex:
    """Fences in a metric frame with a 3-D (x, y, time) R-tree over their windows.

    Build with :meth:`build` or :meth:`load`. Fences and windows keep the
    positions they were given; removed fences stay in the arrays, marked not
    ``alive``, until the index is saved.

    Attributes
    ----------
    fences : FenceSet
        Every fence ever added (WGS-84), the source of truth for saving.
    frame : MetricFrame
        The frame all metres are measured in.
    geometry : ndarray of shapely geometries
        The fences in frame coordinates (metres), without their margins.
    alive : ndarray of bool
        Which fences are in the index (not removed).
    """

    def __init__(
        self,
        fences: FenceSet,
        frame: MetricFrame,
        geometry: NDArray[np.object_] | None = None,
    ) -> None:
        """Index ``fences`` in ``frame``.

        ``geometry`` gives the fences already in frame coordinates (planar test
        data, such as GEOS's test cases); by default they are projected.
        """
        self.frame = frame
        self.fences = fences
        self.geometry: NDArray[np.object_] = (
            _project(frame, fences.geometry) if geometry is None else np.asarray(geometry)
        )
        self.alive = np.ones(len(fences), dtype=bool)
        self._grids: dict[float, BoxGrid] = {}
        self._grown: NDArray[np.object_] = np.full(len(fences), None, dtype=object)
        self._boundary: NDArray[np.object_] | None = None
        self._flat: FlatGeometry | None = None
        self._grown_flat: FlatGeometry | None = None
        self._grown_moments: Any = None
        self._grown_pieces: Any = None
        self._grown_area: NDArray[np.float64] | None = None
        self._fence_box: NDArray[np.float64] | None = None
        boxes = self._window_boxes(np.arange(len(fences.window_start)))
        ids = np.arange(len(fences.window_start), dtype=np.int64)
        from rtree import index as rtree_index

        self._tree: Any
        if ids.shape[0]:
            self._tree = rtree_index.Index(
                (ids, boxes[:, :3], boxes[:, 3:]), properties=_rtree_properties()
            )
        else:
            self._tree = rtree_index.Index(properties=_rtree_properties())

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def build(cls, fences: FenceSet, frame: MetricFrame | None = None) -> FenceIndex:
        """Index a fence set, in ``frame`` or the frame centred on the fences."""
        if frame is None:
            if len(fences) == 0:
                raise FenceDataError(
                    "cannot choose a frame for an empty fence set; give one", source=fences.source
                )
            frame = fences.frame()
        return cls(fences, frame)

    def _window_boxes(self, windows: NDArray[np.int64]) -> NDArray[np.float64]:
        """``(minx, miny, mint, maxx, maxy, maxt)`` of windows, their fence grown by its margin."""
        fence = self.fences.window_fence[windows]
        bounds = shapely.bounds(self.geometry[fence]).reshape(-1, 4)
        grow = self.fences.buffer_m[fence]
        start = self.fences.window_start[windows].astype(np.float64)
        end = self.fences.window_end[windows]
        end_coord = np.where(end == OPEN_END, _OPEN_END_COORD, end.astype(np.float64))
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

    # -- changes ------------------------------------------------------------------------------

    def add(self, fences: FenceSet) -> None:
        """Add fences (for example those declared today).

        Raises
        ------
        FenceDataError
            When an added id is already in the index.
        """
        if len(fences) == 0:
            return
        live = set(self.fences.ids[self.alive].tolist())
        clash = [fid for fid in fences.ids.tolist() if fid in live]
        if clash:
            raise FenceDataError(
                f"fence {clash[0]!r} is already in the index; remove it first to replace it",
                source=fences.source,
                feature=clash[0],
                field="id",
            )
        old_windows = len(self.fences.window_start)
        # Removed fences keep their positions, so a removed id may come back.
        self.fences = FenceSet.concat([self.fences, fences], unique_ids=False)
        self.geometry = np.concatenate([self.geometry, _project(self.frame, fences.geometry)])
        self.alive = np.concatenate([self.alive, np.ones(len(fences), dtype=bool)])
        self._grown = np.concatenate([self._grown, np.full(len(fences), None, dtype=object)])
        self._boundary = None
        self._flat = self._grown_flat = self._fence_box = self._grown_moments = None
        self._grown_pieces = None
        self._grown_area = None
        self._grids.clear()
        new = np.arange(old_windows, len(self.fences.window_start), dtype=np.int64)
        for window, box in zip(new.tolist(), self._window_boxes(new).tolist(), strict=True):
            self._tree.insert(window, box)

    def remove(self, fence_ids: Iterable[str]) -> None:
        """Remove fences by id (for example those lifted today).

        Raises
        ------
        KeyError
            When an id is not in the index.
        """
        positions = [self._position(fid) for fid in fence_ids]
        self._grids.clear()
        for pos in positions:
            windows = np.flatnonzero(self.fences.window_fence == pos)
            for window, box in zip(
                windows.tolist(), self._window_boxes(windows).tolist(), strict=True
            ):
                self._tree.delete(window, box)
            self.alive[pos] = False

    def _position(self, fence_id: str) -> int:
        hits = np.flatnonzero((self.fences.ids == fence_id) & self.alive)
        if hits.shape[0] == 0:
            raise KeyError(fence_id)
        return int(hits[0])

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.alive.sum())

    def __repr__(self) -> str:
        return f"<FenceIndex: {len(self)} fences in {self.frame!r}>"

    def live_fences(self) -> FenceSet:
        """The fences now in the index, as a fence set (what :meth:`save` writes)."""
        return self.fences.take(np.flatnonzero(self.alive))

    def candidates(
        self, mins: NDArray[np.float64], maxs: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """R-tree candidates for many ``(x, y, t)`` boxes at once.

        Parameters
        ----------
        mins, maxs : ndarray of shape (n, 3)
            Box corners in frame metres and UTC milliseconds.

        Returns
        -------
        box, window : ndarray of int64
            Pairs: box ``box[k]`` may meet window ``window[k]`` (bounding boxes only).
        """
        if mins.shape[0] == 0 or len(self.fences.window_start) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        ids, counts = self._tree.intersection_v(
            np.ascontiguousarray(mins, dtype=np.float64),
            np.ascontiguousarray(maxs, dtype=np.float64),
        )
        box = np.repeat(np.arange(mins.shape[0], dtype=np.int64), counts.astype(np.int64))
        return box, ids.astype(np.int64)

    def point_candidates(
        self, x: NDArray[np.float64], y: NDArray[np.float64], reach: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Candidate windows for many points, each with a reach (0, or its accuracy).

        Pairs ``(point position, window)`` where the point, grown by its reach,
        may meet the window's fence grown by its margin; a superset, at any time,
        to be decided exactly. Found in a uniform grid derived from the R-tree
        (:mod:`fencecheck._grid`), one grid per reach class, so that each point
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
        from fencecheck._kernels import grown_polygons

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
        """Centres, radii and area moments of the grown fences (``_mass_kernel.FenceMoments``)."""
        if self._grown_moments is None:
            from fencecheck._mass_kernel import FenceMoments

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
        largest radius of fence ``f``'s pieces (``_mass_kernel.FencePieces``).
        """
        if self._grown_pieces is None:
            from fencecheck._mass_kernel import FencePieces

            grown = self.grown_geometry(np.arange(self.geometry.shape[0], dtype=np.int64))
            self._grown_pieces = FencePieces(grown, self.grown_moments.center)
        return self._grown_pieces

    def prepare(self) -> FenceIndex:
        """Make now what matching makes on first use, and return the index.

        The flat arrays of the fences and of the fences grown by their margins,
        and the area moments of every live grown fence and of its four quarters,
        which ``p_inside`` of a large accuracy disc uses. Lazily, the first
        scan of a fresh index pays for them (about 6 s for 5,000 fences on a
        2-core machine); a service that keeps its index calls this once.
        Answers are the same either way.
        """
        from fencecheck.matching import _thread_count

        threads = _thread_count(None)
        live = np.flatnonzero(self.alive).astype(np.int64)
        _ = self.flat, self.grown_area, self.fence_box
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

    def reach_grids(self, reach: NDArray[np.float64]) -> list[tuple[BoxGrid, NDArray[np.int64]]]:
        """The candidate grid for each reach class present, with the points that use it."""
        reach = np.asarray(reach, dtype=np.float64)
        steps = np.asarray(_REACH_STEPS)
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
            boxes = self._window_boxes(windows)[:, [0, 1, 3, 4]]
            boxes[:, :2] -= reach
            boxes[:, 2:] += reach
            sides = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
            base = float(np.clip(np.median(sides) / 4, 20.0, 1000.0)) if sides.size else 100.0
            grid = BoxGrid(boxes, windows, cell=max(base, reach / 2))
            self._grids[reach] = grid
        return grid

    def query(
        self,
        bounds: Sequence[float],
        start: object = None,
        end: object = None,
        *,
        distance_m: float = 0.0,
    ) -> NDArray[np.object_]:
        """Ids of the fences active near a lon/lat box at some time in ``[start, end)``.

        A fence is near when the box comes within ``distance_m`` metres of the fence
        grown by its margin (exactly, not by bounding boxes). Times are anything
        :func:`~fencecheck.times.parse_time` reads (naive ones in the fences' zone);
        ``None`` leaves that side open.

        Examples
        --------
        >>> import fencecheck as fc
        >>> index = FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
        >>> index.query((116.3299, 40.0699, 116.3301, 40.0701), "2022-04-20",
        ...             "2022-04-21").tolist()
        []
        """
        t0 = -_OPEN_END_COORD if start is None else float(parse_time(start, tz=self.fences.tz))
        t1 = _OPEN_END_COORD if end is None else float(parse_time(end, tz=self.fences.tz))
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bounds)
        box = shapely.box(min_lon, min_lat, max_lon, max_lat)
        side = max(max_lon - min_lon, max_lat - min_lat)
        if side > 0:
            box = shapely.segmentize(box, side / 16)
        box_xy = _project(self.frame, np.array([box], dtype=object))[0]
        bx = shapely.bounds(box_xy)
        mins = np.array([[bx[0] - distance_m, bx[1] - distance_m, t0]])
        maxs = np.array([[bx[2] + distance_m, bx[3] + distance_m, t1]])
        _, windows = self.candidates(mins, maxs)
        fence = self.fences.window_fence[windows]
        active = (
            self.alive[fence]
            & (self.fences.window_start[windows] < t1)
            & (self.fences.window_end[windows] > t0)
        )
        fence = np.unique(fence[active])
        near = shapely.dwithin(
            self.geometry[fence], box_xy, self.fences.buffer_m[fence] + distance_m
        )
        ids: NDArray[np.object_] = self.fences.ids[fence[near]]
        return ids

    def match(
        self,
        pings: PingTable,
        *,
        mode: MatchMode | str = MatchMode.POINT,
        boundary: Boundary | str = Boundary.COVERS,
        threads: int | None = None,
        evidence: bool = True,
    ) -> Hits:
        """Every (ping, fence) hit with its evidence; see :func:`fencecheck.matching.match`.

        ``evidence=False`` leaves ``p_inside`` out (NaN), for a caller that needs
        only the hits and their depth: about half the time in point mode.
        """
        from fencecheck.matching import match

        return match(self, pings, mode=mode, boundary=boundary, threads=threads, evidence=evidence)

    # -- saving -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document from which :meth:`from_dict` rebuilds this index."""
        live = self.live_fences()
        return {
            "format": FORMAT_NAME,
            "version": _FORMAT_VERSION,
            "frame": self.frame.to_dict(),
            "tz": live.tz,
            "fences": fences_to_geojson(live, orient=False),
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any], *, source: str = "<index>") -> FenceIndex:
        """Rebuild an index from :meth:`to_dict`'s document."""
        if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
            raise FenceDataError(f"not a {FORMAT_NAME} document", source=source)
        if document.get("version") != _FORMAT_VERSION:
            raise FenceDataError(
                f"index format version {document.get('version')!r} is not supported "
                f"(this fencecheck reads version {_FORMAT_VERSION})",
                source=source,
            )
        frame = MetricFrame.from_dict(document["frame"])
        fences = read_fences(document["fences"], tz=document.get("tz"))
        return cls(fences, frame)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to a JSON file (frame and fences; no pickled objects)."""
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.to_dict(), handle, ensure_ascii=False, allow_nan=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FenceIndex:
        """Read an index written by :meth:`save`, rebuilding its R-tree."""
        name = os.fspath(path)
        try:
            with open(name, encoding="utf-8") as handle:
                document = json.load(handle)
        except FileNotFoundError:
            raise FenceDataError("no such file", source=name) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FenceDataError(f"not a {FORMAT_NAME} JSON file: {exc}", source=name) from None
        return cls.from_dict(document, source=name)


def _project(frame: MetricFrame, geometry: NDArray[np.object_]) -> NDArray[np.object_]:
    if geometry.shape[0] == 0:
        return geometry.copy()
    projected: NDArray[np.object_] = frame.project_geometry(geometry)
    return projected
