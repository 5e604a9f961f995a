"""The spatiotemporal fence index: which fences were active near here, and when.

A :class:`FenceIndex` holds a fence set in one planar metric frame (fixed when
the index is built and stored with it; the fences' shapes there and what the
kernels derive from them are :class:`~fencecheck.shapes.FenceShapes`, which it
extends) and a 3-D R-tree (the ``rtree`` package:
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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck.errors import FenceDataError
from fencecheck.fences import FenceSet
from fencecheck.frame import MetricFrame
from fencecheck.hits import Hits
from fencecheck.io.fences import fences_to_geojson, read_fences
from fencecheck.matching import match
from fencecheck.options import Boundary, Evidence, MatchMode
from fencecheck.shapes import OPEN_END_COORD, FenceShapes
from fencecheck.times import parse_time

if TYPE_CHECKING:
    from collections.abc import Sequence

    from fencecheck.pings import PingTable

__all__ = ["FORMAT_NAME", "FenceIndex"]

FORMAT_NAME = "fencecheck-index"
_FORMAT_VERSION = 1


def _rtree_properties() -> Any:
    from rtree import index as rtree_index

    props = rtree_index.Property()
    props.dimension = 3
    return props


class FenceIndex(FenceShapes):
    """Fences in a metric frame with a 3-D (x, y, time) R-tree over their windows.

    Build with :meth:`build` or :meth:`load`. Fences and windows keep the
    positions they were given; removed fences stay in the arrays, marked not
    ``alive``, until the index is saved. The shapes in the frame and what the
    kernels derive from them are :class:`~fencecheck.shapes.FenceShapes`'s.

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
        """Index ``fences`` in ``frame`` (``geometry`` as for :class:`FenceShapes`)."""
        super().__init__(fences, frame, geometry)
        boxes = self.window_boxes(np.arange(len(fences.window_start)))
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
                    "empty fence set: no fence was read, so there is nothing to match pings "
                    "against (and no "
                    "frame to measure in); check the fence file (fencecheck validate --fences "
                    "F), or index an empty set in a frame you give: "
                    "FenceIndex.build(fences, MetricFrame(lon, lat))",
                    source=fences.source,
                )
            frame = fences.frame()
        return cls(fences, frame)

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
        # Removed fences keep their positions, so a removed id may come back.
        new = self.extend(fences)
        for window, box in zip(new.tolist(), self.window_boxes(new).tolist(), strict=True):
            self._tree.insert(window, box)

    def remove(self, fence_ids: Iterable[str]) -> None:
        """Remove fences by id (for example those lifted today).

        Raises
        ------
        KeyError
            When an id is not in the index.
        """
        positions = [self._position(fid) for fid in fence_ids]
        for pos in positions:
            windows = np.flatnonzero(self.fences.window_fence == pos)
            for window, box in zip(
                windows.tolist(), self.window_boxes(windows).tolist(), strict=True
            ):
                self._tree.delete(window, box)
        self.retire(positions)

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
        t0 = -OPEN_END_COORD if start is None else float(parse_time(start, tz=self.fences.tz))
        t1 = OPEN_END_COORD if end is None else float(parse_time(end, tz=self.fences.tz))
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bounds)
        box = shapely.box(min_lon, min_lat, max_lon, max_lat)
        side = max(max_lon - min_lon, max_lat - min_lat)
        if side > 0:
            box = shapely.segmentize(box, side / 16)
        box_xy = self.frame.project_geometry(box)
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
        evidence: Evidence | str | bool = Evidence.FULL,
    ) -> Hits:
        """Every (ping, fence) hit with its evidence; see :func:`fencecheck.matching.match`.

        ``evidence="depth"`` (or False) leaves ``p_inside`` out (NaN), for a
        caller that needs only the hits and their depth: about half the time in
        point mode. ``evidence="hits"`` leaves ``depth_m`` out too: the pairs,
        their window and ``relation``, what a spatial join returns; in point
        mode read from a classified raster (made by :meth:`prepare`, or on first
        use), several times faster again.

        Examples
        --------
        >>> import fencecheck as fc
        >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
        >>> pings = fc.read_pings("data/samples/pings.csv")
        >>> full, pairs = index.match(pings), index.match(pings, evidence="hits")
        >>> (pairs.ping == full.ping).all() and (pairs.fence == full.fence).all()
        np.True_
        >>> bool(np.isnan(pairs.depth_m).all()), sorted(set(pairs.relation().tolist()))
        (True, ['inside'])
        """
        return match(pings, self, mode=mode, boundary=boundary, threads=threads, evidence=evidence)

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
