"""Instants: parsing, time zones and formatting.

Inside fencecheck an instant is an ``int64`` count of **milliseconds since
1970-01-01T00:00:00Z** (UTC). Every time that enters the library goes through
:func:`parse_times` (arrays) or :func:`parse_time` (one value):

- ISO 8601 with an offset (``2022-05-01T08:30:00+08:00``, ``…Z``, ``+0800``,
  ``+08``) is honoured;
- naive ISO 8601 (``2022-05-01 08:30:00``, ``2022-05-01``) is wall-clock time in
  the zone ``tz`` (default ``Asia/Shanghai``); a date alone means local midnight
  at the start of that day;
- integers (and strings of digits) are epoch seconds, or milliseconds with
  ``epoch_unit="ms"``.

Fractions finer than a millisecond are truncated. Local times that a daylight-
saving change makes ambiguous or skips are read as Python's :mod:`zoneinfo` does
with ``fold=0`` (Asia/Shanghai has had no such change since 1991).

Examples
--------
>>> from fencecheck.times import parse_time, format_utc
>>> parse_time("2022-05-02T08:00:00+08:00") == parse_time("2022-05-02 08:00")
True
>>> format_utc(parse_time("2022-05-02"))
'2022-05-01T16:00:00Z'
>>> format_utc(parse_time(1651449600))
'2022-05-02T00:00:00Z'
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fencecheck.errors import OptionError
from fencecheck.options import EpochUnit

__all__ = [
    "DEFAULT_TZ",
    "MS_PER_S",
    "OPEN_END",
    "ParsedTimes",
    "format_local",
    "format_utc",
    "local_ms_to_utc",
    "parse_time",
    "parse_times",
    "resolve_zone",
    "zone_name",
]

DEFAULT_TZ = "Asia/Shanghai"
"""The zone naive timestamps are read in unless the caller says otherwise."""

MS_PER_S = 1000
_MS_PER_HOUR = 3_600_000
OPEN_END = int(np.iinfo(np.int64).max)
"""The stored end of a window that is still open (``end`` null or absent)."""

# Epoch values outside [1970-01-01, 2100-01-01) are refused as implausible: a
# millisecond value read as seconds lands tens of thousands of years ahead.
_EPOCH_S_MAX = 4_102_444_800
_HOURS_LOOKUP_LIMIT = 200_000  # hours of span for which a per-hour offset table is built

_ORD = {c: ord(c) for c in "+-:TtZz 0123456789"}


def resolve_zone(tz: str | _dt.tzinfo | None) -> _dt.tzinfo:
    """Return the tzinfo that ``tz`` names; ``None`` means Asia/Shanghai.

    Accepts IANA names (``"Asia/Shanghai"``, ``"UTC"``), fixed offsets
    (``"+08:00"``, ``"-0530"``) and tzinfo objects.

    Raises
    ------
    OptionError
        When the name is not a known zone.

    Examples
    --------
    >>> resolve_zone(None)
    zoneinfo.ZoneInfo(key='Asia/Shanghai')
    >>> resolve_zone("+08:00")
    datetime.timezone(datetime.timedelta(seconds=28800))
    """
    if tz is None:
        return ZoneInfo(DEFAULT_TZ)
    if isinstance(tz, _dt.tzinfo):
        return tz
    if isinstance(tz, str):
        text = tz.strip()
        offset = _parse_fixed_offset(text)
        if offset is not None:
            return _dt.timezone(_dt.timedelta(minutes=offset))
        try:
            return ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise OptionError(
        f"tz: {tz!r} is not a known time zone; use an IANA name such as "
        f"'Asia/Shanghai' or 'UTC', or a fixed offset such as '+08:00'"
    )


def zone_name(zone: _dt.tzinfo) -> str:
    """Return the name a zone is reported under (its IANA key, or ``UTC+08:00``)."""
    key = getattr(zone, "key", None)
    if isinstance(key, str):
        return key
    if isinstance(zone, _dt.timezone):
        name = zone.tzname(None)
        return "UTC" if name == "UTC" else name
    return str(zone)


def _parse_fixed_offset(text: str) -> int | None:
    """Minutes east of UTC for ``±HH[:MM]`` / ``±HHMM``; ``None`` if not that form."""
    if len(text) < 3 or text[0] not in "+-":
        return None
    body = text[1:].replace(":", "")
    if not body.isdigit() or len(body) not in (2, 4):
        return None
    hours, minutes = int(body[:2]), int(body[2:] or 0)
    if hours > 23 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (1 if text[0] == "+" else -1)


@dataclass(frozen=True)
class ParsedTimes:
    """The result of :func:`parse_times`.

    Attributes
    ----------
    ms : ndarray of int64
        Milliseconds since the epoch, UTC; 0 where ``bad`` is set.
    bad : ndarray of bool
        Where a value could not be read.
    reasons : ndarray of object
        A reason string where ``bad`` is set, else ``None``.
    """

    ms: NDArray[np.int64]
    bad: NDArray[np.bool_]
    reasons: NDArray[np.object_]


def parse_times(
    values: ArrayLike,
    *,
    tz: str | _dt.tzinfo | None = None,
    epoch_unit: EpochUnit | str = EpochUnit.S,
) -> ParsedTimes:
    """Read an array of timestamps into int64 UTC milliseconds, row by row verdicts.

    Parameters
    ----------
    values : array_like
        Strings (ISO 8601 or digits), integers or floats (epoch values), or numpy
        ``datetime64`` values (taken as naive wall-clock times in ``tz``).
    tz : str or tzinfo, optional
        The zone naive values are read in (default Asia/Shanghai).
    epoch_unit : {"s", "ms"}
        The unit of epoch values.

    Returns
    -------
    ParsedTimes
        Never raises for a bad value: each is marked in ``bad`` with its reason.

    Examples
    --------
    >>> p = parse_times(["2022-05-01T00:00:00Z", "2022-05-01 08:00", "soon", ""])
    >>> p.ms[:2].tolist() == [p.ms[0]] * 2, p.bad.tolist()
    (True, [False, False, True, True])
    >>> p.reasons[2]
    "'soon' is not an ISO 8601 time or an epoch number"
    """
    zone = resolve_zone(tz)
    unit = EpochUnit.parse(epoch_unit)
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    n = arr.shape[0]
    ms = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return ParsedTimes(ms, bad, reasons)

    kind = arr.dtype.kind
    if kind in "iu" or kind == "f":
        _from_epoch(arr.astype(np.float64), unit, ms, bad, reasons, np.arange(n), arr)
    elif kind == "M":
        naive = arr.astype("datetime64[ms]")
        nat = np.isnat(naive)
        bad[nat] = True
        reasons[nat] = "missing time"
        ok = ~nat
        ms[ok] = local_ms_to_utc(naive[ok].view(np.int64), zone)
    elif kind in "UO" or kind == "S":
        _from_text(arr, zone, unit, ms, bad, reasons)
    else:
        bad[:] = True
        reasons[:] = f"times of type {arr.dtype} cannot be read"
    ms[bad] = 0
    return ParsedTimes(ms, bad, reasons)


def _from_epoch(
    seconds_or_ms: NDArray[np.float64],
    unit: EpochUnit,
    ms: NDArray[np.int64],
    bad: NDArray[np.bool_],
    reasons: NDArray[np.object_],
    where: NDArray[np.intp],
    raw: NDArray[Any],
) -> None:
    """Fill ``ms`` at ``where`` from epoch values; mark the implausible ones bad."""
    value = seconds_or_ms
    as_seconds = value if unit is EpochUnit.S else value / MS_PER_S
    finite = np.isfinite(value)
    plausible = finite & (as_seconds >= 0) & (as_seconds < _EPOCH_S_MAX)
    good_where = where[plausible]
    if unit is EpochUnit.S:
        ms[good_where] = np.floor(value[plausible] * MS_PER_S + 0.5).astype(np.int64)
    else:
        ms[good_where] = np.floor(value[plausible] + 0.5).astype(np.int64)
    missing = ~finite
    bad[where[missing]] = True
    reasons[where[missing]] = "missing time"
    wrong = finite & ~plausible
    if wrong.any():
        hint = " (milliseconds? use epoch unit 'ms')" if unit is EpochUnit.S else ""
        for i in np.flatnonzero(wrong):
            reasons[where[i]] = (
                f"epoch value {str(raw[i])!r} is outside 1970-01-01..2100-01-01 "
                f"read as {unit.value}{hint}"
            )
        bad[where[wrong]] = True


def _from_text(
    arr: NDArray[Any],
    zone: _dt.tzinfo,
    unit: EpochUnit,
    ms: NDArray[np.int64],
    bad: NDArray[np.bool_],
    reasons: NDArray[np.object_],
) -> None:
    """Parse text timestamps, vectorized over fixed character positions."""
    if arr.dtype.kind == "O":
        is_none = np.fromiter((v is None for v in arr), dtype=bool, count=arr.shape[0])
        floats = np.fromiter((isinstance(v, float) for v in arr), dtype=bool, count=arr.shape[0])
        missing_obj = is_none | (floats & (arr != arr))
        text = np.where(missing_obj, "", arr).astype(str)
    elif arr.dtype.kind == "S":
        text = np.char.decode(arr, "utf-8", errors="replace")
    else:
        text = arr.astype(str)
    text = np.char.strip(text)
    n = text.shape[0]
    length = np.char.str_len(text).astype(np.intp)
    width = max(int(length.max()), 1)
    text = text.astype(f"<U{width}")
    codes = text.view(np.uint32).reshape(n, width).copy()

    empty = length == 0
    bad[empty] = True
    reasons[empty] = "missing time"

    digit = (codes >= _ORD["0"]) & (codes <= _ORD["9"])
    padded = np.arange(width)[None, :] >= length[:, None]
    first_minus = codes[:, 0] == _ORD["-"]
    digits_only = ~empty & np.all(
        digit | padded | (first_minus[:, None] & (np.arange(width) == 0)), axis=1
    )
    digits_only &= ~(first_minus & (length == 1))
    if digits_only.any():
        where = np.flatnonzero(digits_only)
        values = text[where].astype(np.float64)
        _from_epoch(values, unit, ms, bad, reasons, where, text[where])

    iso = ~empty & ~digits_only
    for size in np.unique(length[iso]):
        rows = np.flatnonzero(iso & (length == size))
        group = _IsoGroup(codes[rows, :size])
        local = np.zeros(rows.shape[0], dtype=np.int64)
        failed = ~group.shaped | group.bad_offset
        _parse_naive_bisect(group.body(), np.flatnonzero(~failed), local, failed)
        for i in np.flatnonzero(failed):
            value = str(text[rows[i]])
            reasons[rows[i]] = (
                f"{value!r} has a UTC offset out of range"
                if group.bad_offset[i]
                else f"{value!r} is not an ISO 8601 time or an epoch number"
            )
        bad[rows[failed]] = True
        good = ~failed
        aware = good & group.has_offset
        ms[rows[aware]] = local[aware] - group.offset_min[aware] * 60_000
        naive = good & ~group.has_offset
        if naive.any():
            ms[rows[naive]] = local_ms_to_utc(local[naive], zone)


class _IsoGroup:
    """ISO 8601 strings of one length, as a (rows, length) array of code points.

    With one length per group every field sits at a fixed column, so the checks
    below are column slices rather than per-row indexing.
    """

    def __init__(self, codes: NDArray[np.uint32]) -> None:
        self.codes = codes.copy()
        m, size = codes.shape
        self.size = size
        self.has_offset = np.zeros(m, dtype=bool)
        self.bad_offset = np.zeros(m, dtype=bool)
        self.offset_min = np.zeros(m, dtype=np.int64)
        self.cut_at = np.full(m, size, dtype=np.intp)
        last = codes[:, size - 1]
        zulu = (last == _ORD["Z"]) | (last == _ORD["z"])
        self.has_offset |= zulu
        self.cut_at[zulu] = size - 1
        # ±HH:MM, ±HHMM, ±HH after at least 'YYYY-MM-DDTHH' (13 characters).
        for back, colon, minutes in ((6, True, True), (5, False, True), (3, False, False)):
            sign_at = size - back
            if sign_at < 13:
                continue
            cand = ~self.has_offset & self._is_sign(sign_at)
            cand &= self._digit(sign_at + 1) & self._digit(sign_at + 2)
            minute_at = sign_at + (4 if colon else 3)
            if colon:
                cand &= codes[:, sign_at + 3] == _ORD[":"]
            if minutes:
                cand &= self._digit(minute_at) & self._digit(minute_at + 1)
            if not cand.any():
                continue
            hours = self._number(sign_at + 1)
            mins = self._number(minute_at) if minutes else np.zeros(m, dtype=np.int64)
            sign = np.where(codes[:, sign_at] == _ORD["-"], -1, 1)
            self.offset_min[cand] = (sign * (hours * 60 + mins))[cand]
            self.bad_offset |= cand & ((hours > 23) | (mins > 59))
            self.has_offset |= cand
            self.cut_at[cand] = sign_at
        # A numeric date must open the value: this refuses numpy's 'now', 'today', 'NaT'.
        self.shaped = np.ones(m, dtype=bool)
        if size < 10:
            self.shaped[:] = False
        else:
            for col in range(4):
                self.shaped &= self._digit(col)
            self.shaped &= codes[:, 4] == _ORD["-"]

    def _digit(self, col: int) -> NDArray[np.bool_]:
        column = self.codes[:, col]
        return (column >= _ORD["0"]) & (column <= _ORD["9"])

    def _is_sign(self, col: int) -> NDArray[np.bool_]:
        column = self.codes[:, col]
        return (column == _ORD["+"]) | (column == _ORD["-"])

    def _number(self, col: int) -> NDArray[np.int64]:
        tens = self.codes[:, col].astype(np.int64) - _ORD["0"]
        ones = self.codes[:, col + 1].astype(np.int64) - _ORD["0"]
        return tens * 10 + ones

    def body(self) -> NDArray[np.str_]:
        """The strings without their offsets, 't' separators made 'T'."""
        body = self.codes.copy()
        if self.size > 10:
            lower_t = body[:, 10] == _ORD["t"]
            body[lower_t, 10] = _ORD["T"]
        body[np.arange(self.size)[None, :] >= self.cut_at[:, None]] = 0
        return body.view(f"<U{self.size}").reshape(-1)


def _parse_naive_bisect(
    body: NDArray[np.str_],
    idx: NDArray[np.intp],
    out: NDArray[np.int64],
    failed: NDArray[np.bool_],
) -> None:
    """Parse naive ISO strings with numpy; on failure, halve to find the bad ones."""
    if idx.shape[0] == 0:
        return
    try:
        out[idx] = body[idx].astype("datetime64[ms]").view(np.int64)
    except ValueError:
        if idx.shape[0] == 1:
            failed[idx] = True
            return
        half = idx.shape[0] // 2
        _parse_naive_bisect(body, idx[:half], out, failed)
        _parse_naive_bisect(body, idx[half:], out, failed)
        return
    nat = np.isnat(out[idx].view("datetime64[ms]"))
    failed[idx[nat]] = True


def _offset_ms(local_ms: int, zone: _dt.tzinfo) -> int:
    """The zone's UTC offset in ms at a local wall-clock time (``fold=0``)."""
    wall = _dt.datetime(1970, 1, 1) + _dt.timedelta(milliseconds=local_ms)
    offset = wall.replace(tzinfo=zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() * MS_PER_S)


