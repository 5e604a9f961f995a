"""Reading a region (``--region``): a Polygon or MultiPolygon GeoJSON, in any of the three datums.

The file is a FeatureCollection, a Feature or a bare geometry; the polygons of
all its features are joined into one region. Outlines published for Chinese
maps (Aliyun DataV, Amap) are in GCJ-02 even though GeoJSON readers take them
for WGS-84: pass ``datum="gcj02"`` for them. An invalid outline is refused
with GEOS's reason (without its coordinates), unless ``invalid="repair"``.

Examples
--------
>>> outline = {"type": "Feature", "properties": {"name": "北京市"},
...            "geometry": {"type": "Polygon", "coordinates": [[[115.5, 39.5], [117.5, 39.5],
...                         [117.5, 41.0], [115.5, 41.0], [115.5, 39.5]]]}}
>>> region = read_region(outline, datum="gcj02")
>>> region.name, region.datum
('北京市', 'gcj02')
>>> round(region.geometry.bounds[0], 3)  # moved west from GCJ-02 to WGS-84
115.494
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck.datums import Datum, in_china, to_wgs84
from fencecheck.errors import DataError, OptionError
from fencecheck.geojson import Refusal, geometry_from_geojson, polygonal_part
from fencecheck.options import InvalidPolicy
from fencecheck.region import Region

__all__ = ["read_region"]

_BRACKETED = re.compile(r"\[[^\]]*\]")


def read_region(
    source: str | os.PathLike[str] | Mapping[str, Any] | Region,
    *,
    datum: Datum | str = Datum.WGS84,
    name: str | None = None,
    invalid: InvalidPolicy | str = InvalidPolicy.RAISE,
) -> Region:
    """Read a region from a GeoJSON file or mapping.

    Parameters
    ----------
    source : path, mapping or Region
        A FeatureCollection, Feature or Polygon/MultiPolygon geometry; a
        :class:`~fencecheck.region.Region` is returned as it is.
    datum : {"wgs84", "gcj02", "bd09"}
        The datum of the coordinates; the region is kept in WGS-84.
    name : str, optional
        What reports call the region (default: the single feature's ``name``
        property, else the file's stem).
    invalid : {"raise", "repair"}
        Refuse an invalid outline, or repair it with :func:`shapely.make_valid`.

    Raises
    ------
    DataError
        When the file cannot be read, holds no polygon, or the outline is invalid.
    """
    if isinstance(source, Region):
        return source
    datum = Datum.parse(datum)
    policy = InvalidPolicy.parse(invalid)
    if isinstance(source, Mapping):
        label, document = "<GeoJSON>", source
    else:
        label = os.fspath(source)
        document = _load(label)
    geometries, names = _geometries(document, label)
    wgs = [_to_wgs84(g, datum, label) for g in geometries]
    geometry = shapely.union_all(wgs) if len(wgs) > 1 else wgs[0]
    if not geometry.is_valid:
        if policy is InvalidPolicy.RAISE:
            reason = _BRACKETED.sub("", shapely.is_valid_reason(geometry)).strip()
            raise DataError(
                f"the outline is not a valid polygon ({reason}); pass invalid='repair' "
                "(--invalid repair) to repair it",
                source=label,
                field="geometry",
            )
        geometry = polygonal_part(shapely.make_valid(geometry))
        if geometry is None:
            raise DataError("the outline holds no polygon once repaired", source=label)
    if name is None:
        name = names[0] if len(names) == 1 and names[0] else Path(label).stem or "region"
    try:
        return Region.from_geometry(geometry, name=name, source=label, datum=datum.value)
    except OptionError as exc:
        raise DataError(str(exc), source=label) from None


def _load(path: str) -> Any:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError("no such file", source=path) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a GeoJSON file", source=path) from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", source=path) from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg}", source=path, line=exc.lineno) from None


def _geometries(document: Any, label: str) -> tuple[list[Any], list[str | None]]:
    """The polygonal geometries of a GeoJSON object, with their features' names."""
    if not isinstance(document, Mapping):
        raise DataError("not a GeoJSON object", source=label)
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list) or not features:
            raise DataError("the FeatureCollection has no features", source=label)
    elif kind == "Feature":
        features = [document]
    else:
        features = [{"type": "Feature", "properties": {}, "geometry": document}]
    out: list[Any] = []
    names: list[str | None] = []
    for k, feature in enumerate(features):
        where = f"#{k}"
        geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
        if not isinstance(geometry, Mapping):
            raise DataError("has no geometry", source=label, feature=where, field="geometry")
        if geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise DataError(
                f"a region is a Polygon or MultiPolygon, not a {geometry.get('type')!r}",
                source=label,
                feature=where,
                field="geometry",
            )
        try:
            out.append(geometry_from_geojson(geometry))
        except Refusal as problem:
            raise DataError(problem.reason, source=label, feature=where, field="geometry") from None
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        value = props.get("name") if isinstance(props, Mapping) else None
        names.append(None if value is None else str(value))
    return out, names


def _to_wgs84(geometry: Any, datum: Datum, label: str) -> Any:
    if datum is Datum.WGS84:
        return geometry

    def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        if not np.all(in_china(coords[:, 0], coords[:, 1])):
            raise DataError(
                f"the outline reaches outside China, where {datum.value} is not defined",
                source=label,
                field="geometry",
            )
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum)
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, convert)
