"""Reading fences from GeoJSON or a GeoDataFrame, and writing them back to GeoJSON.

The file form is RFC 7946 GeoJSON as docs/contract.md describes it: a FeatureCollection
whose features carry ``id``, ``name``, ``kind``, ``start``/``end`` or
``windows: [[start, end], ...]`` and ``buffer_m`` in their properties. Every
reader hands its features to :func:`fencecheck.fences.build_fences`, so the
checks are the same whatever the source.

Examples
--------
>>> import json, tempfile, os
>>> collection = {"type": "FeatureCollection", "features": [{
...     "type": "Feature",
...     "properties": {"id": "F1", "kind": "sealed", "start": "2022-05-01T00:00:00+08:00"},
...     "geometry": {"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.41, 39.90],
...                  [116.41, 39.91], [116.40, 39.91], [116.40, 39.90]]]}}]}
>>> fences = read_fences(collection)
>>> fences.ids.tolist(), fences.window_end.tolist() == [OPEN_END]
(['F1'], True)
>>> path = os.path.join(tempfile.mkdtemp(), "fences.geojson")
>>> write_fences(fences, path)
>>> read_fences(path).ids.tolist()
['F1']
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from fencecheck.datums import Datum, from_wgs84
from fencecheck.errors import FenceDataError
from fencecheck.fences import NOT_A_FEATURE, FenceSet, build_fences
from fencecheck.geojson import shorten
from fencecheck.options import InvalidPolicy, OnError
from fencecheck.times import OPEN_END, format_utc
from fencecheck.values import is_missing

__all__ = ["fences_to_geojson", "read_fences", "write_fences"]

_WGS84_CRS_NAMES = frozenset(
    {
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:epsg::4326",
        "epsg:4326",
        "crs84",
    }
)


def read_fences(
    source: str | os.PathLike[str] | Mapping[str, Any] | Any,
    *,
    datum: Datum | str = Datum.WGS84,
    tz: str | _dt.tzinfo | None = None,
    invalid: InvalidPolicy | str = InvalidPolicy.RAISE,
    on_error: OnError | str = OnError.RAISE,
) -> FenceSet:
    """Read fences from a GeoJSON file, a GeoJSON mapping or a GeoDataFrame.

    Parameters
    ----------
    source : path, mapping or GeoDataFrame
        A GeoJSON FeatureCollection (or a single Feature) as a file path or an
        already-parsed mapping; or a :class:`geopandas.GeoDataFrame` with the
        property names as columns.
    datum : {"wgs84", "gcj02", "bd09"}
        The datum of the coordinates (RFC 7946 says WGS-84; maps drawn on Amap or
        Tencent are GCJ-02, Baidu BD-09). Geometry is stored in WGS-84.
    tz : str or tzinfo, optional
        The zone naive window times are read in (default Asia/Shanghai).
    invalid : {"raise", "repair"}
        Refuse invalid polygons, or repair them with :func:`shapely.make_valid`
        (listed in the result's ``repaired``).
    on_error : {"raise", "reject"}
        Stop at the first bad feature, or set bad features aside in the result's
        ``rejected`` table.

    Returns
    -------
    FenceSet

    Raises
    ------
    FenceDataError
        When the file cannot be read as GeoJSON, or (under ``on_error="raise"``)
        for the first bad feature; the message names the file, the feature, the
        field and the reason.
    """
    if _is_geodataframe(source):
        return build_fences(
            _geodataframe_records(source, Datum.parse(datum)),
            datum=datum,
            tz=tz,
            invalid=invalid,
            on_error=on_error,
            source="GeoDataFrame",
        )
    if isinstance(source, Mapping):
        name = "<GeoJSON>"
        document: Any = source
    else:
        name = os.fspath(source)
        document = _load_json(name)
    features = _features(document, name)
    return build_fences(
        _geojson_records(features),
        datum=datum,
        tz=tz,
        invalid=invalid,
        on_error=on_error,
        source=name,
    )


def _load_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise FenceDataError("no such file", source=path) from None
    except IsADirectoryError:
        raise FenceDataError("is a directory, not a GeoJSON file", source=path) from None
    except UnicodeDecodeError as exc:
        raise FenceDataError(
            f"not UTF-8 text (RFC 7946 GeoJSON is UTF-8): {exc.reason} at byte {exc.start}",
            source=path,
        ) from None
    except json.JSONDecodeError as exc:
        raise FenceDataError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            source=path,
            line=exc.lineno,
        ) from None


def _features(document: Any, name: str) -> list[Any]:
    if not isinstance(document, Mapping):
        raise FenceDataError("not a GeoJSON object (expected a FeatureCollection)", source=name)
    kind = document.get("type")
    _check_crs(document, name)
    if kind == "Feature":
        return [document]
    if kind != "FeatureCollection":
        raise FenceDataError(
            f"GeoJSON type is {kind!r}; expected a FeatureCollection of fence features",
            source=name,
        )
    features = document.get("features")
    if not isinstance(features, list):
        raise FenceDataError("FeatureCollection has no 'features' list", source=name)
    return features


def _check_crs(document: Mapping[str, Any], name: str) -> None:
    crs = document.get("crs")
    if crs is None:
        return
    crs_name = ""
    if isinstance(crs, Mapping):
        props = crs.get("properties")
        if isinstance(props, Mapping):
            crs_name = str(props.get("name", ""))
    if crs_name.lower() not in _WGS84_CRS_NAMES:
        raise FenceDataError(
            f"declares crs {crs_name or crs!r}; fencecheck reads lon/lat GeoJSON "
            "(RFC 7946: WGS-84, or GCJ-02 / BD-09 with the datum option) — reproject first",
            source=name,
        )


def _geojson_records(features: list[Any]) -> Iterator[Any]:
    for feature in features:
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            yield {NOT_A_FEATURE: _not_a_feature(feature)}
            continue
        props = feature.get("properties")
        record: dict[str, Any] = dict(props) if isinstance(props, Mapping) else {}
        if record.get("id") is None and feature.get("id") is not None:
            record["id"] = feature.get("id")
        record["geometry"] = feature.get("geometry")
        yield record


def _not_a_feature(value: object) -> str:
    """Why a feature is refused, naming what it is, never its content (it may hold coordinates).

    Examples
    --------
    >>> _not_a_feature([116.3912345, 39.9]), _not_a_feature({"type": "Point"})
    ('not a GeoJSON Feature (a JSON array)', "not a GeoJSON Feature (its type is 'Point')")
    """
    if isinstance(value, Mapping):
        kind = value.get("type")
        if isinstance(kind, str):
            return f"not a GeoJSON Feature (its type is {shorten(kind, 40)!r})"
        return "not a GeoJSON Feature (a JSON object without a type)"
    json_types = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    json_type = "null" if value is None else json_types.get(type(value), type(value).__name__)
    return f"not a GeoJSON Feature (a JSON {json_type})"


def _is_geodataframe(obj: Any) -> bool:
    return type(obj).__name__ == "GeoDataFrame" and hasattr(obj, "geometry")


def _geodataframe_records(frame: Any, datum: Datum) -> Iterator[dict[str, Any]]:
    crs = getattr(frame, "crs", None)
    if crs is not None and not crs.is_geographic:
        if datum is not Datum.WGS84:
            raise FenceDataError(
                f"GeoDataFrame is in projected CRS {crs.to_string()}; the datum option "
                "applies to lon/lat coordinates only",
                source="GeoDataFrame",
            )
        frame = frame.to_crs("EPSG:4326")
    elif crs is not None and crs.to_epsg() not in (4326, None):
        frame = frame.to_crs("EPSG:4326")
    geom_col = frame.geometry.name
    columns = [c for c in frame.columns if c != geom_col]
    geoms = frame.geometry.to_numpy()
    values = {c: frame[c].to_numpy() for c in columns}
    for i in range(len(frame)):
        # A table has every column on every row: a missing value (None, NaN, NaT) is an
        # absent property, as it would be in the GeoJSON feature.
        record = {c: _plain(values[c][i]) for c in columns}
        record = {c: v for c, v in record.items() if not is_missing(v)}
        record["geometry"] = geoms[i]
        yield record


def _plain(value: Any) -> Any:
    """Numpy scalars to Python ones (JSON-ready), other values unchanged."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_fences(
    fences: FenceSet,
    path: str | os.PathLike[str],
    *,
    datum: Datum | str = Datum.WGS84,
) -> None:
    """Write fences to an RFC 7946 GeoJSON file that :func:`read_fences` reads back.

    Windows are written as ISO 8601 UTC with ``Z`` (``end`` null when open): one
    window as ``start``/``end``, several as ``windows``. Extra properties are
    kept. Coordinates are written at full precision; polygon rings are oriented
    as RFC 7946 asks (exterior counter-clockwise).

    Parameters
    ----------
    datum : {"wgs84", "gcj02", "bd09"}
        Write coordinates in this datum (default WGS-84, as RFC 7946 says).
    """
    doc = fences_to_geojson(fences, datum=datum)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(doc, handle, ensure_ascii=False, indent=1, allow_nan=False)
        handle.write("\n")


