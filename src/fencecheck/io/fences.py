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
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import shapely
import shapely.geometry

from fencecheck.datums import Datum, from_wgs84
from fencecheck.errors import FenceCheckWarning, FenceDataError
from fencecheck.fences import NOT_A_FEATURE, FenceSet, build_fences
from fencecheck.geojson import shorten
from fencecheck.optional import require
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

# Read through GeoPandas (pyogrio): Shapefile, GeoPackage, FlatGeobuf; and GeoParquet.
_OGR_SUFFIXES = (".shp", ".shp.zip", ".gpkg", ".fgb")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet")

# Aliyun DataV's boundary files (GCJ-02) carry an adcode with one of these.
_DATAV_COMPANIONS = ("centroid", "acroutes", "center")


def read_fences(
    source: str | os.PathLike[str] | Mapping[str, Any] | Any,
    *,
    datum: Datum | str = Datum.WGS84,
    tz: str | _dt.tzinfo | None = None,
    invalid: InvalidPolicy | str = InvalidPolicy.RAISE,
    on_error: OnError | str = OnError.RAISE,
    kind_map: Mapping[str, str] | None = None,
    id_field: str = "id",
    name_field: str = "name",
    kind_field: str = "kind",
    start_field: str = "start",
    end_field: str = "end",
    buffer_field: str = "buffer_m",
    kind: str | None = None,
    window: tuple[Any, Any] | None = None,
) -> FenceSet:
    """Read fences from a GeoJSON file, a GeoJSON mapping or a GeoDataFrame.

    Parameters
    ----------
    source : path, mapping or GeoDataFrame
        A GeoJSON FeatureCollection (or a single Feature) as a file path or an
        already-parsed mapping; or a :class:`geopandas.GeoDataFrame` with the
        property names as columns. A path ending in ``.shp``, ``.shp.zip``,
        ``.gpkg`` or ``.fgb`` is read with :func:`geopandas.read_file`, one ending
        in ``.parquet`` or ``.geoparquet`` (GeoParquet) with
        :func:`geopandas.read_parquet` (both need the ``geopandas`` extra).
        A GeoDataFrame in another CRS (EPSG:3857, say) is reprojected to
        EPSG:4326 (``datum`` must then be wgs84); one without a CRS is taken as
        lon/lat in ``datum``.
    datum : {"wgs84", "gcj02", "bd09"}
        The datum of the coordinates (RFC 7946 says WGS-84; maps drawn on Amap or
        Tencent are GCJ-02, Baidu BD-09). Geometry is stored in WGS-84. Features
        that look like Aliyun DataV's boundaries (``adcode`` with ``centroid``,
        ``acroutes`` or ``center``), which are GCJ-02, read as wgs84 give a
        :class:`~fencecheck.errors.FenceCheckWarning`.
    tz : str or tzinfo, optional
        The zone naive window times are read in (default Asia/Shanghai).
    invalid : {"raise", "repair"}
        Refuse invalid polygons, or repair them with :func:`shapely.make_valid`
        (listed in the result's ``repaired``).
    on_error : {"raise", "reject"}
        Stop at the first bad feature, or set bad features aside in the result's
        ``rejected`` table.
    kind_map : mapping of str to str, optional
        Your names for kinds -> a known kind, e.g. ``{"小区封控": "sealed"}``.
        Kinds are matched case-blind, with their Chinese names (``封控区``);
        any other kind is refused.
    id_field, name_field, kind_field, start_field, end_field, buffer_field : str
        The property (column) holding each field when it is not the contract's
        name, e.g. ``id_field="adcode"``; a whole-number id becomes text.
    kind : str, optional
        The kind of every feature that names none (a feature's own kind wins).
    window : (start, end), optional
        The window of every feature without one (its own window wins); ``end``
        None means still active.

    Returns
    -------
    FenceSet

    Raises
    ------
    FenceDataError
        When the file cannot be read as GeoJSON, or (under ``on_error="raise"``)
        for the first bad feature; the message names the file, the feature, the
        field and the reason.
    OptionError
        For a ``kind_map`` target, ``kind`` or ``window`` that cannot be used.
    MissingDependencyError
        For a Shapefile, GeoPackage, FlatGeobuf or GeoParquet file without GeoPandas.

    Examples
    --------
    Aliyun DataV's district outlines: ids under ``adcode``, no kind, no window.

    >>> square = {"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.41, 39.90],
    ...           [116.41, 39.91], [116.40, 39.91], [116.40, 39.90]]]}
    >>> datav = {"type": "FeatureCollection", "features": [{"type": "Feature",
    ...     "properties": {"adcode": 110101, "name": "东城区", "center": [116.4, 39.9]},
    ...     "geometry": square}]}
    >>> fences = read_fences(datav, datum="gcj02", id_field="adcode", kind="防范区",
    ...                      window=("2022-05-01", None))
    >>> fences.ids.tolist(), fences.kinds.tolist(), fences.names.tolist()
    (['110101'], ['precaution'], ['东城区'])
    """
    datum_ = Datum.parse(datum)
    options: dict[str, Any] = {
        "datum": datum,
        "tz": tz,
        "invalid": invalid,
        "on_error": on_error,
        "kind_map": kind_map,
        "id_field": id_field,
        "name_field": name_field,
        "kind_field": kind_field,
        "start_field": start_field,
        "end_field": end_field,
        "buffer_field": buffer_field,
        "kind": kind,
        "window": window,
    }
    name = "GeoDataFrame"
    if not _is_geodataframe(source) and not isinstance(source, Mapping):
        name = os.fspath(source)
        frame = _read_with_geopandas(name)
        if frame is not None:
            source = frame
    if _is_geodataframe(source):
        records = list(_geodataframe_records(source, datum_, name))
        _warn_if_datav(records, datum_, name)
        return build_fences(records, source=name, **options)
    if isinstance(source, Mapping):
        name = "<GeoJSON>"
        document: Any = source
    else:
        document = _load_json(name)
    features = _features(document, name)
    records = list(_geojson_records(features))
    _warn_if_datav(records, datum_, name)
    return build_fences(records, source=name, **options)


