"""Fence geometries flattened into plain arrays, for the compiled matching kernels.

Shapely geometries are Python objects; the kernels (:mod:`fencecheck._compiled.match`,
:mod:`fencecheck._compiled.mass`) read coordinates from flat numpy arrays instead,
in CSR form: fence → parts → rings → vertices. A polygonal part's first ring is
its shell, the others its holes; a venue point is a part with one ring of one
vertex. Coordinates are copied exactly (no re-orientation, no rounding), so the
kernels see the very numbers shapely sees.

Examples
--------
>>> import shapely
>>> flat = FlatGeometry.from_shapely(np.array(
...     [shapely.box(0, 0, 2, 2), shapely.MultiPoint([(5, 5), (7, 5)])], dtype=object))
>>> flat.fence_part.tolist(), flat.part_point.tolist(), flat.part_ring.tolist()
([0, 1, 3], [False, True, True], [0, 1, 2, 3])
>>> flat.ring_vertex.tolist(), flat.x.tolist()[-2:]
([0, 5, 6, 7], [5.0, 7.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = ["FlatGeometry"]

_POINT_TYPES = (0, 4)  # shapely type ids of Point and MultiPoint


@dataclass(frozen=True)
class FlatGeometry:
    """Polygons (with holes and parts) and points as CSR arrays.

    Attributes
    ----------
    fence_part : ndarray of int64, shape (n_fences + 1,)
        Fence ``f``'s parts are ``fence_part[f]:fence_part[f + 1]``.
    part_ring : ndarray of int64, shape (n_parts + 1,)
        Part ``p``'s rings (shell first) are ``part_ring[p]:part_ring[p + 1]``.
    part_point : ndarray of bool, shape (n_parts,)
        The part is a point (one ring of one vertex), not a polygon.
    ring_vertex : ndarray of int64, shape (n_rings + 1,)
        Ring ``r``'s vertices are ``ring_vertex[r]:ring_vertex[r + 1]``; polygon
        rings are closed (last vertex equals the first).
    x, y : ndarray of float64
        The vertices.
    """

    fence_part: NDArray[np.int64]
    part_ring: NDArray[np.int64]
    part_point: NDArray[np.bool_]
    ring_vertex: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.fence_part.shape[0] - 1)

    @classmethod
    def from_shapely(cls, geometry: NDArray[np.object_]) -> FlatGeometry:
        """Flatten Polygon, MultiPolygon, Point and MultiPoint geometries."""
        geometry = np.asarray(geometry, dtype=object)
        n = geometry.shape[0]
        parts, part_fence = shapely.get_parts(geometry, return_index=True)
        fence_part = _offsets(part_fence, n)
        is_point = np.isin(shapely.get_type_id(parts), _POINT_TYPES)
        polygon_parts = np.flatnonzero(~is_point)
        point_parts = np.flatnonzero(is_point)
        rings, ring_of = shapely.get_rings(parts[polygon_parts], return_index=True)
        ring_part = np.concatenate([polygon_parts[ring_of], point_parts])
        # Rings of one part stay in shapely's order (shell first): a stable sort by part.
        order = np.argsort(ring_part, kind="stable")
        ring_part = ring_part[order]
        ring_coords, ring_index = shapely.get_coordinates(rings, return_index=True)
        point_coords = shapely.get_coordinates(parts[point_parts]).reshape(-1, 2)
        coords = np.concatenate([ring_coords, point_coords])
        vertex_ring = np.concatenate([ring_index, rings.shape[0] + np.arange(point_parts.shape[0])])
        # Renumber rings in part order; vertices follow their ring, in order.
        rank = np.empty(order.shape[0], dtype=np.int64)
        rank[order] = np.arange(order.shape[0])
        vertex_ring = rank[vertex_ring]
        vertex_order = np.argsort(vertex_ring, kind="stable")
        coords = coords[vertex_order]
        return cls(
            fence_part=fence_part,
            part_ring=_offsets(ring_part, parts.shape[0]),
            part_point=is_point,
            ring_vertex=_offsets(vertex_ring[vertex_order], order.shape[0]),
            x=np.ascontiguousarray(coords[:, 0], dtype=np.float64),
            y=np.ascontiguousarray(coords[:, 1], dtype=np.float64),
        )

    def arrays(self) -> tuple[NDArray[np.int64], ...]:
        """The arrays in the order the kernels take them."""
        return (  # type: ignore[return-value]
            self.fence_part,
            self.part_ring,
            self.part_point,
            self.ring_vertex,
            self.x,
            self.y,
        )


def _offsets(owner: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """CSR offsets of items sorted by owner (``owner`` nondecreasing, in ``[0, n)``)."""
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=offsets[1:])
    return offsets