def fences_to_geojson(
    fences: FenceSet, *, datum: Datum | str = Datum.WGS84, orient: bool = True
) -> dict[str, Any]:
    """The fences as a GeoJSON FeatureCollection mapping (what :func:`write_fences` writes).

    With ``orient=False`` rings keep their vertex order, so that the geometry read
    back is identical to the last bit (a saved index relies on this).
    """
    return {
        "type": "FeatureCollection",
        "features": _features_out(fences, Datum.parse(datum), orient=orient),
    }


def _features_out(fences: FenceSet, datum: Datum, orient: bool = True) -> list[dict[str, Any]]:
    geoms = fences.geometry
    if orient and len(fences):
        geoms = shapely.orient_polygons(geoms)
    if datum is not Datum.WGS84 and len(fences):

        def convert(coords: Any) -> Any:
            lon, lat = from_wgs84(coords[:, 0], coords[:, 1], datum)
            return np.column_stack([lon, lat])

        geoms = shapely.transform(geoms, convert)
    starts = format_utc(fences.window_start)
    ends = format_utc(fences.window_end)
    out = []
    for i in range(len(fences)):
        sel = np.flatnonzero(fences.window_fence == i)
        props: dict[str, Any] = {"id": str(fences.ids[i])}
        if fences.names[i] is not None:
            props["name"] = fences.names[i]
        props["kind"] = str(fences.kinds[i])
        windows = [
            [str(starts[k]), None if fences.window_end[k] == OPEN_END else str(ends[k])]
            for k in sel
        ]
        if len(windows) == 1:
            props["start"], props["end"] = windows[0]
        else:
            props["windows"] = windows
        if fences.buffer_m[i] > 0:
            props["buffer_m"] = float(fences.buffer_m[i])
        if fences.extra:
            props.update(fences.extra[i])
        out.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": shapely.geometry.mapping(geoms[i]),
            }
        )
    return out
