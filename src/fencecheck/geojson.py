"""GeoJSON geometry objects as shapely geometry, checked position by position.

A fence reader hands each feature's ``geometry`` here; a problem is a
:class:`Refusal` naming the field, the reason and the value, which the reader
turns into an error or a rejected row. A reason says *where* in the feature a
problem is as a GeoJSON path (``coordinates[0][3]``), never by its coordinates
(docs/privacy.md); :func:`validity_reason` does the same for GEOS's account of
an invalid polygon.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

__all__ = [
    "Refusal",
    "check_coordinates",
    "geometry_from_geojson",
    "polygonal_part",
    "shorten",
    "validity_reason",
]

# GEOS puts the location of a fault in brackets: "Self-intersection[116.39 39.91]".
_GEOS_LOCATION = re.compile(r"\s*\[([^\]]*)\]")


class Refusal(Exception):
    """One problem with one fence: which field, why, and the value."""

    def __init__(self, field: str, reason: str, value: object = "") -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
        self.value = value


def shorten(value: object, limit: int = 80) -> str:
    """A value as text for a message, cut to ``limit`` characters.

    Examples
    --------
    >>> shorten("x" * 100, 10)
    'xxxxxxxxx…'
    """
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def geometry_from_geojson(value: Mapping[str, Any]) -> Any:
    """A GeoJSON geometry object as shapely geometry, every position checked.

    Raises
    ------
    Refusal
        When the object is malformed or a position is not a WGS-84 [lon, lat].

    Examples
    --------
    >>> geometry_from_geojson({"type": "Point", "coordinates": [116.3, 40.0]}).wkt
    'POINT (116.3 40)'
    >>> try:
    ...     geometry_from_geojson({"type": "Point", "coordinates": [40.0, 116.3]})
    ... except Refusal as problem:
    ...     print(problem.field, "|", problem.reason.split(";")[1])
    geometry |  lon and lat look swapped (GeoJSON positions are [lon, lat])
    """
    kind = value.get("type")
    coords = value.get("coordinates")
    if kind == "GeometryCollection":
        raise Refusal("geometry", "GeometryCollection is not a fence geometry", kind)
    if not isinstance(kind, str) or coords is None:
        raise Refusal("geometry", "malformed geometry: needs 'type' and 'coordinates'", kind)
    if kind == "Point":
        return shapely.Point(_position(coords, "coordinates"))
    if kind == "MultiPoint":
        points = _list(coords, "coordinates")
        return shapely.MultiPoint([_position(p, f"coordinates[{k}]") for k, p in enumerate(points)])
    if kind == "Polygon":
        return _polygon(coords, "coordinates")
    if kind == "MultiPolygon":
        parts = _list(coords, "coordinates")
        return shapely.MultiPolygon([_polygon(p, f"coordinates[{k}]") for k, p in enumerate(parts)])
    raise Refusal(
        "geometry",
        f"geometry must be Polygon or MultiPolygon (or Point/MultiPoint with buffer_m > 0), "
        f"got {kind}",
        kind,
    )


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise Refusal("geometry", f"malformed geometry: {where} must be a list", shorten(value))
    return list(value)


def _position(value: object, where: str) -> tuple[float, float]:
    items = _list(value, where)
    if len(items) < 2 or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in items
    ):
        raise Refusal(
            "geometry", f"malformed geometry: {where} must be [lon, lat] numbers", shorten(value)
        )
    lon, lat = float(items[0]), float(items[1])
    _check_lonlat(np.array([lon]), np.array([lat]), lambda k: f"the position at {where}")
    return lon, lat


def _ring(value: object, where: str) -> NDArray[np.float64]:
    items = _list(value, where)
    try:
        arr = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        raise Refusal(
            "geometry", f"malformed geometry: {where} must be a list of [lon, lat]", shorten(value)
        ) from None
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise Refusal(
            "geometry", f"malformed geometry: {where} must be a list of [lon, lat]", shorten(value)
        )
    arr = arr[:, :2]
    _check_lonlat(arr[:, 0], arr[:, 1], lambda k: f"the position at {where}[{k}]")
    if arr.shape[0] < 4:
        raise Refusal(
            "geometry",
            f"{where}: ring has {arr.shape[0]} positions; a closed ring needs at least 4",
        )
    if not np.array_equal(arr[0], arr[-1]):
        raise Refusal(
            "geometry",
            f"{where}: ring is not closed (its first position, {where}[0], differs from its "
            f"last, {where}[{arr.shape[0] - 1}])",
        )
    return arr


def _polygon(value: object, where: str) -> Any:
    rings = _list(value, where)
    if not rings:
        raise Refusal("geometry", f"{where}: polygon has no rings (empty geometry)")
    shell = _ring(rings[0], f"{where}[0]")
    holes = [_ring(r, f"{where}[{k}]") for k, r in enumerate(rings[1:], start=1)]
    return shapely.Polygon(shell, holes)


def _check_lonlat(
    lon: NDArray[np.float64], lat: NDArray[np.float64], label: Callable[[int], str]
) -> None:
    """Refuse the first position that is not a finite WGS-84 [lon, lat], named by ``label(k)``.

    The message names the position (``label(k)``), never its coordinates.
    """
    finite = np.isfinite(lon) & np.isfinite(lat)
    if not finite.all():
        k = int(np.flatnonzero(~finite)[0])
        raise Refusal("geometry", f"{label(k)} has a coordinate that is not finite")
    bad_lon = np.abs(lon) > 180
    bad_lat = np.abs(lat) > 90
    if bad_lon.any() or bad_lat.any():
        k = int(np.flatnonzero(bad_lon | bad_lat)[0])
        hint = ""
        if abs(lat[k]) > 90 and abs(lon[k]) <= 90:
            hint = "; lon and lat look swapped (GeoJSON positions are [lon, lat])"
        raise Refusal(
            "geometry",
            f"{label(k)} is outside lon [-180, 180] / lat [-90, 90]{hint}",
        )


def check_coordinates(geom: Any) -> None:
    """Refuse a shapely geometry whose positions are not finite WGS-84 lon/lat."""
    coords = shapely.get_coordinates(geom)
    if coords.shape[0]:
        n = coords.shape[0]
        _check_lonlat(coords[:, 0], coords[:, 1], lambda k: f"position {k} of {n}")


def validity_reason(geom: Any) -> str:
    """Why GEOS finds a polygon invalid, in its words, placed by position and never by coordinates.

    GEOS says where the fault is in coordinates (``"Self-intersection[116.39
    39.91]"``); those are left out, and the edge nearest to that point is named
    by its GeoJSON positions instead, so that the fault can still be found in the file.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(116.40, 39.90), (116.41, 39.91), (116.41, 39.90),
    ...                           (116.40, 39.91)])
    >>> shapely.is_valid_reason(bowtie)
    'Self-intersection[116.405 39.905]'
    >>> validity_reason(bowtie)
    'Self-intersection on the edge from coordinates[0][0] to coordinates[0][1]'
    >>> validity_reason(shapely.box(0, 0, 1, 1))
    'Valid Geometry'
    """
    text = str(shapely.is_valid_reason(geom))
    words = _GEOS_LOCATION.sub("", text).strip()
    found = _GEOS_LOCATION.search(text)
    if found is None:
        return words
    try:
        x, y = (float(v) for v in found.group(1).split()[:2])
    except ValueError:  # no two numbers (GEOS may write "nan")
        return words
    edge = _nearest_edge(geom, x, y)
    return words if edge is None else f"{words} on the edge from {edge[0]} to {edge[1]}"


def _nearest_edge(geom: Any, x: float, y: float) -> tuple[str, str] | None:
    """The GeoJSON positions that start and end the ring edge nearest to (x, y), if finite."""
    if not (np.isfinite(x) and np.isfinite(y)):
        return None
    if geom.geom_type == "Polygon":
        parts = [("coordinates", geom)]
    elif geom.geom_type == "MultiPolygon":
        parts = [(f"coordinates[{k}]", part) for k, part in enumerate(geom.geoms)]
    else:
        return None
    best: tuple[float, str, str] | None = None
    for prefix, polygon in parts:
        for r, ring in enumerate([polygon.exterior, *polygon.interiors]):
            xy = np.asarray(ring.coords, dtype=np.float64)
            if xy.shape[0] < 2:
                continue
            a, b = xy[:-1, :2], xy[1:, :2]
            d = b - a
            length2 = np.einsum("ij,ij->i", d, d)
            p = np.array([x, y]) - a
            s = np.clip(np.einsum("ij,ij->i", p, d) / np.where(length2 > 0, length2, 1.0), 0, 1)
            gap = np.hypot(*(p - s[:, None] * d).T)
            k = int(np.argmin(gap))
            if best is None or gap[k] < best[0]:
                best = (float(gap[k]), f"{prefix}[{r}][{k}]", f"{prefix}[{r}][{k + 1}]")
    return None if best is None else (best[1], best[2])


def polygonal_part(geom: Any) -> Any:
    """The polygons in a geometry (make_valid may add lines or points), or None."""
    parts = shapely.get_parts(geom)
    polys = []
    for part in parts:
        if part.geom_type == "Polygon":
            polys.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            sub = polygonal_part(part)
            if sub is not None:
                polys.extend(shapely.get_parts(sub))
    polys = [p for p in polys if not p.is_empty and p.area > 0]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
