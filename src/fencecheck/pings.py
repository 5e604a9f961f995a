"""Pings: location records stored as numpy columns.

A :class:`PingTable` holds, for every usable input row: its 0-based ``row``
number in the input (docs/contract.md), the person as an int32 ``person`` code into
``persons`` (the ids as text, ``"001"`` stays ``"001"``), the instant ``t`` in
int64 UTC milliseconds, ``lon`` / ``lat`` in WGS-84 degrees, ``accuracy_m`` (the
68 % radius, metres, float32), the ``source`` as a small code (0 gps, 1 wifi,
2 cell; see :class:`~fencecheck.options.Source`) and ``accuracy_filled`` where the
accuracy was missing and the source's default was used. That is 42 bytes a
ping, so 10 M pings take about 420 MB.

Rows that cannot be used are refused (``on_error="raise"``) or set aside in
``rejected`` with their reasons (``on_error="reject"``); always
``rows_read == len(table) + len(table.rejected)``. A reason names the field at
fault, never the value of a coordinate or an accuracy (docs/privacy.md): the
raw text is only in the rejected table's ``value`` column.

Default accuracy when a row gives none (:data:`DEFAULT_ACCURACY_M`): gps 20 m,
wifi 60 m, cell 1,000 m — the middle of the ranges in docs/domain.md for GPS and
Wi-Fi, and a cautious value for a cell-tower fix. A file without a ``source``
column is taken as ``default_source`` (gps unless said otherwise).

Impossible fixes are refused like unreadable ones: a ``lon`` or ``lat`` of
exactly 0 (a logger's placeholder for "no fix": Null Island and the equator and
prime meridian are no place a Beijing check meets), a GCJ-02 or BD-09 fix outside
the box those datums are defined over (:func:`fencecheck.datums.in_china`), and an
``accuracy_m`` above :data:`MAX_ACCURACY_M` (50 km: no fence can be judged from it).

Examples
--------
>>> table = build_pings({"person_id": ["001", "001"], "t": ["2022-05-01 08:00", "bad"],
...                      "lon": [116.40, 116.41], "lat": [39.90, 39.91]},
...                     on_error="reject")
>>> len(table), table.rows_read, table.rejected.reason.tolist()
(1, 2, ["'bad' is not an ISO 8601 time or an epoch number"])
>>> table.person_ids().tolist(), float(table.accuracy_m[0])
(['001'], 20.0)
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fencecheck.datums import Datum, in_china, to_wgs84
from fencecheck.errors import MissingDependencyError, PingDataError
from fencecheck.options import EpochUnit, OnError, Source
from fencecheck.rejected import Rejected
from fencecheck.times import (
    ParsedTimes,
    format_utc,
    parse_times,
    plain_value,
    resolve_zone,
    zone_name,
)
from fencecheck.values import counted, missing_mask, missing_objects, object_array

__all__ = [
    "DEFAULT_ACCURACY_M",
    "MAX_ACCURACY_M",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ConvertedNumbers",
    "Labels",
    "PersonRegistry",
    "PingTable",
    "build_pings",
    "is_person_time_sorted",
    "person_time_order",
    "ping_positions",
]

REQUIRED_COLUMNS = ("person_id", "t", "lon", "lat")
PING_COLUMNS = ("row", "person", "t", "lon", "lat", "accuracy_m", "source", "accuracy_filled")
"""The numpy columns of a :class:`PingTable`."""
OPTIONAL_COLUMNS = ("accuracy_m", "source")
DEFAULT_ACCURACY_M = {Source.GPS: 20.0, Source.WIFI: 60.0, Source.CELL: 1000.0}
"""Accuracy (68 % radius, metres) assumed for a ping whose row gives none."""
MAX_ACCURACY_M = 50_000.0
"""The largest ``accuracy_m`` a row may give (metres); a larger one is refused.

