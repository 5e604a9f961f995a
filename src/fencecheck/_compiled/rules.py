"""Private shapely kernels for matching: the rules, decided by GEOS pair by pair.

These are the reference form of the rules, on shapely geometry arrays: the
compiled kernel (:mod:`fencecheck._compiled.match`) hands them the pairs it cannot
certify (a ping on a boundary, or within 1e-9 m of a margin), and
:func:`grown_polygons` makes the grown fences ``p_inside`` is computed over. No
pandas, no I/O, no Python loop per pair.

The rules (docs/domain.md, section 3), with ``d`` the distance from the ping to the
fence polygon (without its margin) and ``b`` the margin ``buffer_m``:

- point mode, ``covers``: hit when ``covers(polygon, ping) or d <= b``;
- point mode, ``contains``: hit when ``contains(polygon, ping) or d < b`` (strict
  everywhere: a ping exactly on the boundary or exactly ``b`` away is not a hit);
- disc mode: the point rule with ``b + accuracy_m`` for ``b``.

``relation`` is ``inside`` when the point rule holds, ``uncertain`` when only the
disc reaches the fence. ``depth_m`` is the signed distance to the polygon without
its margin: positive inside, zero on the boundary, negative outside.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = [
    "GROW_QUAD_SEGS",
    "PairTests",
    "check_pairs",
    "grown_polygons",
    "signed_depth",
]

_F64 = NDArray[np.float64]
POLYGONAL_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon


class PairTests:
    """What the exact tests found for candidate (ping, fence) pairs.

    Attributes
    ----------
    hit : ndarray of bool
        The pair is a hit under the mode and boundary rule.
    inside : ndarray of bool
        The point rule holds (``relation == "inside"``).
    depth_m : ndarray of float64
        Signed distance to the polygon without its margin (positive inside).
    """

    def __init__(self, hit: NDArray[np.bool_], inside: NDArray[np.bool_], depth_m: _F64) -> None:
        self.hit = hit
        self.inside = inside
        self.depth_m = depth_m


def signed_depth(
    geometry: NDArray[np.object_],
    x: _F64,
    y: _F64,
    boundary: NDArray[np.object_] | None = None,
) -> _F64:
    """Signed distance from points to geometries, pair by pair: positive inside.

    For a Point or MultiPoint fence (a venue) there is no inside: the depth is
    minus the distance. ``boundary`` may give each pair's geometry boundary,
    made once per fence by the caller; by default it is made here.

    Examples
    --------
    >>> square = np.array([shapely.box(0, 0, 10, 10)] * 3, dtype=object)
    >>> signed_depth(square, np.array([5.0, 10.0, 13.0]), np.array([2.0, 5.0, 14.0])).tolist()
    [2.0, 0.0, -5.0]
    """
    points = shapely.points(x, y)
    distance = shapely.distance(geometry, points)
    polygonal = np.isin(shapely.get_type_id(geometry), POLYGONAL_TYPES)
    inside = polygonal & (distance == 0)
    depth = -distance
    if inside.any():
        rings = shapely.boundary(geometry[inside]) if boundary is None else boundary[inside]
        depth[inside] = shapely.distance(rings, points[inside])
    return np.asarray(depth, dtype=np.float64)


def check_pairs(
    geometry: NDArray[np.object_],
    buffer_m: _F64,
    x: _F64,
    y: _F64,
    accuracy_m: _F64,
    *,
    disc: bool,
    strict: bool,
    boundary: NDArray[np.object_] | None = None,
) -> PairTests:
    """The exact tests for candidate pairs (all arguments are per pair).

    Parameters
    ----------
    geometry : ndarray of shapely geometries
        Each pair's fence in frame coordinates, without its margin.
    buffer_m, accuracy_m : ndarray of float64
        Each pair's margin and ping accuracy, metres.
    x, y : ndarray of float64
        Each pair's ping in frame coordinates.
    disc : bool
        Disc mode (the accuracy disc may reach the grown fence) or point mode.
    strict : bool
        ``contains`` (strict) instead of ``covers``.
    boundary : ndarray of shapely geometries, optional
        Each pair's fence boundary, if the caller keeps them (see :func:`signed_depth`).

    Examples
    --------
    >>> square = np.array([shapely.box(0, 0, 10, 10)] * 3, dtype=object)
    >>> zero = np.zeros(3)
    >>> t = check_pairs(square, zero, np.array([10.0, 12.0, 30.0]), np.full(3, 5.0),
    ...                np.array([0.0, 5.0, 5.0]), disc=True, strict=False)
    >>> t.hit.tolist(), t.inside.tolist(), t.depth_m.tolist()
    ([True, True, False], [True, False, False], [0.0, -2.0, -20.0])
    """
    depth = signed_depth(geometry, x, y, boundary)
    distance = np.maximum(-depth, 0.0)
    polygonal = np.isin(shapely.get_type_id(geometry), POLYGONAL_TYPES)
    if strict:
        in_polygon = polygonal & (depth > 0)
        inside = in_polygon | (distance < buffer_m)
        reach = inside | (distance < buffer_m + accuracy_m) if disc else inside
    else:
        in_polygon = polygonal & (depth >= 0)
        inside = in_polygon | (distance <= buffer_m)
        reach = inside | (distance <= buffer_m + accuracy_m) if disc else inside
    return PairTests(np.asarray(reach, dtype=bool), np.asarray(inside, dtype=bool), depth)


GROW_QUAD_SEGS = 16
"""Segments per quarter circle of a margin's rounded corners, for ``p_inside``.

The chords stay within r (1 - cos(pi / 64)) = 0.0012 r of the true margin (12 cm
for a 100 m margin), far below what moves a probability by 0.001.
"""


def grown_polygons(
    geometry: NDArray[np.object_], buffer_m: _F64, quad_segs: int = GROW_QUAD_SEGS
) -> Any:
    """Fences with their margins as finely segmented polygons (for ``p_inside``).

    A fence without a margin is returned as it is.
    """
    out = geometry.copy()
    grow = buffer_m > 0
    if grow.any():
        out[grow] = shapely.buffer(geometry[grow], buffer_m[grow], quad_segs=quad_segs)
    return out