def local_ms_to_utc(local_ms: NDArray[np.int64], zone: _dt.tzinfo) -> NDArray[np.int64]:
    """Convert naive wall-clock milliseconds in ``zone`` to UTC milliseconds.

    The zone's offset is looked up once per distinct hour, not once per value;
    the few values in an hour that holds an offset change are converted one by one.

    Examples
    --------
    >>> import numpy as np
    >>> from zoneinfo import ZoneInfo
    >>> local_ms_to_utc(np.array([8 * 3_600_000]), ZoneInfo("Asia/Shanghai")).tolist()
    [0]
    """
    local_ms = np.asarray(local_ms, dtype=np.int64)
    if local_ms.size == 0:
        return local_ms.copy()
    hours = np.floor_divide(local_ms, _MS_PER_HOUR)
    lo, hi = int(hours.min()), int(hours.max())
    # A table over every hour of the span avoids sorting when the span is short
    # against the number of values; otherwise look up only the distinct hours.
    if hi - lo < min(_HOURS_LOOKUP_LIMIT, max(10_000, local_ms.size)):
        table_hours = np.arange(lo, hi + 1, dtype=np.int64)
        position = hours - lo
    else:
        table_hours, position = np.unique(hours, return_inverse=True)
    start = np.array([_offset_ms(int(h) * _MS_PER_HOUR, zone) for h in table_hours])
    end = np.array([_offset_ms(int(h + 1) * _MS_PER_HOUR - 1, zone) for h in table_hours])
    result = local_ms - start[position]
    changing = (start != end)[position]
    for i in np.flatnonzero(changing):
        result[i] = local_ms[i] - _offset_ms(int(local_ms[i]), zone)
    return result