A cell fix is good to a few kilometres; a 68 % radius beyond 50 km says the
logger had no fix (1e9 is a placeholder seen in exports), and would only make
every fence "uncertain". The judging thresholds (:class:`~fencecheck.policy.Policy`)
come later, so this bound is the reader's, fixed here.
"""

_SOURCE_NAMES = np.array([s.value for s in Source])
_DEFAULTS = np.array([DEFAULT_ACCURACY_M[s] for s in Source], dtype=np.float64)
"""The default accuracy of each source, indexed by its code."""
_SOURCE_VALUES = frozenset(s.value for s in Source)
_BISECT_LEAF = 32  # below this many values a failing block is read value by value


class PersonRegistry:
    """Person ids (text) to int32 codes, shared by every chunk of one input.

    Examples
    --------
    >>> reg = PersonRegistry()
    >>> reg.encode(np.array(["b", "a", "b"])).tolist(), reg.ids().tolist()
    ([0, 1, 0], ['b', 'a'])
    """

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._ids: list[str] = []

    def __len__(self) -> int:
        return len(self._ids)

    def encode(self, ids: NDArray[Any]) -> NDArray[np.int32]:
        """Codes for an array of id strings, adding the new ones in order of appearance."""
        if ids.shape[0] == 0:
            return np.zeros(0, dtype=np.int32)
        uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        codes = np.empty(uniq.shape[0], dtype=np.int32)
        for k in order.tolist():
            key = str(uniq[k])
            code = self._codes.get(key)
            if code is None:
                code = len(self._ids)
                self._codes[key] = code
                self._ids.append(key)
            codes[k] = code
        return codes[inverse.reshape(-1)]

    def encode_distinct(self, ids: NDArray[Any]) -> NDArray[np.int32]:
        """Codes for ids that are (mostly) distinct, one dictionary look-up each.

        Unlike :meth:`encode` this does not sort: it is meant for the distinct
        values of a column (:class:`Labels`), where the work is per value.
        """
        codes = np.empty(ids.shape[0], dtype=np.int32)
        table = self._codes
        for k, key in enumerate(ids.tolist()):
            code = table.get(key)
            if code is None:
                code = len(self._ids)
                table[key] = code
                self._ids.append(key)
            codes[k] = code
        return codes

    def code(self, person_id: str) -> int:
        """The code of one id; ``KeyError`` when it has none."""
        return self._codes[person_id]

    def ids(self) -> NDArray[np.object_]:
        """All ids so far, indexed by code."""
        out = np.empty(len(self._ids), dtype=object)
        out[:] = self._ids
        return out


@dataclass(frozen=True)
class Labels:
    """A text column held as codes into its distinct values, as Arrow and pandas do.

    Person ids and sources repeat a lot: checking and encoding the distinct
    values once, then mapping codes, replaces per-row string work. Readers that
    already have a dictionary (Arrow's ``dictionary_encode``, a pandas
    ``Categorical``) pass it on as it is; :meth:`of` builds one from any array.

    Attributes
    ----------
    codes : ndarray of intp
        Per row, the position of its value in ``values``; -1 where missing.
    values : ndarray of object
        The distinct values as text (unstripped).

    Examples
    --------
    >>> labels = Labels.of(np.array(["b", "a", None, "b"], dtype=object))
    >>> labels.codes.tolist(), labels.values.tolist()
    ([2, 1, -1, 2], ['', 'a', 'b'])
    """

    codes: NDArray[np.intp]
    values: NDArray[np.object_]

    @classmethod
    def of(cls, column: Any) -> Labels:
        """Labels of a column given as labels, a numpy array or anything array-like."""
        if isinstance(column, Labels):
            return column
        raw = _as_1d(column)
        text = _raw_text(raw)
        missing = missing_mask(raw)
        uniq, inverse = np.unique(text, return_inverse=True)
        codes = inverse.reshape(-1).astype(np.intp)
        codes[missing] = -1
        return cls(codes, object_array(uniq))

    def __len__(self) -> int:
        return int(self.codes.shape[0])

    def text(self, mask: NDArray[np.bool_] | None = None) -> NDArray[np.object_]:
        """Each row's value as text ('' where missing), for all rows or where ``mask``."""
        codes = self.codes if mask is None else self.codes[mask]
        values = np.append(self.values, "")  # code -1 picks the trailing ''
        return object_array(values[codes])


@dataclass(frozen=True)
class ConvertedNumbers:
    """Numbers a reader already converted from text, with that text made on demand.

    The text is only needed for the rejected table (the raw value of a bad row),
    so a reader that converts quickly (Arrow) need not keep it.

    Attributes
    ----------
    values : ndarray of float64
        The numbers; NaN where the text was empty.
    text : callable
        Returns the original text of every row.
    """

    values: NDArray[np.float64]
    text: Callable[[], NDArray[Any]]


