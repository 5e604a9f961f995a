"""A seeded synthetic city of fences around Beijing, for the index and matching benchmarks.

A 40 km x 40 km area centred on 116.40 E, 39.90 N. Fences are irregular star-shaped
polygons of 8-64 vertices and 100-600 m radius; some have a hole, some are in two
parts, some are point venues with a margin, some polygons have a margin; each has
one or two windows of 1-14 days within May 2022. Deterministic for a seed.

The *plain* city (``plain=True``) is the same city with every margin 0: each
polygon keeps its shape, and each venue becomes a regular 32-gon of its margin's
radius around its point (a venue needs a margin to be a fence). The random draws
are the same, so everything else (windows, kinds, the other shapes) is identical.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

CENTRE = (116.40, 39.90)
HALF_SIDE_M = 20_000.0
M_PER_DEG_LAT = 111_320.0
MAY_1 = 1_651_334_400  # 2022-05-01T00:00:00+08:00, epoch seconds


def _to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = CENTRE[1] + y / M_PER_DEG_LAT
    lon = CENTRE[0] + x / (M_PER_DEG_LAT * np.cos(np.radians(CENTRE[1])))
    return lon, lat


def _star(
    rng: np.random.Generator, cx: float, cy: float, radius: float, k: int, scale: float = 1.0
) -> np.ndarray:
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radii = radius * scale * rng.uniform(0.55, 1.0, k)
    x = cx + radii * np.cos(angles)
    y = cy + radii * np.sin(angles)
    lon, lat = _to_lonlat(x, y)
    ring = np.column_stack([lon, lat])
    return np.vstack([ring, ring[:1]])


def _disc(cx: float, cy: float, radius: float, k: int = 32) -> Any:
    """A regular ``k``-gon of ``radius`` metres around ``(cx, cy)``, in longitude and latitude."""
    angles = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    lon, lat = _to_lonlat(cx + radius * np.cos(angles), cy + radius * np.sin(angles))
    return shapely.Polygon(np.column_stack([lon, lat]))


def make_fence_records(
    n: int, seed: int = 20220501, *, plain: bool = False
) -> list[dict[str, Any]]:
    """n fence records (id, kind, windows, buffer_m, geometry) for FenceSet.from_records.

    Parameters
    ----------
    n : int
        How many fences.
    seed : int
        The random seed.
    plain : bool
        Every margin 0: venues become regular 32-gons of their margin's radius.
    """
    rng = np.random.default_rng(seed)
    kinds = np.array(["sealed", "controlled", "precaution", "risk_area", "risk_venue"])
    records = []
    for i in range(n):
        cx, cy = rng.uniform(-HALF_SIDE_M, HALF_SIDE_M, 2)
        radius = rng.uniform(100, 600)
        k = int(rng.integers(8, 65))
        roll = rng.random()
        buffer_m = 0.0
        if roll < 0.05:  # a venue known by its address
            lon, lat = _to_lonlat(np.array([cx]), np.array([cy]))
            geometry: Any = shapely.Point(lon[0], lat[0])
            buffer_m = float(rng.choice([50.0, 75.0, 100.0]))
            kind = "risk_venue"
            if plain:
                geometry = _disc(float(cx), float(cy), buffer_m)
        else:
            shell = _star(rng, cx, cy, radius, k)
            holes = []
            if roll < 0.20:  # a compound with a courtyard that is not part of it
                holes = [_star(rng, cx, cy, radius, max(8, k // 2), scale=0.35)[::-1]]
            geometry = shapely.Polygon(shell, holes)
            if roll > 0.90:  # two buildings apart
                dx = radius * 3
                other = _star(rng, cx + dx, cy, radius * 0.6, max(8, k // 2))
                geometry = shapely.MultiPolygon([geometry, shapely.Polygon(other)])
            if rng.random() < 0.2:
                buffer_m = float(rng.choice([20.0, 30.0, 50.0]))
            kind = str(rng.choice(kinds[:4]))
        if plain:
            buffer_m = 0.0
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
            if geometry.geom_type not in ("Polygon", "MultiPolygon"):
                geometry = shapely.convex_hull(geometry)
        windows = []
        for _ in range(int(rng.integers(1, 3))):
            start = MAY_1 + int(rng.integers(0, 30 * 86_400))
            windows.append([start, start + int(rng.integers(1, 15)) * 86_400])
        records.append(
            {
                "id": f"F{i:05d}",
                "kind": kind,
                "windows": windows,
                "buffer_m": buffer_m,
                "geometry": geometry,
            }
        )
    return records


SEGMENT_S = 2 * 3600  # a person's day is cut into 2-hour segments: stay, or trip then stay


def make_pings(
    n_pings: int,
    n_people: int,
    fence_records: list[dict[str, Any]],
    seed: int = 20220502,
    in_fence_share: float = 0.2,
) -> dict[str, np.ndarray]:
    """Pings of people moving between their places over May 2022, sorted by person, time.

    Each person has five places (home, work, errands; for ``in_fence_share`` of
    people one of them inside a fence); each 2-hour segment is a stay at one place or (30 %) a
    trip to the next place in its first half hour, then a stay. 70 % of pings are
    GPS fixes (5-50 m), 30 % cell fixes (200-1500 m), scattered by their accuracy.
    """
    rng = np.random.default_rng(seed)
    person = np.sort(rng.integers(0, n_people, n_pings))
    t = MAY_1 + rng.integers(0, 31 * 86_400, n_pings)
    order = np.lexsort((t, person))
    person, t = person[order], t[order]
    places = rng.uniform(-HALF_SIDE_M, HALF_SIDE_M, (n_people, 5, 2))
    centres = np.array(
        [shapely.get_coordinates(shapely.point_on_surface(r["geometry"]))[0] for r in fence_records]
    )
    lon0, lat0 = CENTRE
    cx = (centres[:, 0] - lon0) * M_PER_DEG_LAT * np.cos(np.radians(lat0))
    cy = (centres[:, 1] - lat0) * M_PER_DEG_LAT
    in_fence = rng.random(n_people) < in_fence_share
    pick = rng.integers(0, len(fence_records), n_people)
    places[in_fence, 4, 0] = cx[pick[in_fence]]
    places[in_fence, 4, 1] = cy[pick[in_fence]]
    segment = (t - MAY_1) // SEGMENT_S
    here = (person * 7919 + segment * 104_729) % 5
    before = (person * 7919 + (segment - 1) * 104_729) % 5
    trip = ((person * 31 + segment * 17) % 10) < 3
    into = np.clip(((t - MAY_1) % SEGMENT_S) / 1800.0, 0.0, 1.0)
    frac = np.where(trip, into, 1.0)[:, None]
    xy = places[person, before] * (1 - frac) + places[person, here] * frac
    cell = rng.random(n_pings) < 0.3
    accuracy = np.where(cell, rng.uniform(200, 1500, n_pings), rng.uniform(5, 50, n_pings))
    xy += rng.normal(0.0, 1.0, (n_pings, 2)) * (accuracy / 1.5096)[:, None]
    lon, lat = _to_lonlat(xy[:, 0], xy[:, 1])
    return {
        "person_id": person,
        "t": t * 1000,
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy.round(1),
        "source": np.where(cell, "cell", "gps"),
    }