def parse_time(
    value: object,
    *,
    tz: str | _dt.tzinfo | None = None,
    epoch_unit: EpochUnit | str = EpochUnit.S,
) -> int:
    """Read one timestamp into int64 UTC milliseconds.

    Accepts what :func:`parse_times` accepts, plus :class:`datetime.datetime`
    (aware ones honoured, naive ones read in ``tz``) and :class:`datetime.date`.

    Raises
    ------
    ValueError
        With the reason, when the value cannot be read. (Callers wrap it in a
        :class:`~fencecheck.errors.DataError` that names the row or feature.)

    Examples
    --------
    >>> import datetime as dt
    >>> parse_time(dt.datetime(2022, 5, 2, tzinfo=dt.timezone.utc))
    1651449600000
    >>> parse_time(dt.date(2022, 5, 2)) == parse_time("2022-05-02")
    True
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
            return delta // _dt.timedelta(milliseconds=1)
        naive_ms = (value - _dt.datetime(1970, 1, 1)) // _dt.timedelta(milliseconds=1)
        return int(local_ms_to_utc(np.array([naive_ms]), resolve_zone(tz))[0])
    if isinstance(value, _dt.date):
        return parse_time(_dt.datetime(value.year, value.month, value.day), tz=tz)
    if isinstance(value, (int, np.integer)):
        parsed = parse_times(np.array([int(value)], dtype=np.int64), tz=tz, epoch_unit=epoch_unit)
    elif isinstance(value, (float, np.floating)):
        parsed = parse_times(np.array([value], dtype=np.float64), tz=tz, epoch_unit=epoch_unit)
    elif isinstance(value, str):
        parsed = parse_times(np.array([value]), tz=tz, epoch_unit=epoch_unit)
    else:
        raise ValueError(f"{value!r} is not a time (expected an ISO 8601 string or a number)")
    if parsed.bad[0]:
        raise ValueError(str(parsed.reasons[0]))
    return int(parsed.ms[0])


@overload
def format_utc(ms: int) -> str: ...
@overload
def format_utc(ms: NDArray[np.int64]) -> NDArray[np.str_]: ...
def format_utc(ms: int | NDArray[np.int64]) -> str | NDArray[np.str_]:
    """Format UTC milliseconds as ISO 8601 with ``Z`` (FORMATS.md's output form).

    Whole seconds are written without a fraction; :data:`OPEN_END` is written as
    an empty string.

    Examples
    --------
    >>> format_utc(1651449600000)
    '2022-05-02T00:00:00Z'
    >>> format_utc(np.array([1651449600250])).tolist()
    ['2022-05-02T00:00:00.250Z']
    """
    scalar = np.ndim(ms) == 0
    arr = np.atleast_1d(np.asarray(ms, dtype=np.int64))
    open_end = arr == OPEN_END
    stamps = np.where(open_end, 0, arr).astype("datetime64[ms]")
    whole = bool(np.all(arr[~open_end] % MS_PER_S == 0))
    text = np.datetime_as_string(stamps, unit="s" if whole else "ms", timezone="UTC")
    text = np.where(open_end, "", text)
    return str(text[0]) if scalar else text


def format_local(ms: int, tz: str | _dt.tzinfo | None = None) -> str:
    """Format one UTC instant as local wall-clock time for people to read.

    Examples
    --------
    >>> format_local(1651449600000)
    '2022-05-02 08:00:00 (Asia/Shanghai)'
    """
    zone = resolve_zone(tz)
    when = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=ms)
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M:%S} ({zone_name(zone)})"
