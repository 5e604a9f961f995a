"""Fences: closed areas with active time windows, stored as columns.

A :class:`FenceSet` holds every fence of a file as parallel arrays: ids, names,
kinds, margins (``buffer_m``), geometries in WGS-84 (a shapely geometry array),
and a flat window table (``window_fence``, ``window_start``, ``window_end``,
int64 UTC milliseconds, ``[start, end)``, :data:`~fencecheck.times.OPEN_END` for
a window that is still open). Windows of one fence are sorted and merged where
they overlap or touch.

Fences are built by :func:`fencecheck.read_fences` (GeoJSON, GeoDataFrame) or by
:meth:`FenceSet.from_records` from Python values; both run the same checks.

Examples
--------
>>> import shapely
>>> fences = FenceSet.from_records([
...     {"id": "F1", "kind": "sealed", "start": "2022-05-01", "end": "2022-05-08",
...      "geometry": shapely.box(116.40, 39.90, 116.41, 39.91)},
... ])
>>> len(fences), fences.ids.tolist(), fences.kinds.tolist()
(1, ['F1'], ['sealed'])
>>> from fencecheck.times import parse_times, format_utc
>>> format_utc(fences.window_start).tolist()
['2022-04-30T16:00:00Z']
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck.datums import Datum, from_wgs84, to_wgs84
from fencecheck.errors import FenceCheckWarning, FenceDataError, OptionError
from fencecheck.frame import MetricFrame
from fencecheck.geojson import (
    Refusal,
    check_coordinates,
    geometry_from_geojson,
    polygonal_part,
    shorten,
    validity_reason,
)
from fencecheck.optional import require
from fencecheck.options import InvalidPolicy, OnError
from fencecheck.rejected import Rejected
from fencecheck.tables import NO_TIME, utc_datetimes
from fencecheck.times import OPEN_END, format_utc, parse_time, parse_times, resolve_zone, zone_name
from fencecheck.values import is_missing, object_array

__all__ = [
    "KIND_ALIASES",
    "KNOWN_KINDS",
    "FenceSet",
    "build_fences",
]

KNOWN_KINDS = ("sealed", "controlled", "precaution", "risk_area", "risk_venue")
"""Kinds fencecheck knows by name. Any other kind is refused unless ``kind_map`` maps it."""

DEFAULT_KIND = "unspecified"
"""The kind of a fence that names none (also accepted when written out)."""

KIND_ALIASES: Mapping[str, str] = {
    "封控区": "sealed",
    "管控区": "controlled",
    "防范区": "precaution",
    "风险区域": "risk_area",
    "风险区": "risk_area",
    "高风险区": "risk_area",
    "风险点位": "risk_venue",
    "风险场所": "risk_venue",
}
"""The Chinese names of the known kinds. ``高风险区`` (a high-risk area) is read as
``risk_area``, the generic area kind: it keeps the home-observation advice without
claiming the measures of a sealed area. ``中风险区`` and ``低风险区`` are not mapped
(their advice differs by city and period): map them with ``kind_map``."""
NOT_A_FEATURE = "__not_a_feature__"  # a reader's marker for an entry that is no feature at all
_RESERVED = frozenset({"id", "name", "kind", "start", "end", "windows", "buffer_m"})
_POLYGONAL = ("Polygon", "MultiPolygon")
_PUNCTUAL = ("Point", "MultiPoint")


@dataclass(frozen=True)
class FenceSet:
    """Fences as columns. Build with :func:`fencecheck.read_fences` or :meth:`from_records`.

    Attributes
    ----------
    ids, names, kinds : ndarray of object
        One str per fence (``names`` may hold ``None``).
    buffer_m : ndarray of float64
        The margin around each fence in metres (0 for none).
    geometry : ndarray of shapely geometries
        Polygon / MultiPolygon (holes allowed), or Point / MultiPoint for a venue
        with a positive margin; WGS-84 lon/lat.
    window_fence : ndarray of int64
        For each window, the position of its fence.
    window_start, window_end : ndarray of int64
        UTC milliseconds, ``[start, end)``; ``OPEN_END`` for an open end.
    feature : ndarray of int64
        Each fence's position among the features of its source.
    extra : tuple of dict
        Each fence's other properties, kept for writing back.
    repaired : dict
        Fence id -> what was wrong, for fences changed by ``invalid="repair"``.
    rejected : Rejected
        Features set aside under ``on_error="reject"`` (``row`` is the feature's
        position in the source), so that features read = fences + rejected.
    source, datum, tz : str
        Where the fences came from, the datum they were read in (they are stored
        in WGS-84 whatever it was) and the zone naive window times were read in.
    """

    ids: NDArray[np.object_]
    names: NDArray[np.object_]
    kinds: NDArray[np.object_]
    buffer_m: NDArray[np.float64]
    geometry: NDArray[np.object_]
    window_fence: NDArray[np.int64]
    window_start: NDArray[np.int64]
    window_end: NDArray[np.int64]
    feature: NDArray[np.int64]
    extra: tuple[dict[str, Any], ...] = ()
    repaired: Mapping[str, str] = field(default_factory=dict)
    rejected: Rejected = field(default_factory=Rejected.empty)
    source: str = "<records>"
    datum: str = Datum.WGS84.value
    tz: str = "Asia/Shanghai"

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        datum: Datum | str = Datum.WGS84,
        tz: str | _dt.tzinfo | None = None,
        invalid: InvalidPolicy | str = InvalidPolicy.RAISE,
        on_error: OnError | str = OnError.RAISE,
        source: str = "<records>",
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
        """Build from mappings with the GeoJSON property names plus ``geometry``.

        ``geometry`` is a shapely geometry or a GeoJSON geometry mapping. Under
        ``on_error="reject"`` the features set aside are in the result's ``rejected``.
        ``kind_map``, the ``*_field`` names, ``kind`` and ``window`` are as in
        :func:`build_fences`.

        Raises
        ------
        FenceDataError
            For the first bad fence, naming it, the field and the reason.
        OptionError
            For a ``kind_map`` target, ``kind`` or ``window`` that cannot be used.

        Examples
        --------
        >>> import shapely
        >>> square = shapely.box(116.4, 39.9, 116.5, 40.0)
        >>> FenceSet.from_records(
        ...     [{"code": 7, "kind": "小区封控", "geometry": square}],
        ...     id_field="code", kind_map={"小区封控": "sealed"}, window=("2022-05-01", None),
        ... ).kinds.tolist()
        ['sealed']
        """
        return build_fences(
            records,
            datum=datum,
            tz=tz,
            invalid=invalid,
            on_error=on_error,
            source=source,
            kind_map=kind_map,
            id_field=id_field,
            name_field=name_field,
            kind_field=kind_field,
            start_field=start_field,
            end_field=end_field,
            buffer_field=buffer_field,
            kind=kind,
            window=window,
        )

    # -- reading ------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __repr__(self) -> str:
        kinds, counts = np.unique(self.kinds.astype(str), return_counts=True)
        by_kind = ", ".join(f"{k} {c}" for k, c in zip(kinds, counts, strict=True))
        return f"<FenceSet: {len(self)} fences ({by_kind}), {len(self.window_start)} windows>"

    def position(self, fence_id: str) -> int:
        """The position of the fence with this id.

        Raises
        ------
        KeyError
            When no fence has that id.
        """
        hits = np.flatnonzero(self.ids == fence_id)
        if hits.shape[0] == 0:
            raise KeyError(fence_id)
        return int(hits[0])

    def windows_of(self, fence_id: str) -> list[tuple[int, int]]:
        """The merged ``[start, end)`` windows of one fence, in UTC milliseconds."""
        pos = self.position(fence_id)
        sel = self.window_fence == pos
        return list(
            zip(self.window_start[sel].tolist(), self.window_end[sel].tolist(), strict=True)
        )

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` over all fences (without margins)."""
        if len(self) == 0:
            return (math.nan, math.nan, math.nan, math.nan)
        b = shapely.bounds(self.geometry)
        return (
            float(b[:, 0].min()),
            float(b[:, 1].min()),
            float(b[:, 2].max()),
            float(b[:, 3].max()),
        )

    def frame(self) -> MetricFrame:
        """The metric frame centred on these fences (see :class:`~fencecheck.MetricFrame`)."""
        min_lon, min_lat, max_lon, max_lat = self.bounds
        return MetricFrame.around([min_lon, max_lon], [min_lat, max_lat])

    def take(self, positions: Sequence[int] | NDArray[np.integer[Any]]) -> FenceSet:
        """A new set with the fences at these positions, in this order."""
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        remap = np.full(len(self), -1, dtype=np.int64)
        remap[pos] = np.arange(pos.shape[0])
        keep = remap[self.window_fence] >= 0
        new_fence = remap[self.window_fence[keep]]
        order = np.lexsort((self.window_start[keep], new_fence))
        kept_ids = set(self.ids[pos].tolist())
        return FenceSet(
            ids=self.ids[pos],
            names=self.names[pos],
            kinds=self.kinds[pos],
            buffer_m=self.buffer_m[pos],
            geometry=self.geometry[pos],
            window_fence=new_fence[order],
            window_start=self.window_start[keep][order],
            window_end=self.window_end[keep][order],
            feature=self.feature[pos],
            extra=tuple(self.extra[i] for i in pos.tolist()) if self.extra else (),
            repaired={k: v for k, v in self.repaired.items() if k in kept_ids},
            rejected=self.rejected,
            source=self.source,
            datum=self.datum,
            tz=self.tz,
        )

    @classmethod
    def concat(cls, parts: Sequence[FenceSet], *, unique_ids: bool = True) -> FenceSet:
        """Join fence sets.

        The first part's ``source``, ``datum`` and ``tz`` describe the result.

        Raises
        ------
        FenceDataError
            When ``unique_ids`` and an id appears twice, naming the id and the
            ``source`` of both parts that hold it.
        """
        if not parts:
            raise ValueError("concat needs at least one FenceSet")
        ids = np.concatenate([p.ids for p in parts])
        uniq, counts = np.unique(ids.astype(str), return_counts=True)
        if unique_ids and (counts > 1).any():
            dup = str(uniq[counts > 1][0])
            holders = [p.source for p in parts for _ in range(int((p.ids == dup).sum()))]
            where = f"in {holders[0]} and in {holders[1]}"
            if holders[0] == holders[1]:
                where = f"twice in {holders[0]}"
            raise FenceDataError(
                f"duplicate id {dup!r} in the fences joined ({where})",
                source=holders[1],
                feature=dup,
                field="id",
            )
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
        repaired: dict[str, str] = {}
        for p in parts:
            repaired.update(p.repaired)
        first = parts[0]
        return FenceSet(
            ids=ids,
            names=np.concatenate([p.names for p in parts]),
            kinds=np.concatenate([p.kinds for p in parts]),
            buffer_m=np.concatenate([p.buffer_m for p in parts]),
            geometry=np.concatenate([p.geometry for p in parts]),
            window_fence=np.concatenate(
                [p.window_fence + off for p, off in zip(parts, offsets, strict=True)]
            ),
            window_start=np.concatenate([p.window_start for p in parts]),
            window_end=np.concatenate([p.window_end for p in parts]),
            feature=np.concatenate([p.feature for p in parts]),
            extra=tuple(e for p in parts for e in (p.extra or ({},) * len(p))),
            repaired=repaired,
            rejected=Rejected.concat([p.rejected for p in parts]),
            source=first.source,
            datum=first.datum,
            tz=first.tz,
        )

    def to_geopandas(self, *, datum: Datum | str = Datum.WGS84) -> Any:
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
        >>> frame = fences.to_geopandas()
        >>> frame.crs.to_epsg(), list(frame.columns[:5])
        (4326, ['id', 'name', 'kind', 'start', 'end'])
        >>> fc.read_fences(frame).ids.tolist() == fences.ids.tolist()
        True
        """
        geopandas = require("geopandas", "geopandas", "FenceSet.to_geopandas")
        pd = require("pandas", "geopandas", "FenceSet.to_geopandas")

        datum_ = Datum.parse(datum)
        geometry = self.geometry
        if datum_ is not Datum.WGS84 and len(self):

            def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
                lon, lat = from_wgs84(coords[:, 0], coords[:, 1], datum_)
                return np.column_stack([lon, lat])

            geometry = shapely.transform(geometry, convert)
        n = len(self)
        windows_per_fence = np.bincount(self.window_fence, minlength=n)
        single = windows_per_fence == 1
        first = np.full(n, -1, dtype=np.int64)
        first[self.window_fence[::-1]] = np.arange(len(self.window_fence))[::-1]
        start = np.full(n, NO_TIME, dtype=np.int64)
        end = np.full(n, NO_TIME, dtype=np.int64)
        start[single] = self.window_start[first[single]]
        end[single] = self.window_end[first[single]]
        end[end == OPEN_END] = NO_TIME
        windows: list[Any] = [None] * n
        texts_start, texts_end = format_utc(self.window_start), format_utc(self.window_end)
        for i in np.flatnonzero(~single).tolist():
            sel = np.flatnonzero(self.window_fence == i)
            # ISO text (UTC, ``Z``), as in the GeoJSON file: it survives GeoParquet and JSON alike.
            windows[i] = [
                [str(texts_start[k]), None if self.window_end[k] == OPEN_END else str(texts_end[k])]
                for k in sel.tolist()
            ]
        columns: dict[str, Any] = {
            "id": self.ids.astype(object),
            "name": self.names,
            "kind": self.kinds.astype(object),
            "start": utc_datetimes(start),
            "end": utc_datetimes(end),
            "windows": pd.Series(windows, dtype=object),
            "buffer_m": self.buffer_m.astype(np.float64),
        }
        if self.extra:
            names = sorted({k for extra in self.extra for k in extra} - set(columns))
            for name in names:
                columns[name] = pd.Series([extra.get(name) for extra in self.extra], dtype=object)
        crs = "EPSG:4326" if datum_ is Datum.WGS84 else None
        return geopandas.GeoDataFrame(columns, geometry=list(geometry), crs=crs)

    def records(self) -> list[dict[str, Any]]:
        """One dict per fence: id, name, kind, windows, buffer_m, geometry, extra properties."""
        out = []
        for i in range(len(self)):
            sel = self.window_fence == i
            record: dict[str, Any] = dict(self.extra[i]) if self.extra else {}
            record.update(
                id=str(self.ids[i]),
                name=self.names[i],
                kind=str(self.kinds[i]),
                windows=list(
                    zip(self.window_start[sel].tolist(), self.window_end[sel].tolist(), strict=True)
                ),
                buffer_m=float(self.buffer_m[i]),
                geometry=self.geometry[i],
            )
            out.append(record)
        return out


# -- building and checking ---------------------------------------------------------------


@dataclass
class _Checked:
    feature: int
    id: str
    name: str | None
    kind: str
    buffer_m: float
    windows: list[tuple[int, int]]
    geometry: Any
    extra: dict[str, Any]


def build_fences(
    records: Iterable[Mapping[str, Any]],
    *,
    datum: Datum | str = Datum.WGS84,
    tz: str | _dt.tzinfo | None = None,
    invalid: InvalidPolicy | str = InvalidPolicy.RAISE,
    on_error: OnError | str = OnError.RAISE,
    source: str = "<records>",
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
    """Check fence records and build a :class:`FenceSet` (rejected features attached).

    This is the one place where fences are checked; every reader ends here.
    Each record is a mapping of GeoJSON property names (``id``, ``name``,
    ``kind``, ``start``/``end`` or ``windows``, ``buffer_m``, others kept) plus
    ``geometry`` (shapely or a GeoJSON geometry mapping). Geometry is converted
    from ``datum`` to WGS-84.

    A kind is matched without regard to case, surrounding spaces or ``-``/space
    for ``_`` (``" SEALED "``, ``"Risk Area"``), or by its Chinese name
    (:data:`KIND_ALIASES`: ``封控区`` is ``sealed``); a record without a kind is
    ``"unspecified"``; any other kind is refused, naming the known kinds.

    Parameters
    ----------
    records : iterable of mapping
        The fences, one mapping each.
    datum, tz, invalid, on_error, source
        As in :func:`fencecheck.read_fences`.
    kind_map : mapping of str to str, optional
        Your names for kinds -> a known kind (or a Chinese name of one, or
        ``"unspecified"``), e.g. ``{"小区封控": "sealed"}``; matched like the known
        kinds (case and spaces aside) and before them.
    id_field, name_field, kind_field, start_field, end_field, buffer_field : str
        The property that holds the id, name, kind, window start, window end and
        margin (default the contract's names). The named property is read as that
        field, and a property under the contract's own name is then ignored; a
        refusal names your property. An id holding a whole number (DataV's
        ``adcode`` ``110101``) becomes the text ``"110101"``.
    kind : str, optional
        The kind of every record that names none (the record's own kind wins).
    window : (start, end), optional
        The window of every record that has none (no start, end or windows; the
        record's own window wins). ``end`` None means still active.

    Raises
    ------
    FenceDataError
        Under ``on_error="raise"``, for the first fence that cannot be used.
    OptionError
        For a ``kind_map`` target, ``kind`` or ``window`` that cannot be used.

    Examples
    --------
    >>> import shapely
    >>> square = shapely.box(116.40, 39.90, 116.41, 39.91)
    >>> fences = build_fences(
    ...     [{"adcode": 110101, "类型": "封控区", "geometry": square},
    ...      {"adcode": 110102, "geometry": square}],
    ...     id_field="adcode", kind_field="类型", kind="precaution",
    ...     window=("2022-05-01", None),
    ... )
    >>> fences.ids.tolist(), fences.kinds.tolist()
    (['110101', '110102'], ['sealed', 'precaution'])
    >>> try:
    ...     build_fences([{"id": "F1", "kind": "hotel", "start": "2022-05-01", "geometry": square}])
    ... except FenceDataError as exc:
    ...     print(str(exc).split(": known")[0])
    <records>: feature F1: kind: unknown kind 'hotel'
    """
    datum_ = Datum.parse(datum)
    zone = resolve_zone(tz)
    invalid_ = InvalidPolicy.parse(invalid)
    on_error_ = OnError.parse(on_error)
    resolve = _kind_resolver(kind_map)
    renames = {
        own: standard
        for own, standard in (
            (id_field, "id"),
            (name_field, "name"),
            (kind_field, "kind"),
            (start_field, "start"),
            (end_field, "end"),
            (buffer_field, "buffer_m"),
        )
        if own != standard
    }
    told = {standard: own for own, standard in renames.items()}
    default_kind = None if kind is None else _default_kind(kind, resolve)
    default_window = None if window is None else _default_window(window, zone)

    checked: list[_Checked] = []
    refused: list[tuple[int, str, str, str, str]] = []

    def refuse(index: int, fid: str, problem: Refusal) -> None:
        field_name = told.get(problem.field, problem.field)
        if on_error_ is OnError.RAISE:
            raise FenceDataError(
                problem.reason,
                source=source,
                feature=fid or f"#{index}",
                field=field_name,
            )
        refused.append((index, fid, field_name, problem.reason, shorten(problem.value)))

    records = list(records)
    if renames or default_kind is not None or default_window is not None:
        records = [_prepared(r, renames, default_kind, default_window) for r in records]
    known = _parse_time_texts(records, zone)
    for index, record in enumerate(records):
        fid = _raw_id(record)
        try:
            checked.append(_check_record(index, record, zone, known, resolve))
        except Refusal as problem:
            refuse(index, fid, problem)

    # Validity is judged in the file's own coordinates, then geometry moves to WGS-84
    # in one pass and is judged again, in case the conversion itself made a polygon
    # invalid. GEOS's reason names the fault's place by GeoJSON position, never by its
    # coordinates (geojson.validity_reason; docs/privacy.md).
    repaired: dict[str, str] = {}
    usable = _valid_only(checked, invalid_, repaired, refuse, "")
    if datum_ is not Datum.WGS84 and usable:
        converted = _to_wgs84([item.geometry for item in usable], datum_)
        for item, geom in zip(usable, converted, strict=True):
            item.geometry = geom
        usable = _valid_only(
            usable, invalid_, repaired, refuse, f" after conversion from {datum_.value} to wgs84"
        )

    # Ids must be unique: a duplicate refers back to the first holder.
    first_seen: dict[str, int] = {}
    unique: list[_Checked] = []
    for item in usable:
        if item.id in first_seen:
            refuse(
                item.feature,
                item.id,
                Refusal(
                    "id",
                    f"duplicate id {item.id!r} (first used by feature #{first_seen[item.id]})",
                    item.id,
                ),
            )
            continue
        first_seen[item.id] = item.feature
        unique.append(item)

    never = [item.id for item in unique if not item.windows]
    if never:
        warnings.warn(
            f"{source}: {len(never)} fence(s) have only empty windows and are never active: "
            + ", ".join(never[:5])
            + (" …" if len(never) > 5 else ""),
            FenceCheckWarning,
            stacklevel=2,
        )
    repaired = {k: v for k, v in repaired.items() if k in first_seen}
    return _assemble(unique, repaired, Rejected.from_records(refused), source, datum_, zone)


def _assemble(
    items: list[_Checked],
    repaired: dict[str, str],
    rejected: Rejected,
    source: str,
    datum: Datum,
    zone: _dt.tzinfo,
) -> FenceSet:
    n = len(items)
    window_fence = [i for i, item in enumerate(items) for _ in item.windows]
    starts = [w[0] for item in items for w in item.windows]
    ends = [w[1] for item in items for w in item.windows]
    geometry = np.empty(n, dtype=object)
    geometry[:] = [item.geometry for item in items]
    return FenceSet(
        ids=object_array([item.id for item in items]),
        names=object_array([item.name for item in items]),
        kinds=object_array([item.kind for item in items]),
        buffer_m=np.asarray([item.buffer_m for item in items], dtype=np.float64).reshape(-1),
        geometry=geometry,
        window_fence=np.asarray(window_fence, dtype=np.int64).reshape(-1),
        window_start=np.asarray(starts, dtype=np.int64).reshape(-1),
        window_end=np.asarray(ends, dtype=np.int64).reshape(-1),
        feature=np.asarray([item.feature for item in items], dtype=np.int64).reshape(-1),
        extra=tuple(item.extra for item in items),
        repaired=repaired,
        rejected=rejected,
        source=source,
        datum=datum.value,
        tz=zone_name(zone),
    )


def _normal_kind(text: str) -> str:
    return "_".join(text.replace("-", " ").split()).casefold()


def _kind_resolver(kind_map: Mapping[str, str] | None = None) -> Callable[[str], str | None]:
    """A function from a kind as written to a known kind (None when it is not known).

    ``kind_map`` maps your names to a known kind, a Chinese name of one
    (:data:`KIND_ALIASES`) or ``"unspecified"``; it is consulted first.

    Raises
    ------
    OptionError
        When a ``kind_map`` target is not a known kind.

    Examples
    --------
    >>> resolve = _kind_resolver({"Lockdown": "封控区"})
    >>> resolve(" SEALED "), resolve("管控区"), resolve("lockdown"), resolve("hotel")
    ('sealed', 'controlled', 'sealed', None)
    """
    builtin: dict[str, str] = {k: k for k in (*KNOWN_KINDS, DEFAULT_KIND)}
    builtin.update(KIND_ALIASES)
    builtin = {_normal_kind(k): v for k, v in builtin.items()}
    mine: dict[str, str] = {}
    for own, target in (kind_map or {}).items():
        if not isinstance(own, str) or not isinstance(target, str):
            raise OptionError(f"kind_map: {own!r} -> {target!r}: both must be text")
        known = builtin.get(_normal_kind(target))
        if known is None:
            raise OptionError(
                f"kind_map: {own!r} -> {target!r}: {target!r} is not a known kind "
                f"({_known_kinds_text()})"
            )
        mine[_normal_kind(own)] = known

    def resolve(text: str) -> str | None:
        key = _normal_kind(text)
        return mine.get(key, builtin.get(key))

    return resolve


def _known_kinds_text() -> str:
    chinese = "、".join(KIND_ALIASES)
    return f"known kinds: {', '.join(KNOWN_KINDS)}, or their Chinese names {chinese}"


def _default_kind(kind: str, resolve: Callable[[str], str | None]) -> str:
    known = resolve(kind) if isinstance(kind, str) else None
    if known is None:
        raise OptionError(f"kind {kind!r} is not a known kind ({_known_kinds_text()})")
    return known


def _default_window(window: Any, zone: _dt.tzinfo) -> tuple[Any, Any]:
    if not isinstance(window, (tuple, list)) or len(window) != 2:
        raise OptionError(f"window must be a (start, end) pair, got {window!r}")
    start, end = window
    if is_missing(start):
        raise OptionError("window needs a start (end None means still active)")
    try:
        first = parse_time(start, tz=zone)
        last = OPEN_END if is_missing(end) else parse_time(end, tz=zone)
    except ValueError as exc:
        raise OptionError(f"window: unreadable time: {exc}") from None
    if last < first:
        raise OptionError(f"window: end {end!s} is before start {start!s}")
    return (start, None if is_missing(end) else end)


def _prepared(
    record: Any,
    renames: Mapping[str, str],
    kind: str | None,
    window: tuple[Any, Any] | None,
) -> Any:
    """A record with its properties under the contract's names, defaults filled in."""
    if not isinstance(record, Mapping) or NOT_A_FEATURE in record:
        return record
    out = dict(record)
    for standard in renames.values():
        out.pop(standard, None)
    for own, standard in renames.items():
        if own in record:
            out[standard] = record[own]
            out.pop(own, None)
    if kind is not None and (is_missing(out.get("kind")) or out.get("kind") == ""):
        out["kind"] = kind
    if window is not None and all(is_missing(out.get(k)) for k in ("start", "end", "windows")):
        out["start"], out["end"] = window
    return out


def _id_text(value: object) -> str | None:
    """An id as text: text or a whole number (``110101`` or ``110101.0``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (str, int, np.integer)):
        return str(value).strip()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return None


def _raw_id(record: Any) -> str:
    if not isinstance(record, Mapping):
        return ""
    value = record.get("id")
    if is_missing(value):
        return ""
    return _id_text(value) or ""


def _parse_time_texts(records: list[Any], zone: _dt.tzinfo) -> dict[str, int]:
    """The window times written as text, read in one vectorized pass.

    Reading them one by one cost 0.6 ms each (9 s for 5,000 fences); a value
    that cannot be read is left out, to be refused with its reason by
    :func:`_time` in its own record.
    """
    texts: set[str] = set()
    for record in records:
        if not isinstance(record, Mapping):
            continue
        values = [record.get("start"), record.get("end")]
        windows = record.get("windows")
        if isinstance(windows, (list, tuple)):
            for pair in windows:
                if isinstance(pair, (list, tuple)):
                    values.extend(pair)
        texts.update(v for v in values if isinstance(v, str))
    if not texts:
        return {}
    ordered = sorted(texts)
    parsed = parse_times(np.array(ordered, dtype=object), tz=zone)
    return {
        text: int(ms)
        for text, ms, bad in zip(ordered, parsed.ms.tolist(), parsed.bad.tolist(), strict=True)
        if not bad
    }


def _check_record(
    index: int,
    record: Mapping[str, Any],
    zone: _dt.tzinfo,
    known: Mapping[str, int],
    resolve: Callable[[str], str | None],
) -> _Checked:
    if not isinstance(record, Mapping):
        raise Refusal("feature", f"expected a feature object, got {type(record).__name__}")
    if NOT_A_FEATURE in record:
        raise Refusal("feature", str(record[NOT_A_FEATURE]))
    fid = _check_id(record.get("id"))
    name = record.get("name")
    if is_missing(name):
        name = None
    elif not isinstance(name, str):
        name = str(name)
    raw_kind = record.get("kind")
    if is_missing(raw_kind) or raw_kind == "":
        kind = DEFAULT_KIND
    elif not isinstance(raw_kind, str):
        raise Refusal("kind", f"kind must be text, got {raw_kind!r}", raw_kind)
    else:
        resolved = resolve(raw_kind)
        if resolved is None:
            raise Refusal(
                "kind",
                f"unknown kind {shorten(raw_kind, 40)!r}: {_known_kinds_text()}; "
                "map other names with kind_map= (--kind-map FROM=TO)",
                raw_kind,
            )
        kind = resolved
    buffer_m = _check_buffer(record.get("buffer_m"))
    windows = _check_windows(record, zone, known)
    geometry = _check_geometry(record.get("geometry"), buffer_m)
    extra = {k: v for k, v in record.items() if k not in _RESERVED and k != "geometry"}
    return _Checked(index, fid, name, kind, buffer_m, windows, geometry, extra)


def _check_id(value: object) -> str:
    if is_missing(value):
        raise Refusal("id", "missing id (every fence needs a unique text id)")
    text = _id_text(value)
    if text is None:
        raise Refusal("id", f"id must be text or a whole number, got {type(value).__name__}", value)
    if not text:
        raise Refusal("id", "empty id (every fence needs a unique text id)", value)
    return text


def _check_buffer(value: object) -> float:
    # None or NaN (a GeoDataFrame column where some fences have no margin) means none.
    if is_missing(value):
        return 0.0
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise Refusal("buffer_m", f"buffer_m must be a number of metres, got {value!r}", value)
    margin = float(value)
    if not math.isfinite(margin) or margin < 0:
        raise Refusal("buffer_m", f"buffer_m must be a finite number >= 0, got {value!r}", value)
    return margin


def _check_windows(
    record: Mapping[str, Any], zone: _dt.tzinfo, known: Mapping[str, int]
) -> list[tuple[int, int]]:
    has_pair = not is_missing(record.get("start")) or not is_missing(record.get("end"))
    raw_windows = record.get("windows")
    has_list = not is_missing(raw_windows)
    if has_pair and has_list:
        raise Refusal("windows", "give either start/end or windows, not both")
    if has_list:
        if isinstance(raw_windows, np.ndarray):
            raw_windows = raw_windows.tolist()
        if not isinstance(raw_windows, (list, tuple)):
            raise Refusal("windows", "windows must be a list of [start, end] pairs", raw_windows)
        pairs = []
        for k, pair in enumerate(raw_windows):
            if isinstance(pair, np.ndarray):
                pair = pair.tolist()
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise Refusal(f"windows[{k}]", "each window must be a [start, end] pair", pair)
            pairs.append((f"windows[{k}]", pair[0], pair[1]))
    else:
        if is_missing(record.get("start")):
            raise Refusal("start", "missing start (give start/end or windows: [[start, end], ...])")
        pairs = [("start", record.get("start"), record.get("end"))]

    windows = []
    for where, start_raw, end_raw in pairs:
        start_field = where if where != "start" else "start"
        end_field = where if where != "start" else "end"
        if is_missing(start_raw):
            raise Refusal(start_field, "window has no start", start_raw)
        start = _time(start_raw, start_field, zone, known)
        end = OPEN_END if is_missing(end_raw) else _time(end_raw, end_field, zone, known)
        if end < start:
            raise Refusal(
                end_field,
                f"end {end_raw!s} is before start {start_raw!s}",
                end_raw,
            )
        if end > start:
            windows.append((start, end))
    return _merge_windows(windows)


def _time(value: object, field_name: str, zone: _dt.tzinfo, known: Mapping[str, int]) -> int:
    if isinstance(value, str) and value in known:
        return known[value]
    try:
        return parse_time(value, tz=zone)
    except ValueError as exc:
        raise Refusal(field_name, f"unreadable time: {exc}", value) from None


def _merge_windows(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sort windows and merge those that overlap or touch."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _check_geometry(value: object, buffer_m: float) -> Any:
    if is_missing(value):
        raise Refusal("geometry", "missing geometry")
    if isinstance(value, Mapping):
        geom = geometry_from_geojson(value)
    elif isinstance(value, shapely.Geometry):
        geom = value
        check_coordinates(geom)
    else:
        raise Refusal("geometry", f"expected a GeoJSON geometry, got {type(value).__name__}")
    kind = geom.geom_type
    if kind in _PUNCTUAL:
        if buffer_m <= 0:
            raise Refusal(
                "geometry",
                f"a {kind} fence needs buffer_m > 0 (a venue known by its address); got buffer_m 0",
                kind,
            )
    elif kind not in _POLYGONAL:
        raise Refusal(
            "geometry",
            f"geometry must be Polygon or MultiPolygon (or Point/MultiPoint with buffer_m > 0), "
            f"got {kind}",
            kind,
        )
    if geom.is_empty:
        raise Refusal("geometry", f"empty {kind}")
    return geom


def _to_wgs84(geoms: list[Any], datum: Datum) -> NDArray[np.object_]:
    """Convert geometries from ``datum`` to WGS-84, all coordinates in one call."""

    def convert(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], datum)
        return np.column_stack([lon, lat])

    array = np.empty(len(geoms), dtype=object)
    array[:] = geoms
    converted: NDArray[np.object_] = shapely.transform(array, convert)
    return converted


def _valid_only(
    items: list[_Checked],
    invalid: InvalidPolicy,
    repaired: dict[str, str],
    refuse: Callable[[int, str, Refusal], None],
    when: str,
) -> list[_Checked]:
    """Keep valid fences, repairing or refusing the invalid ones as the policy says."""
    if not items:
        return []
    geoms = np.empty(len(items), dtype=object)
    geoms[:] = [item.geometry for item in items]
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    invalid_mask = polygonal & ~shapely.is_valid(geoms)
    kept = []
    for item, bad in zip(items, invalid_mask.tolist(), strict=True):
        if not bad:
            kept.append(item)
            continue
        why = validity_reason(item.geometry) + when
        if invalid is InvalidPolicy.RAISE:
            refuse(
                item.feature,
                item.id,
                Refusal(
                    "geometry",
                    f"invalid polygon ({why}); fix it or repair it with "
                    "invalid='repair' (--invalid repair)",
                ),
            )
            continue
        fixed = polygonal_part(shapely.make_valid(item.geometry))
        if fixed is None:
            refuse(
                item.feature,
                item.id,
                Refusal("geometry", f"invalid polygon ({why}) with no area left after repair"),
            )
            continue
        item.geometry = fixed
        repaired[item.id] = why if item.id not in repaired else repaired[item.id] + "; " + why
        kept.append(item)
    return kept