def _read_with_geopandas(path: str) -> Any:
    """A Shapefile, GeoPackage, FlatGeobuf or GeoParquet file as a GeoDataFrame, else None."""
    lower = path.lower()
    parquet = lower.endswith(_PARQUET_SUFFIXES)
    if not parquet and not lower.endswith(_OGR_SUFFIXES):
        return None
    purpose = f"reading fences from {os.path.basename(path)}"
    geopandas = require("geopandas", "geopandas", purpose)
    if not os.path.exists(path):
        raise FenceDataError("no such file", source=path)
    if os.path.isdir(path):
        raise FenceDataError("is a directory, not a fence file", source=path)
    if parquet:
        require("pyarrow", "parquet", purpose)
        try:
            return geopandas.read_parquet(path)
        except (ValueError, OSError) as exc:
            raise FenceDataError(
                f"not a GeoParquet file: {shorten(exc, 200)}", source=path
            ) from None
    require("pyogrio", "geopandas", purpose)
    try:
        return geopandas.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio's errors (DataSourceError, ...) share no useful base
        raise FenceDataError(
            f"cannot be read as {lower.rsplit('.', 1)[-1]}: {shorten(exc, 200)}", source=path
        ) from None


def _warn_if_datav(records: Iterable[Any], datum: Datum, name: str) -> None:
    """Warn when features read as WGS-84 look like Aliyun DataV's (which are GCJ-02)."""
    if datum is not Datum.WGS84:
        return
    for record in records:
        if (
            isinstance(record, Mapping)
            and "adcode" in record
            and any(key in record for key in _DATAV_COMPANIONS)
        ):
            warnings.warn(
                f"{name}: the features look like Aliyun DataV boundaries (adcode with "
                "centroid/acroutes/center), which are GCJ-02, but are read as WGS-84; "
                'if they come from DataV pass --fence-datum gcj02 (datum="gcj02")',
                FenceCheckWarning,
                stacklevel=3,
            )
            return


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


def _geodataframe_records(
    frame: Any, datum: Datum, name: str = "GeoDataFrame"
) -> Iterator[dict[str, Any]]:
    crs = getattr(frame, "crs", None)
    if crs is not None and not crs.is_geographic:
        if datum is not Datum.WGS84:
            raise FenceDataError(
                f"GeoDataFrame is in projected CRS {crs.to_string()}; the datum option "
                "applies to lon/lat coordinates only",
                source=name,
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
