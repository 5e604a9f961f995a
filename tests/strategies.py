"""Hypothesis strategies shared by the tests: fences and pings on exact grids.

Geometry is drawn in frame coordinates (metres) on an integer grid with
axis-parallel edges wherever possible, so that points placed on vertices and on
edges are exactly on them in floating point: the boundary cases are real.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from hypothesis import strategies as st

GRID = 40  # fences live in [0, GRID * STEP) metres on each axis
STEP = 10.0
HOUR = 3_600_000
T0 = 1_651_363_200_000  # 2022-05-01T00:00:00Z


@dataclass
class PlanarCase:
    """Fences in frame coordinates with their windows and margins, and pings."""

    geometry: list[Any]
    buffer_m: list[float]
    windows: list[list[tuple[int, int]]]
    x: np.ndarray
    y: np.ndarray
    t: np.ndarray
    accuracy_m: np.ndarray


@st.composite
def planar_fence(draw: Any) -> tuple[Any, float]:
    """A rectangle (maybe with a rectangular hole), a triangle, two parts, or a venue."""

    def corner() -> tuple[float, float]:
        return draw(st.integers(0, GRID - 8)) * STEP, draw(st.integers(0, GRID - 8)) * STEP

    kind = draw(st.sampled_from(["rect", "holed", "triangle", "multi", "venue"]))
    x0, y0 = corner()
    w = draw(st.integers(2, 7)) * STEP
    h = draw(st.integers(2, 7)) * STEP
    margin = float(draw(st.sampled_from([0, 0, 0, 5, 12.5])))
    if kind == "rect":
        return shapely.box(x0, y0, x0 + w, y0 + h), margin
    if kind == "holed":
        w, h = max(w, 3 * STEP), max(h, 3 * STEP)
        hole = shapely.box(x0 + STEP, y0 + STEP, x0 + w - STEP, y0 + h - STEP)
        outer = shapely.box(x0, y0, x0 + w, y0 + h)
        return shapely.Polygon(outer.exterior, [hole.exterior]), margin
    if kind == "triangle":
        return shapely.Polygon([(x0, y0), (x0 + w, y0), (x0, y0 + h)]), margin
    if kind == "multi":
        a = shapely.box(x0, y0, x0 + STEP * 2, y0 + STEP * 2)
        b = shapely.box(x0 + STEP * 4, y0 + STEP * 3, x0 + STEP * 6, y0 + STEP * 6)
        return shapely.MultiPolygon([a, b]), margin
    return shapely.Point(x0, y0), float(draw(st.sampled_from([5.0, 20.0])))


@st.composite
def windows(draw: Any) -> list[tuple[int, int]]:
    """One to three windows of whole hours, maybe open-ended, maybe touching."""
    out = []
    for _ in range(draw(st.integers(1, 3))):
        start = T0 + draw(st.integers(0, 20)) * HOUR
        if draw(st.integers(0, 6)) == 0:
            out.append((start, None))
        else:
            out.append((start, start + draw(st.integers(1, 6)) * HOUR))
    return out  # type: ignore[return-value]


def special_points(geometry: Any) -> list[tuple[float, float]]:
    """Vertices, edge midpoints (exact on axis-parallel edges) and the centroid."""
    coords = (
        shapely.get_coordinates(shapely.boundary(geometry))
        if geometry.geom_type != "Point"
        else shapely.get_coordinates(geometry)
    )
    points = [tuple(c) for c in coords]
    points += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in itertools.pairwise(coords)]
    points.append(tuple(shapely.get_coordinates(shapely.centroid(geometry))[0]))
    return points  # type: ignore[return-value]


@st.composite
def planar_cases(draw: Any, max_fences: int = 6, max_pings: int = 60) -> PlanarCase:
    """Fences and pings, many of the pings exactly on vertices, edges and window ends."""
    fences = [draw(planar_fence()) for _ in range(draw(st.integers(1, max_fences)))]
    wins = [draw(windows()) for _ in fences]
    specials = [p for geom, _ in fences for p in special_points(geom)]
    instants = [t for ws in wins for (s, e) in ws for t in (s, s - 1, e, (e or s) - 1) if t]
    n = draw(st.integers(1, max_pings))
    xs, ys, ts, accs = [], [], [], []
    for _ in range(n):
        how = draw(st.sampled_from(["special", "special", "grid", "near", "far"]))
        if how == "special":
            x, y = draw(st.sampled_from(specials))
        elif how == "grid":
            x = draw(st.integers(-2, GRID * 2)) * STEP / 2
            y = draw(st.integers(-2, GRID * 2)) * STEP / 2
        elif how == "near":
            x, y = draw(st.sampled_from(specials))
            x += draw(st.floats(-20, 20, allow_nan=False))
            y += draw(st.floats(-20, 20, allow_nan=False))
        else:
            x, y = 5_000.0, -3_000.0
        xs.append(x)
        ys.append(y)
        if draw(st.booleans()):
            ts.append(draw(st.sampled_from(instants)))
        else:
            ts.append(T0 + draw(st.integers(-2, 30)) * HOUR // 2)
        accs.append(float(draw(st.sampled_from([0.0, 3.0, 10.0, 12.5, 60.0, 400.0]))))
    return PlanarCase(
        geometry=[g for g, _ in fences],
        buffer_m=[b for _, b in fences],
        windows=wins,
        x=np.array(xs, dtype=np.float64),
        y=np.array(ys, dtype=np.float64),
        t=np.array(ts, dtype=np.int64),
        accuracy_m=np.array(accs, dtype=np.float64),
    )
