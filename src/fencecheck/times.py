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
  ``epoch_unit="ms"``;
- the common Chinese spellings of a naive time, year first, are read like naive
  ISO 8601: slashes (``2022/05/03 08:20:04``, ``2022/5/3 8:20``), dots
  (``2022.05.03``) and ``2022年5月3日 08:20:04`` / ``2022年05月03日`` (also
  ``8时20分4秒``). They are tried only for values ISO 8601 refuses, so ISO input
  keeps its vectorized path;
- with ``time_format`` (a :meth:`datetime.datetime.strptime` pattern) every text
  value is read with that pattern instead (naive results in ``tz``).

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
import re
import warnings
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
    "parse_text_buffer",
    "parse_time",
    "parse_times",
    "plain_value",
    "resolve_zone",
    "zone_label",
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
_NOT_A_TIME = "is not an ISO 8601 time or an epoch number"

# Year-first naive times as written in China: 2022/5/3 8:20, 2022年5月3日 08时20分04秒.
_SPELLING = re.compile(
    r"(\d{4})\s*[/.年]\s*(\d{1,2})\s*[/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s*|[Tt])(\d{1,2})\s*[:时時]\s*(\d{1,2})\s*分?"
    r"(?:\s*[:]?\s*(\d{1,2})(\.\d{1,9})?\s*秒?)?)?"
)


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
    time_format: str | None = None,
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
    time_format : str, optional
        A :meth:`datetime.datetime.strptime` pattern every text value is read
        with (numbers and datetimes are read as usual); a naive result is in ``tz``.

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
    >>> q = parse_times(["2022/5/1 8:00", "2022年05月01日 08:00:00", "2022年5月1日"])
    >>> q.ms.tolist() == [p.ms[0], p.ms[0], p.ms[0] - 8 * 3_600_000], bool(q.bad.any())
    (True, False)
    >>> r = parse_times(["01/05/2022 08:00", "1 May"], time_format="%d/%m/%Y %H:%M")
    >>> int(r.ms[0]) == int(p.ms[0]), r.reasons[1]
    (True, "'1 May' does not match the time format '%d/%m/%Y %H:%M'")
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
        _from_text(arr, zone, unit, ms, bad, reasons, time_format)
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
                f"epoch value {plain_value(raw[i])} is outside 1970-01-01..2100-01-01 "
                f"read as {unit.value}{hint}"
            )
        bad[where[wrong]] = True