class _Lazy:
    """An array computed the first time it is indexed."""

    def __init__(self, make: Callable[[], NDArray[Any]]) -> None:
        self._make = make
        self._values: NDArray[Any] | None = None

    def __getitem__(self, key: Any) -> Any:
        if self._values is None:
            self._values = np.asarray(self._make())
        return self._values[key]


@dataclass(frozen=True)
class PingTable:
    """Usable pings as numpy columns, in input order. Build with :func:`fencecheck.read_pings`.

    See the module docstring for the columns. ``persons`` is the shared
    :class:`PersonRegistry` (``person_ids()`` gives each ping's id as text).
    ``rows_read`` counts every data row of the input (or chunk) read, so
    ``rows_read == len(self) + len(self.rejected)``.
    """

    row: NDArray[np.int64]
    person: NDArray[np.int32]
    t: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    accuracy_m: NDArray[np.float32]
    source: NDArray[np.int8]
    accuracy_filled: NDArray[np.bool_]
    persons: PersonRegistry
    rejected: Rejected = field(default_factory=Rejected.empty)
    rows_read: int = 0
    origin: str = "<columns>"
    datum: str = Datum.WGS84.value
    tz: str = "Asia/Shanghai"

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def __repr__(self) -> str:
        return (
            f"<PingTable: {counted(len(self), 'ping', 'pings')} of "
            f"{counted(np.unique(self.person).shape[0], 'person', 'people')}, "
            f"{len(self.rejected)} rejected, from {self.origin}>"
        )

    @property
    def nbytes(self) -> int:
        """Memory held by the columns (not counting the id lookup)."""
        return sum(getattr(self, name).nbytes for name in PING_COLUMNS)

    def person_ids(self) -> NDArray[np.object_]:
        """Each ping's person id as text."""
        ids: NDArray[np.object_] = self.persons.ids()[self.person]
        return ids

    def source_names(self) -> NDArray[np.str_]:
        """Each ping's source as text (gps, wifi, cell)."""
        names: NDArray[np.str_] = _SOURCE_NAMES[self.source]
        return names

    def take(self, positions: ArrayLike | slice) -> PingTable:
        """The pings at these positions (a boolean mask, integer positions, or a slice).

        A slice gives views of the columns, not copies.
        """
        sel = positions if isinstance(positions, slice) else np.asarray(positions)
        return PingTable(
            row=self.row[sel],
            person=self.person[sel],
            t=self.t[sel],
            lon=self.lon[sel],
            lat=self.lat[sel],
            accuracy_m=self.accuracy_m[sel],
            source=self.source[sel],
            accuracy_filled=self.accuracy_filled[sel],
            persons=self.persons,
            rejected=self.rejected,
            rows_read=self.rows_read,
            origin=self.origin,
            datum=self.datum,
            tz=self.tz,
        )

    @classmethod
    def concat(cls, parts: Iterable[PingTable], size: int | None = None) -> PingTable:
        """Join chunks of one input (they must share one :class:`PersonRegistry`).

        Given an iterator (such as :func:`fencecheck.iter_pings`), each chunk is
        let go as soon as its columns are taken, and the columns are joined one at
        a time, so the peak is about the joined table plus one column.

        With ``size``, a bound on the pings of all the chunks (the rows of a Parquet
        file), the columns are made at that size first and each chunk is copied in
        as it comes and let go: the peak is the joined table plus one chunk. More
        pings than ``size`` is a ``ValueError``.

        Examples
        --------
        >>> part = build_pings({"person_id": ["a"], "t": [1651363200], "lon": [116.4],
        ...                     "lat": [39.9]})
        >>> len(PingTable.concat([part, part], size=3)), len(PingTable.concat([part, part]))
        (2, 2)
        """
        columns: dict[str, list[NDArray[Any]]] = {name: [] for name in PING_COLUMNS}
        buffers: dict[str, NDArray[Any]] = {}
        filled = 0
        rejected: list[Rejected] = []
        rows_read = 0
        first: tuple[PersonRegistry, str, str, str] | None = None  # what the chunks share
        for part in parts:
            if first is None:
                first = (part.persons, part.origin, part.datum, part.tz)
                if size is not None:
                    buffers = {
                        name: np.empty(size, dtype=getattr(part, name).dtype)
                        for name in PING_COLUMNS
                    }
            elif part.persons is not first[0]:
                raise ValueError("chunks to concat must share one PersonRegistry")
            if size is not None:
                if filled + len(part) > size:
                    raise ValueError(f"the chunks hold more than size={size} pings")
                for name in PING_COLUMNS:
                    buffers[name][filled : filled + len(part)] = getattr(part, name)
                filled += len(part)
            else:
                for name in PING_COLUMNS:
                    columns[name].append(getattr(part, name))
            if len(part.rejected):
                rejected.append(part.rejected)
            rows_read += part.rows_read
            del part
        if first is None:
            raise ValueError("concat needs at least one PingTable")
        joined = {}
        for name in PING_COLUMNS:
            if size is not None:
                joined[name] = buffers.pop(name)[:filled]
                continue
            pieces = columns.pop(name)
            joined[name] = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
            del pieces
        persons, origin, datum, tz = first
        return PingTable(
            **joined,
            persons=persons,
            rejected=Rejected.concat(rejected),
            rows_read=rows_read,
            origin=origin,
            datum=datum,
            tz=tz,
        )

    def to_pandas(self) -> Any:
        """The table as a :class:`pandas.DataFrame`, ``t`` as tz-aware UTC datetimes."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("pandas", "pandas", "PingTable.to_pandas") from exc
        return pd.DataFrame(
            {
                "row": self.row,
                "person_id": self.person_ids(),
                "t": pd.to_datetime(self.t, unit="ms", utc=True),
                "lon": self.lon,
                "lat": self.lat,
                "accuracy_m": self.accuracy_m,
                "source": self.source_names(),
                "accuracy_filled": self.accuracy_filled,
            }
        )

    def summary(self) -> str:
        """One line: pings, people, rejected, time span, zone and datum."""
        span = ""
        if len(self):
            span = f", {format_utc(int(self.t.min()))} .. {format_utc(int(self.t.max()))}"
        return (
            f"{counted(self.rows_read, 'row', 'rows')} read, {counted(len(self), 'ping', 'pings')} "
            f"of {counted(np.unique(self.person).shape[0], 'person', 'people')}, "
            f"{len(self.rejected)} rejected"
            f"{span}; naive times read in {self.tz}, datum {self.datum}"
        )


# -- building and checking ----------------------------------------------------------------


class _Problems:
    """Per-row problems of one chunk: the first reason found for a row wins."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        # The per-row text columns are made at the first problem: most chunks have none.
        self._n = n
        self._text: tuple[NDArray[np.object_], ...] | None = None

    def _columns(self) -> tuple[NDArray[np.object_], ...]:
        if self._text is None:
            self._text = tuple(np.full(self._n, None, dtype=object) for _ in range(3))
        return self._text

    @property
    def field(self) -> NDArray[np.object_]:
        return self._columns()[0]

    @property
    def reason(self) -> NDArray[np.object_]:
        return self._columns()[1]

    @property
    def value(self) -> NDArray[np.object_]:
        return self._columns()[2]

    def add(
        self,
        mask: NDArray[np.bool_],
        field_name: str,
        reasons: str | NDArray[np.object_],
        values: NDArray[Any] | None = None,
    ) -> None:
        if not mask.any():
            return
        new = mask & ~self.bad
        if not new.any():
            return
        self.bad |= new
        self.field[new] = field_name
        self.reason[new] = reasons if isinstance(reasons, str) else reasons[new]
        if values is not None:
            self.value[new] = object_array(_raw_text(values[new]))


