"""A resident's reported itinerary: the places they say they were, when, and how precisely.

The community worker fills in the places a resident reports (京心相助, 核验行程申请表),
usually as Amap pins, so in GCJ-02. One row per place: ``person_id, place, lon,
lat, start, end`` and an optional ``radius_m`` (default 100 m), the uncertainty
of the pin. :func:`build_itinerary` checks every row as the ping reader does:
a bad row (a missing pin, a pin outside China in GCJ-02 or BD-09, where those
datums are not defined, an end before its start, a radius that is not a
positive number of metres up to 10 km) is refused with its row number and field
or set aside in ``rejected``, so that rows read = places used + rows rejected.
Messages never quote coordinates.

Examples
--------
>>> it = build_itinerary({"person_id": ["001", "001"], "place": ["公司", "超市"],
...     "lon": [116.4040, 116.4100], "lat": [39.9150, 39.9200],
...     "start": ["2022-05-02 09:00", "2022-05-02 18:00"],
...     "end": ["2022-05-02 17:30", "2022-05-02 17:00"]}, on_error="reject")
>>> len(it), it.rows_read, it.rejected.records()[0][:4]
(1, 2, (1, '001', 'end', 'the place ends before it starts'))
>>> round(float(it.lon[0]), 4), round(float(it.given_lon[0]), 4)  # WGS-84 inside, as given kept
(116.3978, 116.404)
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fencecheck.datums import Datum, in_china, to_wgs84
from fencecheck.errors import DataError, OptionError
from fencecheck.options import OnError
from fencecheck.rejected import Rejected
from fencecheck.times import parse_times, resolve_zone, zone_name
from fencecheck.values import is_missing

__all__ = ["DEFAULT_RADIUS_M", "MAX_RADIUS_M", "Itinerary", "build_itinerary"]

DEFAULT_RADIUS_M = 100.0
"""The radius of a place that gives none (docs/contract.md)."""

MAX_RADIUS_M = 10_000.0
"""A larger radius places nobody anywhere: such a row is refused."""

ITINERARY_COLUMNS = ("person_id", "place", "lon", "lat", "start", "end")
"""The columns every itinerary has (``radius_m`` is optional)."""


@dataclass(frozen=True)
class Itinerary:
    """Reported places, one per row, in WGS-84 and UTC milliseconds.

    Attributes
    ----------
    person_id, place : ndarray of object
        Who reported it and what they called it.
    lon, lat : ndarray of float64
        The pin in WGS-84.
    given_lon, given_lat : ndarray of float64
        The pin as it was given (in ``datum``), for the report.
    start, end : ndarray of int64
        The interval, UTC milliseconds, ``start < end``.
    radius_m : ndarray of float64
        How far from the pin the resident may have been.
    row : ndarray of int64
        The 0-based input row.
    rejected : Rejected
        The rows set aside, with their reasons.
    rows_read : int
        Rows in the input.
    datum, source, tz : str
        The pins' datum, where the rows came from, and the zone naive times were read in.
    """

    person_id: NDArray[np.object_]
    place: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    given_lon: NDArray[np.float64]
    given_lat: NDArray[np.float64]
    start: NDArray[np.int64]
    end: NDArray[np.int64]
    radius_m: NDArray[np.float64]
    row: NDArray[np.int64]
    rejected: Rejected = field(default_factory=Rejected.empty)
    rows_read: int = 0
    datum: str = Datum.GCJ02.value
    source: str = "<columns>"
    tz: str = "Asia/Shanghai"

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def __repr__(self) -> str:
        people = len(set(self.person_id.tolist()))
        return f"<Itinerary: {len(self)} places of {people} people, {len(self.rejected)} rejected>"

    def of(self, person_id: str) -> NDArray[np.int64]:
        """The positions of one person's places, in time order."""
        mine = np.flatnonzero(self.person_id == person_id)
        return mine[np.argsort(self.start[mine], kind="stable")]


