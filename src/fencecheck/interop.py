"""fencecheck's results as GeoPandas and pandas objects, and explanations as tables.

Reading goes the other way through the readers themselves:
:func:`~fencecheck.read_fences` takes a GeoDataFrame and
:func:`~fencecheck.read_pings` a DataFrame. This module writes out:

- :func:`fences_to_geopandas`: a fence set as a GeoDataFrame that
  :func:`~fencecheck.read_fences` reads back to the same fences;
- :func:`hits_to_geopandas`: hits as points at their fixes;
- :func:`explanation_table` and :func:`episode_table`: a list of
  :class:`~fencecheck.Explanation` as two :class:`~fencecheck.Table` objects (one
  row per person, one row per episode), with ``to_pandas``, ``to_csv`` and
  ``to_parquet`` (times ``timestamp[ms, UTC]``, as FORMATS.md names them).

pandas, GeoPandas and pyarrow are imported only when a function needs them; a
missing one raises :class:`~fencecheck.MissingDependencyError` naming the extra.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> explanations = fc.explain(fc.read_pings("data/samples/pings.csv"), index)
>>> table = explanation_table(explanations)
>>> dict(zip(table["person_id"], table["verdict"]))["P06"]
'false_trigger'
>>> len(episode_table(explanations)) == sum(len(e.episodes) for e in explanations)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.datums import Datum, from_wgs84
from fencecheck.errors import MissingDependencyError
from fencecheck.tables import NO_TIME, Table
from fencecheck.times import OPEN_END, format_utc, parse_time

if TYPE_CHECKING:
    from fencecheck.explain import Explanation
    from fencecheck.fences import FenceSet
    from fencecheck.matching import Hits
    from fencecheck.pings import PingTable

__all__ = ["episode_table", "explanation_table", "fences_to_geopandas", "hits_to_geopandas"]

EXPLANATION_TIMES = ("at", "entry", "exit")
"""The time columns of :func:`explanation_table`."""
EPISODE_TIMES = ("entry", "exit")
"""The time columns of :func:`episode_table`."""
_DECISIVE_FIELDS: dict[str, Any] = {
    "entry": np.int64, "exit": np.int64, "dwell_s": np.float64, "dwell_s_max": np.float64,
    "pings": np.int64, "max_depth_m": np.float64, "p_inside": np.float64,
}  # fmt: skip
_EPISODE_FIELDS: dict[str, Any] = {
    "fence_id": object, "kind": object, **_DECISIVE_FIELDS, "p_typical": np.float64,
    "speed_mps": np.float64, "stopped": np.bool_, "credible_pings": np.int64,
    "jump_pings": np.int64,
}  # fmt: skip


def _geopandas(purpose: str) -> Any:
    try:
        import geopandas
    except ImportError as exc:
        raise MissingDependencyError("geopandas", "geopandas", purpose) from exc
    return geopandas


def fences_to_geopandas(fences: FenceSet, *, datum: Datum | str = Datum.WGS84) -> Any:
    """The fences as a GeoDataFrame that :func:`~fencecheck.read_fences` reads back.

    Columns: ``id``, ``name``, ``kind``, ``start`` and ``end`` (tz-aware UTC;
    ``end`` NaT while open) for a fence with one window, ``windows`` (a list of
    ``[start, end]`` pairs of ISO 8601 UTC text, as in the GeoJSON file) for a
    fence with several, ``buffer_m``, the extra
    properties, and ``geometry``. The CRS is EPSG:4326 in WGS-84; in GCJ-02 or
    BD-09, which have no EPSG code, the CRS is left unset and ``datum`` must be
    given again when reading back.

    Examples
    --------
    >>> import fencecheck as fc
    >>> fences = fc.read_fences("data/samples/fences.geojson")
    >>> frame = fences_to_geopandas(fences)
    >>> frame.crs.to_epsg(), list(frame.columns[:5])
    (4326, ['id', 'name', 'kind', 'start', 'end'])
    >>> fc.read_fences(frame).ids.tolist() == fences.ids.tolist()
    True
    """
    geopandas = _geopandas("fences_to_geopandas")
    import pandas as pd
    import shapely

    datum_ = Datum.parse(datum)
    geometry = fences.geometry
    if datum_ is not Datum.WGS84 and len(fences):

        def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
            lon, lat = from_wgs84(coords[:, 0], coords[:, 1], datum_)
            return np.column_stack([lon, lat])

        geometry = shapely.transform(geometry, convert)
    n = len(fences)
    windows_per_fence = np.bincount(fences.window_fence, minlength=n)
    single = windows_per_fence == 1
    first = np.full(n, -1, dtype=np.int64)
    first[fences.window_fence[::-1]] = np.arange(len(fences.window_fence))[::-1]
    start = np.full(n, NO_TIME, dtype=np.int64)
    end = np.full(n, NO_TIME, dtype=np.int64)
    start[single] = fences.window_start[first[single]]
    end[single] = fences.window_end[first[single]]
    end[end == OPEN_END] = NO_TIME
    windows: list[Any] = [None] * n
    texts_start, texts_end = format_utc(fences.window_start), format_utc(fences.window_end)
    for i in np.flatnonzero(~single).tolist():
        sel = np.flatnonzero(fences.window_fence == i)
        # ISO text (UTC, ``Z``), as in the GeoJSON file: it survives GeoParquet and JSON alike.
        windows[i] = [
            [str(texts_start[k]), None if fences.window_end[k] == OPEN_END else str(texts_end[k])]
            for k in sel.tolist()
        ]
    columns: dict[str, Any] = {
        "id": fences.ids.astype(object),
        "name": fences.names,
        "kind": fences.kinds.astype(object),
        "start": _datetimes(pd, start),
        "end": _datetimes(pd, end),
        "windows": pd.Series(windows, dtype=object),
        "buffer_m": fences.buffer_m.astype(np.float64),
    }
    if fences.extra:
        names = sorted({k for extra in fences.extra for k in extra} - set(columns))
        for name in names:
            columns[name] = pd.Series([extra.get(name) for extra in fences.extra], dtype=object)
    crs = "EPSG:4326" if datum_ is Datum.WGS84 else None
    return geopandas.GeoDataFrame(columns, geometry=list(geometry), crs=crs)


def _datetimes(pd: Any, ms: NDArray[np.int64]) -> Any:
    stamps = ms.astype("datetime64[ms]")
    stamps[ms == NO_TIME] = np.datetime64("NaT")
    return pd.Series(pd.to_datetime(stamps, utc=True))


def hits_to_geopandas(hits: Hits, pings: PingTable) -> Any:
    """The hits as a GeoDataFrame of points (EPSG:4326) at their fixes.

    Parameters
    ----------
    hits : Hits
        Hits matched from ``pings``.
    pings : PingTable
        The pings they came from: each hit's ``ping`` row names its fix.

    Returns
    -------
    geopandas.GeoDataFrame
        :meth:`Hits.to_pandas`'s columns, the fix's ``accuracy_m`` and ``source``,
        and a point ``geometry`` in WGS-84 (the pings' own datum converted on
        reading).

    Raises
    ------
    OptionError
        When a hit's ping row is not in ``pings``.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> pings = fc.read_pings("data/samples/pings.csv")
    >>> points = hits_to_geopandas(index.match(pings), pings)
    >>> points.crs.to_epsg(), points.geometry.geom_type.unique().tolist()
    (4326, ['Point'])
    """
    geopandas = _geopandas("hits_to_geopandas")
    from fencecheck.episodes import ping_positions
    from fencecheck.errors import OptionError

    try:
        position = ping_positions(hits.ping, pings.row)
    except ValueError as exc:
        raise OptionError(f"hits_to_geopandas: {exc}") from None
    if not np.array_equal(pings.person[position], hits.person):
        raise OptionError("hits_to_geopandas: these hits do not come from these pings")
    frame = hits.to_pandas()
    frame["accuracy_m"] = pings.accuracy_m[position].astype(np.float64)
    frame["source"] = pings.source_names()[position]
    points = geopandas.points_from_xy(pings.lon[position], pings.lat[position])
    return geopandas.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def explanation_table(explanations: Sequence[Explanation]) -> Table:
    """One row per explanation, the decisive episode and the nearest miss flattened.

    Columns: ``person_id``, ``at``, ``lookback_s``, ``verdict``, ``reasons``
    (``;``-separated), ``advice``, the decisive episode's ``fence_id``, ``kind``,
    ``entry``, ``exit``, ``dwell_s``, ``dwell_s_max``, ``pings``,
    ``max_depth_m`` and ``p_inside`` (empty without one), ``episodes`` (how
    many), the nearest miss's ``near_fence_id``, ``near_m`` and ``near_gap_s``,
    and the text in Chinese (``text``) and English (``text_en``).
    """
    rows = list(explanations)
    n = len(rows)

    def column(values: list[Any], dtype: Any) -> NDArray[Any]:
        return np.array(values, dtype=dtype) if n else np.zeros(0, dtype=dtype)

    columns: dict[str, NDArray[Any]] = {
        "person_id": column([e.person_id for e in rows], object),
        "at": column([e.at for e in rows], np.int64),
        "lookback_s": column([e.lookback_s for e in rows], np.float64),
        "verdict": column([e.verdict for e in rows], object),
        "reasons": column([";".join(e.reasons) for e in rows], object),
        "advice": column([e.advice_key for e in rows], object),
        "fence_id": column([_field(e.decisive, "fence_id", "") for e in rows], object),
        "kind": column([_field(e.decisive, "kind", "") for e in rows], object),
    }
    for name, dtype in _DECISIVE_FIELDS.items():
        values = [_typed(_field(e.decisive, name), dtype) for e in rows]
        if name in EPISODE_TIMES:
            values = [
                NO_TIME if e.decisive is None else v for e, v in zip(rows, values, strict=True)
            ]
        columns[name] = column(values, dtype)
    nearest = [e.near_misses[0] if e.near_misses else None for e in rows]
    columns["episodes"] = column([len(e.episodes) for e in rows], np.int64)
    columns["near_fence_id"] = column([_field(m, "fence_id", "") for m in nearest], object)
    columns["near_m"] = column([_typed(_field(m, "distance_m"), np.float64) for m in nearest],
                               np.float64)  # fmt: skip
    columns["near_gap_s"] = column(
        [_typed(_field(m, "time_gap_s"), np.float64) for m in nearest], np.float64
    )
    columns["text"] = column([e.to_text("zh") for e in rows], object)
    columns["text_en"] = column([e.to_text("en") for e in rows], object)
    return Table(columns, times=EXPLANATION_TIMES)


def episode_table(explanations: Sequence[Explanation]) -> Table:
    """One row per episode of every explanation, with ``person_id`` and ``decisive``.

    Columns: ``person_id``, ``decisive`` (whether it is the person's decisive
    episode), then the episode's JSON fields (``fence_id``, ``kind``, ``entry``,
    ``exit``, ``dwell_s``, ``dwell_s_max``, ``pings``, ``max_depth_m``,
    ``p_inside``, ``p_typical``, ``speed_mps``, ``stopped``, ``credible_pings``,
    ``jump_pings``).
    """
    person: list[str] = []
    decisive: list[bool] = []
    values: dict[str, list[Any]] = {name: [] for name in _EPISODE_FIELDS}
    for e in explanations:
        for episode in e.episodes:
            person.append(e.person_id)
            decisive.append(episode == e.decisive)
            for name, dtype in _EPISODE_FIELDS.items():
                values[name].append(_typed(episode.get(name), dtype))
    columns: dict[str, NDArray[Any]] = {
        "person_id": np.array(person, dtype=object),
        "decisive": np.array(decisive, dtype=bool),
    }
    for name, dtype in _EPISODE_FIELDS.items():
        columns[name] = np.array(values[name], dtype=dtype)
    return Table(columns, times=EPISODE_TIMES)


def _field(record: dict[str, Any] | None, name: str, missing: Any = None) -> Any:
    return missing if record is None else record.get(name, missing)


def _typed(value: Any, dtype: Any) -> Any:
    """A JSON value as its column's type.

    ISO times become milliseconds, missing counts 0, missing numbers NaN and
    missing text ``""`` (callers set a missing time to NO_TIME).
    """
    if dtype is np.int64:
        if isinstance(value, str):
            return parse_time(value)
        return 0 if value is None else int(value)
    if dtype is np.float64:
        return np.nan if value is None else float(value)
    if dtype is np.bool_:
        return bool(value)
    return "" if value is None else str(value)