def person_time_order(person: NDArray[Any], t: NDArray[Any]) -> NDArray[np.int64]:
    """The order that sorts rows by person, then time (stable).

    Inputs usually come sorted (a phone's log, a person at a time); that is
    checked in one pass and then costs no sort.

    Examples
    --------
    >>> person_time_order(np.array([1, 0, 1]), np.array([5, 9, 2])).tolist()
    [1, 2, 0]
    """
    if is_person_time_sorted(person, t):
        return np.arange(person.shape[0], dtype=np.int64)
    return np.asarray(np.lexsort((t, person)), dtype=np.int64)


def ping_positions(hit_rows: NDArray[np.int64], ping_rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """Positions in a ping table (its ``row`` column) of hits' ping rows.

    Raises
    ------
    ValueError
        When a row is not in the table (the hits come from other pings).

    Examples
    --------
    >>> ping_positions(np.array([7, 3]), np.array([3, 5, 7])).tolist()
    [2, 0]
    """
    increasing = ping_rows.shape[0] > 0 and bool(np.all(ping_rows[1:] > ping_rows[:-1]))
    if increasing and int(ping_rows[-1] - ping_rows[0]) == ping_rows.shape[0] - 1:
        # Rows without gaps (a whole file, or a slice of one): positions by subtraction.
        position = hit_rows - ping_rows[0]
        if hit_rows.shape[0] and (position.min() < 0 or position.max() >= ping_rows.shape[0]):
            raise ValueError(
                "these hits do not come from these pings (a hit's ping row is missing)"
            )
        return np.asarray(position, dtype=np.int64)
    sorter = None if increasing else np.argsort(ping_rows, kind="stable")
    at = np.searchsorted(ping_rows, hit_rows, sorter=sorter)
    at = np.minimum(at, max(ping_rows.shape[0] - 1, 0))
    position = at if sorter is None else sorter[at]
    if hit_rows.shape[0] and (
        ping_rows.shape[0] == 0 or not np.array_equal(ping_rows[position], hit_rows)
    ):
        raise ValueError("these hits do not come from these pings (a hit's ping row is missing)")
    return np.asarray(position, dtype=np.int64)


def is_person_time_sorted(person: NDArray[Any], t: NDArray[Any]) -> bool:
    """Whether rows are sorted by person, then time (one vectorized pass)."""
    if person.shape[0] < 2:
        return True
    same = person[1:] == person[:-1]
    return bool(np.all(person[1:] >= person[:-1]) and np.all(~same | (t[1:] >= t[:-1])))


def build_pings(
    columns: Mapping[str, Any],
    *,
    rows: ArrayLike | None = None,
    times: ParsedTimes | None = None,
    datum: Datum | str = Datum.WGS84,
    tz: str | _dt.tzinfo | None = None,
    epoch_unit: EpochUnit | str = EpochUnit.S,
    on_error: OnError | str = OnError.RAISE,
    default_source: Source | str = Source.GPS,
    registry: PersonRegistry | None = None,
    origin: str = "<columns>",
    extra_rejected: Rejected | None = None,
    time_format: str | None = None,
) -> PingTable:
    """Check raw ping columns and build a :class:`PingTable`.

    This is the one place where ping rows are checked; every reader ends here.

    Parameters
    ----------
    columns : mapping of str to array_like
        ``person_id``, ``t``, ``lon``, ``lat`` and optionally ``accuracy_m``,
        ``source``; values as text, numbers or (for ``t``) datetimes.
    rows : array_like of int, optional
        The input row number of each value (default 0, 1, …).
    times : ParsedTimes, optional
        ``t`` already parsed by the reader (used instead of ``columns["t"]``).
    datum : {"wgs84", "gcj02", "bd09"}
        The datum of lon/lat; they are stored in WGS-84.
    tz, epoch_unit
        How to read ``t`` (see :func:`fencecheck.times.parse_times`).
    on_error : {"raise", "reject"}
        Raise :class:`~fencecheck.errors.PingDataError` for the first bad row, or
        set bad rows aside in ``rejected``.
    default_source : {"gps", "wifi", "cell"}
        The source of rows that name none.
    registry : PersonRegistry, optional
        Shared across chunks so that person codes agree.
    origin : str
        The input's name for messages.
    extra_rejected : Rejected, optional
        Rows the reader already set aside (for example CSV rows with a wrong
        number of fields); they are counted in ``rows_read``.
    time_format : str, optional
        A strptime pattern text times are read with (see
        :func:`fencecheck.times.parse_times`).

    Raises
    ------
    PingDataError
        For a missing column, or under ``on_error="raise"`` for the first bad row.
    """
    datum_ = Datum.parse(datum)
    zone = resolve_zone(tz)
    on_error_ = OnError.parse(on_error)
    default_source_ = Source.parse(default_source)
    registry = registry if registry is not None else PersonRegistry()
    missing = [
        c for c in REQUIRED_COLUMNS if c not in columns and not (c == "t" and times is not None)
    ]
    if missing:
        raise PingDataError(
            f"missing required column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, columns)) or 'none'}",
            source=origin,
        )
    person = Labels.of(columns["person_id"])
    n = len(person)
    row = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    problems = _Problems(n)

    person_ids = _text(person.values)  # each distinct id, stripped
    blank_id = np.append(person_ids == "", True)  # code -1 (missing) is blank too
    no_id = blank_id[person.codes]
    if no_id.any():
        problems.add(no_id, "person_id", "missing person_id", person.text())

    parsed = (
        times
        if times is not None
        else parse_times(
            _as_1d(columns["t"]), tz=zone, epoch_unit=epoch_unit, time_format=time_format
        )
    )
    t_raw: Any = (
        _as_1d(columns["t"]) if "t" in columns else _Lazy(lambda: np.full(n, "", dtype=object))
    )
    problems.add(parsed.bad, "t", parsed.reasons, t_raw)

    lon, lon_bad, lon_raw = _coordinate(columns["lon"], "lon", problems)
    lat, lat_bad, lat_raw = _coordinate(columns["lat"], "lat", problems)
    lon_range, lat_range = _finite_range(lon), _finite_range(lat)
    if (
        lon_range is not None
        and lat_range is not None
        and lon_range[0] >= -180
        and lon_range[1] <= 180
        and lat_range[0] >= -90
        and lat_range[1] <= 90
    ):
        # Every value is finite and in range (the usual case), so no row is out of range
        # or swapped: what is left to check is zeros, where the range holds 0.
        for values, (low, high), name, raw in (
            (lon, lon_range, "lon", lon_raw),
            (lat, lat_range, "lat", lat_raw),
        ):
            if low <= 0 <= high:
                problems.add(values == 0, name, f"{name} {_PLACEHOLDER}", raw)
        usable = np.ones(n, dtype=bool) if datum_ is not Datum.WGS84 else None
    else:
        usable = _check_ranges(lon, lon_bad, lon_raw, lat, lat_bad, lat_raw, problems)
        if datum_ is Datum.WGS84:
            usable = None
    if usable is not None:
        abroad = usable & ~in_china(np.where(usable, lon, np.nan), np.where(usable, lat, np.nan))
        problems.add(
            abroad,
            "lon",
            f"lon/lat is outside China, where {datum_.value} is defined; "
            "is the ping datum right (--ping-datum wgs84)?",
            lon_raw,
        )

    if "source" in columns and columns["source"] is not None:
        labels = Labels.of(columns["source"])
        names = np.char.lower(_text(labels.values).astype(str))
        # per distinct value: its code, the default for a blank, -1 for an unknown name
        per_value = np.full(names.shape[0] + 1, default_source_.code, dtype=np.int8)
        for i, name in enumerate(names.tolist()):
            if name:
                per_value[i] = Source.parse(name).code if name in _SOURCE_VALUES else -1
        source = per_value[labels.codes]
        unknown = source < 0
        if unknown.any():
            valid = ", ".join(m.value for m in Source)
            shown = np.append(names, "")[labels.codes]
            problems.add(
                unknown,
                "source",
                _format_each("source {} is not one of " + valid, shown, unknown),
                labels.text(),
            )
    else:
        source = np.full(n, default_source_.code, dtype=np.int8)

    if "accuracy_m" in columns and columns["accuracy_m"] is not None:
        acc, acc_missing, acc_unreadable, acc_raw = _numbers(columns["accuracy_m"])
        acc_range = _finite_range(acc)
        if acc_range is not None and acc_range[0] >= 0 and acc_range[1] <= MAX_ACCURACY_M:
            # Every row gives a usable accuracy (the usual case): nothing to refuse or fill.
            filled = np.zeros(n, dtype=bool)
            accuracy = acc
        else:
            problems.add(acc_unreadable, "accuracy_m", "accuracy_m is not a number", acc_raw)
            wrong = ~acc_missing & ~acc_unreadable & ((acc < 0) | ~np.isfinite(acc))
            problems.add(
                wrong, "accuracy_m", "accuracy_m must be a finite number of metres >= 0", acc_raw
            )
            huge = ~acc_missing & ~acc_unreadable & ~wrong & (acc > MAX_ACCURACY_M)
            problems.add(
                huge,
                "accuracy_m",
                f"accuracy_m is too large (more than {MAX_ACCURACY_M:,.0f} metres: no usable fix)",
                acc_raw,
            )
            filled = acc_missing
            accuracy = np.where(filled, _DEFAULTS[source], acc)
    else:
        filled = np.ones(n, dtype=bool)
        accuracy = _DEFAULTS[source]

    bad = problems.bad
    if bad.any() and on_error_ is OnError.RAISE:
        k = int(np.flatnonzero(bad)[0])
        raise PingDataError(
            str(problems.reason[k]), source=origin, row=int(row[k]), field=str(problems.field[k])
        )
    any_bad = bool(bad.any())
    ok = ~bad
    rejected = (
        Rejected(
            row[bad],
            object_array(np.append(person_ids, "")[person.codes[bad]]),
            problems.field[bad],
            problems.reason[bad],
            np.array(["" if v is None else v for v in problems.value[bad]], dtype=object),
        )
        if any_bad
        else Rejected.empty()
    )
    if extra_rejected is not None and len(extra_rejected):
        rejected = Rejected.concat([rejected, extra_rejected])

    if not any_bad:
        ok = slice(None)  # type: ignore[assignment]
    lon_ok, lat_ok = lon[ok], lat[ok]
    if datum_ is not Datum.WGS84:
        lon_ok, lat_ok = to_wgs84(lon_ok, lat_ok, datum_)
    return PingTable(
        row=row[ok],
        person=_register(registry, person_ids, person.codes[ok]),
        t=parsed.ms[ok],
        lon=np.ascontiguousarray(lon_ok, dtype=np.float64),
        lat=np.ascontiguousarray(lat_ok, dtype=np.float64),
        accuracy_m=accuracy[ok].astype(np.float32),
        source=source[ok],
        accuracy_filled=filled[ok],
        persons=registry,
        rejected=rejected,
        rows_read=n + (len(extra_rejected) if extra_rejected is not None else 0),
        origin=origin,
        datum=datum_.value,
        tz=zone_name(zone),
    )


_PLACEHOLDER = "is exactly 0: a placeholder for a missing fix, not a place"


def _finite_range(values: NDArray[np.float64]) -> tuple[float, float] | None:
    """The smallest and the largest value, or None when one is NaN or infinite (or none).

    Examples
    --------
    >>> _finite_range(np.array([2.0, -1.0])), _finite_range(np.array([1.0, np.nan]))
    ((-1.0, 2.0), None)
    """
    if values.shape[0] == 0:
        return None
    low, high = float(values.min()), float(values.max())
    return (low, high) if math.isfinite(low) and math.isfinite(high) else None


def _check_ranges(
    lon: NDArray[np.float64],
    lon_bad: NDArray[np.bool_],
    lon_raw: Any,
    lat: NDArray[np.float64],
    lat_bad: NDArray[np.bool_],
    lat_raw: Any,
    problems: _Problems,
) -> NDArray[np.bool_]:
    """Note coordinates out of range, swapped or exactly 0; return the usable rows.

    Reasons name the field, never a coordinate's value (docs/privacy.md): the value
    is only in the rejected table's value column.
    """
    lat_out = ~lat_bad & (np.abs(lat) > 90)
    lon_out = ~lon_bad & (np.abs(lon) > 180)
    swapped = lat_out & ~lon_bad & (np.abs(lon) <= 90) & (np.abs(lat) <= 180)
    problems.add(swapped, "lat", "lat is outside [-90, 90]; lon and lat look swapped", lat_raw)
    problems.add(lat_out, "lat", "lat is outside [-90, 90]", lat_raw)
    problems.add(lon_out, "lon", "lon is outside [-180, 180]", lon_raw)
    problems.add(~lon_bad & (lon == 0), "lon", f"lon {_PLACEHOLDER}", lon_raw)
    problems.add(~lat_bad & (lat == 0), "lat", f"lat {_PLACEHOLDER}", lat_raw)
    usable: NDArray[np.bool_] = ~lon_bad & ~lat_bad & ~lon_out & ~lat_out
    return usable


def _register(
    registry: PersonRegistry, distinct_ids: NDArray[Any], codes: NDArray[np.intp]
) -> NDArray[np.int32]:
    """Registry codes for rows given as codes into ``distinct_ids``.

    Ids are registered in order of first appearance, so that a file read whole
    and the same file read chunk by chunk give every person the same code.
    """
    order = _first_appearance(codes, distinct_ids.shape[0])
    lookup = np.zeros(distinct_ids.shape[0], dtype=np.int32)
    lookup[order] = registry.encode_distinct(distinct_ids[order])
    return lookup[codes]


def _first_appearance(codes: NDArray[np.intp], size: int) -> NDArray[np.intp]:
    """The distinct codes (each in ``[0, size)``) in the order they first appear.

    One unbuffered pass (``np.minimum.at``) finds each code's first row; only the
    distinct codes are sorted, not the rows.

    Examples
    --------
    >>> _first_appearance(np.array([0, 1, 0, 2]), 3).tolist()
    [0, 1, 2]
    >>> _first_appearance(np.array([3, 1, 3, 0]), 5).tolist()
    [3, 1, 0]
    """
    n = codes.shape[0]
    first = np.full(size, n, dtype=np.intp)
    np.minimum.at(first, codes, np.arange(n, dtype=np.intp))
    present = np.flatnonzero(first < n)
    return np.asarray(present[np.argsort(first[present], kind="stable")], dtype=np.intp)


def _as_1d(values: Any) -> NDArray[Any]:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    return arr.reshape(-1)


def _text(values: NDArray[Any]) -> NDArray[np.str_]:
    """Values as stripped text; None, NaN and pandas' NA / NaT become ''."""
    return np.char.strip(_raw_text(values))


def _raw_text(values: NDArray[Any]) -> NDArray[np.str_]:
    """Values as text, unstripped; None, NaN and pandas' NA / NaT become ''."""
    if values.shape[0] == 0:
        return np.zeros(0, dtype="<U1")
    if values.dtype.kind == "O":
        arr: NDArray[Any] = np.where(missing_objects(values), "", values).astype(str)
    elif values.dtype.kind == "f":
        arr = np.where(np.isnan(values), "", values.astype(str))
    else:
        arr = values.astype(str)
    return arr


def _numbers(
    values: Any,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], Any]:
    """Read numbers: the values (NaN where none), missing, unreadable, and the raw values.

    Missing means empty, None or NaN; unreadable means text that is not a number.
    Infinities are read as such, for the caller to judge.
    """
    if isinstance(values, ConvertedNumbers):
        num = values.values
        return num, np.isnan(num), np.zeros(num.shape[0], dtype=bool), _Lazy(values.text)
    raw = _as_1d(values)
    if raw.dtype.kind in "iuf":
        num = raw.astype(np.float64)
        return num, np.isnan(num), np.zeros(num.shape[0], dtype=bool), raw
    text = _text(raw)
    missing = (text == "") | (np.char.lower(text) == "nan")
    unreadable = np.zeros(text.shape[0], dtype=bool)
    num = np.full(text.shape[0], np.nan)
    _parse_floats_bisect(text, np.flatnonzero(~missing), num, unreadable)
    return num, missing, unreadable, raw