def plain_value(value: object) -> str:
    """A value as a person would write it in a message: no numpy wrapper, no ``.0``.

    Examples
    --------
    >>> plain_value(np.float64(39.97)), plain_value(1651537204000.0), plain_value("1.5e12")
    ('39.97', '1651537204000', '1500000000000')
    >>> plain_value(np.bytes_(b"12.0")), plain_value("soon")
    ('12', "'soon'")
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    number: object = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return repr(value)
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e18:
        return str(int(number))
    if isinstance(number, (int, float)) and not isinstance(number, bool):
        return repr(number)
    return repr(value)


def _from_text(
    arr: NDArray[Any],
    zone: _dt.tzinfo,
    unit: EpochUnit,
    ms: NDArray[np.int64],
    bad: NDArray[np.bool_],
    reasons: NDArray[np.object_],
    time_format: str | None = None,
    spellings: bool = True,
) -> None:
    """Parse text timestamps, vectorized over fixed character positions.

    Values ISO 8601 refuses get a second try as one of the common spellings
    (:func:`_retry_spellings`); with ``time_format`` every value is read with it.
    """
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
    codes = text.view(np.uint32).reshape(n, width)
    empty = length == 0
    bad[empty] = True
    reasons[empty] = "missing time"
    if time_format is not None:
        _strptime_each(text, np.flatnonzero(~empty), time_format, zone, ms, bad, reasons)
        return
    # Only ASCII can be a time; anything else is refused before the byte view below.
    foreign = (codes > 127).any(axis=1)
    for size in np.unique(length[~empty]):
        rows = np.flatnonzero((length == size) & ~foreign)
        if rows.shape[0]:
            _parse_group(codes[rows, :size].astype(np.uint8), rows, zone, unit, ms, bad, reasons)
    for i in np.flatnonzero(foreign):
        bad[i] = True
        reasons[i] = f"{str(text[i])!r} {_NOT_A_TIME}"
    retry = np.flatnonzero(bad & ~empty) if spellings else np.zeros(0, dtype=np.intp)
    if retry.shape[0]:
        _retry_spellings(text[retry].tolist(), retry, zone, unit, ms, bad, reasons)


def _retry_spellings(
    values: list[str],
    rows: NDArray[np.intp],
    zone: _dt.tzinfo,
    unit: EpochUnit,
    ms: NDArray[np.int64],
    bad: NDArray[np.bool_],
    reasons: NDArray[np.object_],
) -> None:
    """Read values ISO 8601 refused as year-first Chinese spellings, rewritten as ISO.

    Only the few values the fast path refused come here. A value that does not
    match, or matches but is no real time (month 13), keeps its first reason.
    """
    iso: list[str] = []
    where: list[int] = []
    for k, value in enumerate(values):
        found = _SPELLING.fullmatch(value.strip())
        if found is None:
            continue
        year, month, day, hour, minute, second, fraction = found.groups()
        text = f"{year}-{int(month):02d}-{int(day):02d}"
        if hour is not None:
            text += f"T{int(hour):02d}:{int(minute):02d}:{int(second or 0):02d}{fraction or ''}"
        iso.append(text)
        where.append(k)
    if not iso:
        return
    n = len(iso)
    again_ms, again_bad = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    again_reasons = np.full(n, None, dtype=object)
    _from_text(np.array(iso), zone, unit, again_ms, again_bad, again_reasons, spellings=False)
    read = rows[np.asarray(where, dtype=np.intp)[~again_bad]]
    ms[read] = again_ms[~again_bad]
    bad[read] = False
    reasons[read] = None


def _strptime_each(
    text: NDArray[np.str_],
    rows: NDArray[np.intp],
    pattern: str,
    zone: _dt.tzinfo,
    ms: NDArray[np.int64],
    bad: NDArray[np.bool_],
    reasons: NDArray[np.object_],
) -> None:
    """Read each value at ``rows`` with a strptime pattern (one look per distinct value)."""
    if rows.shape[0] == 0:
        return
    distinct, inverse = np.unique(text[rows], return_inverse=True)
    naive = np.zeros(distinct.shape[0], dtype=np.int64)
    aware = np.zeros(distinct.shape[0], dtype=bool)
    failed = np.zeros(distinct.shape[0], dtype=bool)
    why = np.full(distinct.shape[0], None, dtype=object)
    epoch = _dt.datetime(1970, 1, 1)
    for k, value in enumerate(distinct.tolist()):
        try:
            moment = _dt.datetime.strptime(value, pattern)
        except ValueError:
            failed[k] = True
            why[k] = f"{value!r} does not match the time format {pattern!r}"
            continue
        offset = moment.utcoffset()
        if offset is not None:
            aware[k] = True
            moment = moment.replace(tzinfo=None) - offset
        naive[k] = (moment - epoch) // _dt.timedelta(milliseconds=1)
    local = ~aware & ~failed
    if local.any():
        naive[local] = local_ms_to_utc(naive[local], zone)
    inverse = inverse.reshape(-1)
    ms[rows] = naive[inverse]
    bad[rows] = failed[inverse]
    reasons[rows] = why[inverse]


def parse_text_buffer(
    data: NDArray[np.uint8],
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    *,
    tz: str | _dt.tzinfo | None = None,
    epoch_unit: EpochUnit | str = EpochUnit.S,
    time_format: str | None = None,
) -> ParsedTimes:
    """Parse times held as UTF-8 bytes in one buffer (Arrow's string layout).

    Row ``i`` is ``data[starts[i] : starts[i] + lengths[i]]``; a negative length
    marks a missing value. No Python string is made for a well-formed ISO value;
    the values ISO 8601 refuses are decoded and tried as :func:`parse_times`
    does (the common spellings), and with ``time_format`` every value is decoded
    and read with it.

    Examples
    --------
    >>> raw = b"2022-05-02T08:00+08:00" + b"2022-05-02 08:00"
    >>> p = parse_text_buffer(np.frombuffer(raw, np.uint8), np.array([0, 22]), np.array([22, 16]))
    >>> p.ms.tolist() == [1651449600000] * 2
    True
    """
    zone = resolve_zone(tz)
    unit = EpochUnit.parse(epoch_unit)
    n = starts.shape[0]
    ms = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    reasons = np.full(n, None, dtype=object)
    missing = lengths <= 0
    bad[missing] = True
    reasons[missing] = "missing time"
    present = np.flatnonzero(~missing)

    def decoded(rows: NDArray[np.intp]) -> NDArray[np.object_]:
        return np.array(
            [
                bytes(data[s : s + k]).decode("utf-8", "replace")
                for s, k in zip(starts[rows].tolist(), lengths[rows].tolist(), strict=True)
            ],
            dtype=object,
        )

    if time_format is not None:
        if present.shape[0]:
            sub = parse_times(decoded(present), tz=zone, time_format=time_format)
            ms[present], bad[present], reasons[present] = sub.ms, sub.bad, sub.reasons
        ms[bad] = 0
        return ParsedTimes(ms, bad, reasons)
    firsts = data[starts[present]]
    lasts = data[starts[present] + lengths[present] - 1]
    # Values with surrounding spaces or non-ASCII bytes take the general path.
    odd = (firsts <= 32) | (lasts <= 32) | (firsts > 127) | (lasts > 127)
    for size in np.unique(lengths[present[~odd]]):
        rows = present[~odd][lengths[present[~odd]] == size]
        matrix = np.empty((rows.shape[0], size), dtype=np.uint8)
        first_byte = starts[rows]
        for col in range(size):  # column by column: no (rows x size) index array
            matrix[:, col] = data[first_byte + col]
        foreign = (matrix > 127).any(axis=1)
        if foreign.any():
            odd_rows = rows[foreign]
            present_odd = np.union1d(present[odd], odd_rows)
            odd = np.isin(present, present_odd)
            rows, matrix = rows[~foreign], matrix[~foreign]
        _parse_group(matrix, rows, zone, unit, ms, bad, reasons)
    retry = np.flatnonzero(bad & ~missing)
    if retry.shape[0]:  # ASCII values ISO 8601 refused: the common spellings
        _retry_spellings([str(v) for v in decoded(retry)], retry, zone, unit, ms, bad, reasons)
    if odd.any():
        rows = present[odd]
        sub = parse_times(decoded(rows), tz=zone, epoch_unit=unit)
        ms[rows], bad[rows], reasons[rows] = sub.ms, sub.bad, sub.reasons
    ms[bad] = 0
    return ParsedTimes(ms, bad, reasons)


def _parse_group(
    c: NDArray[np.uint8],
    rows: NDArray[np.intp],
    zone: _dt.tzinfo,
    unit: EpochUnit,
    ms: NDArray[np.int64],
    bad: NDArray[np.bool_],
    reasons: NDArray[np.object_],
) -> None:
    """Parse ASCII values of one length, one row of ``c`` each, into ``ms`` at ``rows``."""
    m, size = c.shape
    digit = (c >= _ORD["0"]) & (c <= _ORD["9"])
    minus_first = c[:, 0] == _ORD["-"]
    epoch = digit[:, 1:].all(axis=1) & (digit[:, 0] | (minus_first & (size > 1)))
    if epoch.any():
        where = np.flatnonzero(epoch)
        raw = c[where].view(f"S{size}").reshape(-1)
        _from_epoch(raw.astype(np.float64), unit, ms, bad, reasons, rows[where], raw.astype(str))
    iso = ~epoch
    if not iso.any():
        return
    c, rows, digit = c[iso], rows[iso], digit[iso]
    m = c.shape[0]
    cut = np.full(m, size, dtype=np.intp)
    offset_min = np.zeros(m, dtype=np.int64)
    has_offset = (c[:, size - 1] == _ORD["Z"]) | (c[:, size - 1] == _ORD["z"])
    cut[has_offset] = size - 1
    bad_offset = np.zeros(m, dtype=bool)

    def number(col: int) -> NDArray[np.int64]:
        return (c[:, col].astype(np.int64) - _ORD["0"]) * 10 + (
            c[:, col + 1].astype(np.int64) - _ORD["0"]
        )

    # ±HH:MM, ±HHMM, ±HH after at least 'YYYY-MM-DDTHH' (13 characters).
    for back, colon, minutes in ((6, True, True), (5, False, True), (3, False, False)):
        sign_at = size - back
        if sign_at < 13:
            continue
        sign = c[:, sign_at]
        cand = ~has_offset & ((sign == _ORD["+"]) | (sign == _ORD["-"]))
        cand &= digit[:, sign_at + 1] & digit[:, sign_at + 2]
        minute_at = sign_at + (4 if colon else 3)
        if colon:
            cand &= c[:, sign_at + 3] == _ORD[":"]
        if minutes:
            cand &= digit[:, minute_at] & digit[:, minute_at + 1]
        if not cand.any():
            continue
        hours = number(sign_at + 1)
        mins = number(minute_at) if minutes else np.zeros(m, dtype=np.int64)
        value = np.where(sign == _ORD["-"], -1, 1) * (hours * 60 + mins)
        offset_min[cand] = value[cand]
        bad_offset |= cand & ((hours > 23) | (mins > 59))
        has_offset |= cand
        cut[cand] = sign_at

    local = np.zeros(m, dtype=np.int64)
    failed = bad_offset.copy()
    for body in np.unique(cut):
        sel = np.flatnonzero((cut == body) & ~bad_offset)
        if sel.shape[0]:
            local[sel], failed[sel] = _parse_body(c[sel, :body], digit[sel, :body])
    for i in np.flatnonzero(failed):
        value = c[i].tobytes().decode("ascii")
        reasons[rows[i]] = (
            f"{value!r} has a UTC offset out of range"
            if bad_offset[i]
            else f"{value!r} {_NOT_A_TIME}"
        )
    bad[rows[failed]] = True
    good = ~failed
    aware = good & has_offset
    ms[rows[aware]] = local[aware] - offset_min[aware] * 60_000
    naive = good & ~has_offset
    if naive.any():
        ms[rows[naive]] = local_ms_to_utc(local[naive], zone)


_SEPARATORS = {4: (b"-",), 7: (b"-",), 10: (b"T", b"t", b" "), 13: (b":",), 16: (b":",)}
_DAYS_BEFORE_MONTH = np.array([0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275])


def _parse_body(
    c: NDArray[np.uint8], digit: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Naive ISO 8601 bodies of one length: local milliseconds and which failed.

    ``YYYY-MM-DD[Thh[:mm[:ss[.fff…]]]]`` is read by integer arithmetic; any other
    form that starts with a numeric date goes to numpy's datetime parser, which
    refuses what it cannot read. Values are checked: month 1–12, a day that the
    month has, hour 0–23, minute and second 0–59.
    """
    m, size = c.shape
    out = np.zeros(m, dtype=np.int64)
    if size < 10:
        return out, np.ones(m, dtype=bool)
    shaped = digit[:, :4].all(axis=1) & (c[:, 4] == _ORD["-"])
    fast = shaped.copy()
    layout = size in (10, 13, 16, 19) or (size >= 21 and size <= 29)
    if not layout:
        fast[:] = False
    else:
        for col in range(min(size, 19)):
            if col in _SEPARATORS:
                ok = np.zeros(m, dtype=bool)
                for sep in _SEPARATORS[col]:
                    ok |= c[:, col] == sep[0]
                fast &= ok
            else:
                fast &= digit[:, col]
        if size > 19:
            fast &= c[:, 19] == ord(".")
            fast &= digit[:, 20:].all(axis=1)
    failed = ~shaped
    if fast.any():
        f = np.flatnonzero(fast)
        cf = c[f]

        def field(col: int, width: int) -> NDArray[np.int64]:
            value = np.zeros(f.shape[0], dtype=np.int64)
            for k in range(width):
                value = value * 10 + (cf[:, col + k].astype(np.int64) - _ORD["0"])
            return value

        year, month, day = field(0, 4), field(5, 2), field(8, 2)
        hour = field(11, 2) if size >= 13 else 0
        minute = field(14, 2) if size >= 16 else 0
        second = field(17, 2) if size >= 19 else 0
        millis = np.zeros(f.shape[0], dtype=np.int64)
        if size > 19:
            digits = min(size - 20, 3)
            millis = field(20, digits) * 10 ** (3 - digits)
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        month_ok = (month >= 1) & (month <= 12)
        days_in = np.where(month == 2, 28 + leap, 30 + ((np.clip(month, 1, 12) + (month >= 8)) % 2))
        valid = month_ok & (day >= 1) & (day <= days_in)
        valid &= (np.asarray(hour) <= 23) & (np.asarray(minute) <= 59) & (np.asarray(second) <= 59)
        # days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm)
        y = year - (month <= 2)
        era = np.floor_divide(y, 400)
        yoe = y - era * 400
        doy = _DAYS_BEFORE_MONTH[np.clip(month, 0, 12)] + day - 1
        doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
        days = era * 146_097 + doe - 719_468
        out[f] = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
        failed[f[~valid]] = True
    slow = np.flatnonzero(shaped & ~fast)
    if slow.shape[0]:
        text = c.view(f"S{size}").reshape(-1).copy()
        lower_t = (c[:, 10] == _ORD["t"]) if size > 10 else np.zeros(m, dtype=bool)
        if lower_t.any():
            fixed = c.copy()
            fixed[lower_t, 10] = _ORD["T"]
            text = fixed.view(f"S{size}").reshape(-1)
        _parse_naive_bisect(text, slow, out, failed)
    return out, failed


def _parse_naive_bisect(
    body: NDArray[Any],
    idx: NDArray[np.intp],
    out: NDArray[np.int64],
    failed: NDArray[np.bool_],
) -> None:
    """Parse naive ISO strings with numpy; on failure, halve to find the bad ones."""
    if idx.shape[0] == 0:
        return
    try:
        with warnings.catch_warnings():
            # numpy warns of a time zone in a value it then refuses ("…T08."): the
            # refusal below gives the reason, so the warning would only confuse.
            warnings.filterwarnings("ignore", "no explicit representation of timezones")
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
    """Format UTC milliseconds as ISO 8601 with ``Z`` (docs/contract.md's output form).

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


def format_local(
    when: int | str,
    tz: str | _dt.tzinfo | None = None,
    *,
    pattern: str = "%Y-%m-%d %H:%M:%S",
    show_zone: bool = True,
) -> str:
    """Format one instant as local wall-clock time for people to read.

    Parameters
    ----------
    when : int or str
        UTC milliseconds, or ISO 8601 text with an offset or ``Z``.
    tz : str or tzinfo, optional
        The zone to show (default :data:`DEFAULT_TZ`).
    pattern : str
        A :meth:`datetime.strftime` pattern.
    show_zone : bool
        Append the zone's name in brackets.

    Examples
    --------
    >>> format_local(1651449600000)
    '2022-05-02 08:00:00 (Asia/Shanghai)'
    >>> format_local("2022-05-02T00:00:00Z", pattern="%m-%d %H:%M", show_zone=False)
    '05-02 08:00'
    """
    ms = parse_time(when, tz=_dt.timezone.utc) if isinstance(when, str) else int(when)
    zone = resolve_zone(tz)
    moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=ms)
    text = f"{moment.astimezone(zone):{pattern}}"
    return f"{text} ({zone_name(zone)})" if show_zone else text


def zone_label(tz: str | _dt.tzinfo | None, lang: str = "en") -> str:
    """The zone as a reader names it: Beijing time (北京时间) for Asia/Shanghai.

    Examples
    --------
    >>> zone_label("Asia/Shanghai", "zh"), zone_label("UTC")
    ('北京时间', 'UTC')
    """
    name = zone_name(resolve_zone(tz))
    if name == DEFAULT_TZ:
        return "北京时间" if lang == "zh" else "Beijing time"
    return name