def build_itinerary(
    columns: Mapping[str, ArrayLike],
    *,
    rows: ArrayLike | None = None,
    datum: Datum | str = Datum.GCJ02,
    tz: str | _dt.tzinfo | None = None,
    on_error: OnError | str = OnError.RAISE,
    source: str = "<columns>",
) -> Itinerary:
    """Check raw itinerary columns and build an :class:`Itinerary`.

    Parameters
    ----------
    columns : mapping of str to array_like
        ``person_id, place, lon, lat, start, end`` and optionally ``radius_m``.
    rows : array_like of int, optional
        The input row of each value (default 0, 1, …).
    datum : {"gcj02", "wgs84", "bd09"}
        The pins' datum (Amap pins are GCJ-02, the default).
    tz : str or tzinfo, optional
        The zone naive times are read in (default Asia/Shanghai).
    on_error : {"raise", "reject"}
        Raise :class:`~fencecheck.errors.DataError` for the first bad row, or set
        bad rows aside.

    Raises
    ------
    DataError
        Under ``on_error="raise"``, for the first bad row (its row and field).
    OptionError
        When a required column is missing.
    """
    datum = Datum.parse(datum)
    mode = OnError.parse(on_error)
    zone = resolve_zone(tz)
    missing = [name for name in ITINERARY_COLUMNS if name not in columns]
    if missing:
        raise OptionError(
            f"itinerary {source}: no column {missing[0]!r} "
            f"(an itinerary has {', '.join(ITINERARY_COLUMNS)} and optionally radius_m)"
        )
    data = {name: np.asarray(values, dtype=object).reshape(-1) for name, values in columns.items()}
    n = data["person_id"].shape[0]
    row_of = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    problems: list[tuple[int, str, str, str]] = []  # (position, field, reason, value)

    def refuse(k: int, name: str, reason: str, value: str = "") -> None:
        problems.append((k, name, reason, value))

    person = np.array(["" if is_missing(v) else str(v).strip() for v in data["person_id"]], object)
    place = np.array(["" if is_missing(v) else str(v).strip() for v in data["place"]], object)
    lon = _floats(data["lon"])
    lat = _floats(data["lat"])
    radius = (
        _floats(data["radius_m"], DEFAULT_RADIUS_M)
        if "radius_m" in data
        else np.full(n, DEFAULT_RADIUS_M)
    )
    start = parse_times(data["start"], tz=zone)
    end = parse_times(data["end"], tz=zone)
    for k in range(n):
        if not person[k]:
            refuse(k, "person_id", "missing person id")
        elif not place[k]:
            refuse(k, "place", "missing place name")
        elif math.isnan(lon[k]) or math.isnan(lat[k]):
            refuse(k, "lon" if math.isnan(lon[k]) else "lat", "missing pin: not a number")
        elif not (-180.0 <= lon[k] <= 180.0 and -90.0 <= lat[k] <= 90.0):
            refuse(k, "lon" if abs(lon[k]) > 180 else "lat", "the pin is not a lon/lat position")
        elif datum is not Datum.WGS84 and not in_china(float(lon[k]), float(lat[k])):
            refuse(
                k,
                "lon",
                f"the pin lies outside China, where {datum.value} pins are not defined",
            )
        elif start.bad[k]:
            refuse(k, "start", str(start.reasons[k]), _text(data["start"][k]))
        elif end.bad[k]:
            refuse(k, "end", str(end.reasons[k]), _text(data["end"][k]))
        elif end.ms[k] < start.ms[k]:
            refuse(k, "end", "the place ends before it starts", _text(data["end"][k]))
        elif end.ms[k] == start.ms[k]:
            refuse(k, "end", "the place ends when it starts (no time there)", _text(data["end"][k]))
        elif not (0.0 < radius[k] <= MAX_RADIUS_M):
            refuse(
                k,
                "radius_m",
                f"radius_m is not a number of metres in (0, {MAX_RADIUS_M:,.0f}]",
                _text(data["radius_m"][k]) if "radius_m" in data else "",
            )
    if problems and mode is OnError.RAISE:
        k, name, reason, _ = problems[0]
        raise DataError(reason, source=source, row=int(row_of[k]), field=name)
    bad = np.zeros(n, dtype=bool)
    bad[[k for k, *_ in problems]] = True
    good = ~bad
    wlon, wlat = np.zeros(0), np.zeros(0)
    if good.any():
        wlon, wlat = to_wgs84(lon[good], lat[good], datum)
    rejected = Rejected.from_records(
        (int(row_of[k]), str(person[k]), name, reason, value) for k, name, reason, value in problems
    )
    return Itinerary(
        person_id=person[good],
        place=place[good],
        lon=np.asarray(wlon, dtype=np.float64),
        lat=np.asarray(wlat, dtype=np.float64),
        given_lon=lon[good],
        given_lat=lat[good],
        start=start.ms[good],
        end=end.ms[good],
        radius_m=radius[good],
        row=row_of[good],
        rejected=rejected,
        rows_read=n,
        datum=datum.value,
        source=source,
        tz=zone_name(zone),
    )


def _floats(values: NDArray[np.object_], default: float = math.nan) -> NDArray[np.float64]:
    """Numbers from text or numbers; NaN where a value is not one (``default`` where missing)."""
    out = np.full(values.shape[0], math.nan)
    for k, value in enumerate(values):
        if is_missing(value) or (isinstance(value, str) and not value.strip()):
            out[k] = default
            continue
        try:
            out[k] = float(value)
        except (TypeError, ValueError):
            out[k] = math.nan
    return out


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)