def _parse_floats_bisect(
    text: NDArray[np.str_],
    idx: NDArray[np.intp],
    out: NDArray[np.float64],
    unreadable: NDArray[np.bool_],
) -> None:
    """Convert text to floats with numpy; on failure, halve to find the bad values.

    A few bad values among n cost O(bad × log n) numpy calls, not a Python loop
    over every row; small failing blocks are read value by value.
    """
    if idx.shape[0] == 0:
        return
    try:
        out[idx] = text[idx].astype(np.float64)
    except ValueError:
        if idx.shape[0] <= _BISECT_LEAF:
            for i, value in zip(idx.tolist(), text[idx].tolist(), strict=True):
                try:
                    out[i] = float(value)
                except ValueError:
                    unreadable[i] = True
            return
        half = idx.shape[0] // 2
        _parse_floats_bisect(text, idx[:half], out, unreadable)
        _parse_floats_bisect(text, idx[half:], out, unreadable)


def _coordinate(
    values: Any, name: str, problems: _Problems
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[Any]]:
    """Read lon or lat, noting missing, unreadable and infinite values as problems.

    The reasons name the field, not the value: a coordinate is never put in a message.
    """
    num, missing, unreadable, raw = _numbers(values)
    if _finite_range(num) is not None:  # no value missing, unreadable (NaN) or infinite
        return num, np.zeros(num.shape[0], dtype=bool), raw
    problems.add(missing, name, f"missing {name}", raw)
    problems.add(unreadable, name, f"{name} is not a number", raw)
    infinite = np.isinf(num)
    problems.add(infinite, name, f"{name} is not finite", raw)
    return num, missing | unreadable | infinite, raw


def _format_each(template: str, values: Any, mask: NDArray[np.bool_]) -> NDArray[Any]:
    reasons = np.full(mask.shape[0], None, dtype=object)
    for i in np.flatnonzero(mask):
        reasons[i] = template.format(plain_value(values[i]))
    return reasons
