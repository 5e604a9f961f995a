"""Risk persons: the spatiotemporal companion rule (时空伴随), reproduced and weighed.

A confirmed case's phone is a moving fence. The rule of 2022: a phone in the
same 800 m grid cell as a case's phone for 10 minutes is a companion. An 800 m
cell holds thousands of people, so :func:`companions` reproduces the rule
exactly (docs/domain.md, "Risk persons") and sets it against the evidence:
were the two phones ever really close?

- **Slots.** Time is cut into slots of ``policy.slot_s`` (60 s) on the Unix
  epoch. A track's position at a slot's end is known when its last ping is at
  most ``policy.hold_s`` (900 s) old, interpolated towards the next ping when
  that one is at most as far after, else held.
- **Grid.** Cells of ``policy.cell_m`` (800 m) in the Transverse Mercator frame
  at the grid origin (by default the centre of the cases' pings; every result
  says which origin it used). Grid minutes: slots with both positions known in
  one cell. The grid rule fires at ``policy.min_together_s`` (10 min) or more;
  ``grid_robust`` says whether it gives the same answer with the grid moved by
  half a cell in x, in y and in both.
- **Close.** Close minutes: slots with the two positions within
  ``policy.close_m`` (100 m). ``p_close``, the probability that they really
  were, with both location errors Gaussian (σ = accuracy / 1.5096 each), is
  ``scipy.stats.rice.cdf(close_m / σ, d / σ)`` with σ² the sum; credible
  minutes count slots with ``p_close >= policy.credible_p``.

The persons' positions are never stored slot by slot: a compiled kernel walks
their pings once, looks up the cases' positions (which are few) by slot and
cell, and only the pairs found are then measured over every common slot.

Examples
--------
>>> import numpy as np
>>> from fencecheck.pings import build_pings
>>> t = np.arange(0, 20 * 60_000, 60_000) + 1_651_370_400_000
>>> def table(who, dx):
...     return build_pings({"person_id": np.array([who] * 20, dtype=object), "t": t,
...                         "lon": 116.40 + dx + 0 * t, "lat": 39.90 + 0 * t,
...                         "accuracy_m": 10.0 + 0 * t}, epoch_unit="ms")
>>> person, case = table("P1", 0.0005), table("C1", 0.0)
>>> pairs = companions(person, case, grid_origin=(116.3, 39.8))
>>> pairs.table["grid_minutes"].tolist(), pairs.table["credible_minutes"].tolist()
([34.0], [34.0])
>>> round(float(pairs.table["min_distance_m"][0])), pairs.table["grid_rule"].tolist()
(43, [True])

Twenty fixes a minute apart, then the last one held for 15 minutes: 34 slots.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fencecheck._compiled.companions import candidate_pairs, pair_statistics, track_positions
from fencecheck.errors import DataError, OptionError
from fencecheck.frame import MetricFrame
from fencecheck.pings import PingTable
from fencecheck.policy import Policy
from fencecheck.tables import NO_TIME, Table

__all__ = ["PAIR_COLUMNS", "Companions", "companions", "parse_grid_origin", "rice_cdf"]

PAIR_COLUMNS = (
    "person_id",
    "case_id",
    "grid_minutes",
    "close_minutes",
    "credible_minutes",
    "min_distance_m",
    "first_together",
    "last_together",
    "grid_rule",
    "grid_robust",
    "max_p_close",
    "first_close",
    "last_close",
)
"""The pair table's columns (docs/contract.md's, then ``max_p_close`` and the close span)."""
_SIGMA_PER_ACCURACY = 1.5096


@dataclass(frozen=True)
class Companions:
    """The (person, case) pairs with any grid or close minute, and how they were found.

    Attributes
    ----------
    table : Table
        One row per pair, :data:`PAIR_COLUMNS` (minutes as numbers, times as UTC
        milliseconds, ``first_together`` and ``last_together`` in ``times``).
    grid_origin : (float, float)
        The grid's origin (lon, lat, WGS-84).
    policy : Policy
        The thresholds used.
    person_code, case_code : ndarray of int32
        Each row's person and case codes (in the pings' and the cases' registries).
    windows : (ndarray, ndarray), optional
        The slot ends counted per person code, when not every slot was.
    """

    table: Table
    grid_origin: tuple[float, float]
    policy: Policy
    person_code: NDArray[np.int32]
    case_code: NDArray[np.int32]
    windows: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None

    def __len__(self) -> int:
        return len(self.table)

    def __repr__(self) -> str:
        fired = int(np.sum(self.table["grid_rule"])) if len(self) else 0
        return (
            f"<Companions: {len(self)} pairs, grid rule fired for {fired}; grid origin "
            f"{self.grid_origin[0]:.6f}, {self.grid_origin[1]:.6f}>"
        )

    def to_pandas(self) -> Any:
        """The pair table as a DataFrame (times tz-aware UTC)."""
        return self.table.to_pandas()


def companions(
    pings: PingTable,
    cases: PingTable,
    *,
    grid_origin: tuple[float, float] | str | None = None,
    policy: Policy | None = None,
    windows: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> Companions:
    """Every (person, case) pair with a grid or close minute, measured as the rule says.

    Parameters
    ----------
    pings : PingTable
        The people's pings.
    cases : PingTable
        The confirmed cases' pings (``person_id`` is the case id), over the risk
        period the caller chose.
    grid_origin : (lon, lat) or "LON,LAT", optional
        The grid's origin (WGS-84); by default the centre of the cases' pings.
    policy : Policy, optional
        ``slot_s``, ``hold_s``, ``cell_m``, ``min_together_s``, ``close_m`` and
        ``credible_p`` are used.
    windows : (ndarray, ndarray), optional
        Per person code, the slot ends counted, ``(lo, hi]`` in UTC milliseconds
        (``explain`` and ``scan`` pass each person's lookback). By default every
        slot of the two files counts.

    Raises
    ------
    DataError
        When a case id is also a person id.
    OptionError
        For a grid origin that is not a lon/lat pair.
    """
    policy = Policy() if policy is None else policy
    present = pings.persons.ids()[np.unique(pings.person)]
    shared = set(present.tolist()) & set(cases.persons.ids()[np.unique(cases.person)].tolist())
    if shared:
        raise DataError(
            f"case id {sorted(shared)[0]!r} is also a person id in the pings; "
            "give cases ids of their own",
            source=cases.origin,
            field="person_id",
        )
    origin = _origin(grid_origin, cases)
    frame = MetricFrame(*origin)
    slot_ms = round(policy.slot_s * 1000)
    hold_ms = round(policy.hold_s * 1000)
    big = np.iinfo(np.int64).max // 4

    person, t, x, y, acc = _track(pings, frame)
    n_people = len(pings.persons)
    if windows is None:
        lo, hi = np.full(n_people, -big, dtype=np.int64), np.full(n_people, big, dtype=np.int64)
    else:
        lo, hi = windows
    n_cases = len(cases.persons)
    prepared = _case_positions(cases, origin, slot_ms, hold_ms, float(policy.cell_m))
    owner, e, cx, cy, cacc, e0, keys, slot_start, by_key = prepared
    if e.shape[0] == 0 or t.shape[0] == 0:
        return _result([], origin, policy, pings, cases, windows)
    pair_person, pair_case = candidate_pairs(
        person, t, x, y, acc, lo, hi,
        keys, slot_start, owner[by_key], cx[by_key], cy[by_key], n_cases,
        e0, slot_ms, hold_ms, float(policy.cell_m), float(policy.close_m),
    )  # fmt: skip
    if pair_person.shape[0] == 0:
        return _result([], origin, policy, pings, cases, windows)
    order = np.lexsort((pair_case, pair_person))
    pair_person, pair_case = pair_person[order], pair_case[order]
    person_start = _starts(person, n_people)
    case_start = _starts(owner, n_cases)
    stats = pair_statistics(
        pair_person, pair_case, person_start, t, x, y, acc, lo, hi,
        case_start, e, cx, cy, cacc,
        slot_ms, hold_ms, float(policy.cell_m), float(policy.close_m),
    )  # fmt: skip
    grid, close, min_d, first, last, first_close, last_close, close_pair, close_d, close_s2 = stats
    sigma = np.sqrt(close_s2)
    p_close = rice_cdf(policy.close_m / sigma, close_d / sigma)
    credible = np.bincount(close_pair[p_close >= policy.credible_p], minlength=pair_person.shape[0])
    best_p = np.zeros(pair_person.shape[0])
    np.maximum.at(best_p, close_pair, p_close)
    minute = policy.slot_s / 60.0
    need = policy.min_together_s / policy.slot_s
    fires = grid >= need - 1e-9
    rows = {
        "person": pair_person,
        "case": pair_case,
        "grid_minutes": grid[:, 0] * minute,
        "close_minutes": close * minute,
        "credible_minutes": credible * minute,
        "min_distance_m": min_d,
        "first_together": np.where(first >= 0, first, NO_TIME),
        "last_together": np.where(last >= 0, last, NO_TIME),
        "grid_rule": fires[:, 0],
        "grid_robust": (fires == fires[:, :1]).all(axis=1),
        "max_p_close": best_p,
        "first_close": np.where(first_close >= 0, first_close, NO_TIME),
        "last_close": np.where(last_close >= 0, last_close, NO_TIME),
    }
    return _result([rows], origin, policy, pings, cases, windows)


_CASE_CACHE: dict[tuple[int, tuple[float, float], int, int, float], tuple[Any, ...]] = {}


def _case_positions(
    cases: PingTable, origin: tuple[float, float], slot_ms: int, hold_ms: int, cell_m: float
) -> tuple[Any, ...]:
    """The cases' slot positions, their (slot, cell) keys sorted, made once per cases table.

    Cases are few and judged against person after person (one ``explain`` at a
    time, or batch after batch of a scan): their positions are kept, for the
    same table object and the same rule, while that object lives.
    """
    key = (id(cases), origin, slot_ms, hold_ms, cell_m)
    cached = _CASE_CACHE.get(key)
    if cached is not None and cached[0]() is cases:
        return cached[1:]
    frame = MetricFrame(*origin)
    big = np.iinfo(np.int64).max // 4
    n_cases = len(cases.persons)
    owner, t, x, y, acc = _track(cases, frame)
    owner, e, cx, cy, cacc = track_positions(
        owner, t, x, y, acc,
        np.full(n_cases, -big, dtype=np.int64), np.full(n_cases, big, dtype=np.int64),
        slot_ms, hold_ms,
    )  # fmt: skip
    e0 = int(e.min()) if e.shape[0] else 0
    if e.shape[0] and (int(e.max()) - e0) // slot_ms >= 1 << 20:
        raise OptionError(
            "cases: their pings span more than a million slots; select the risk period"
        )
    keys = _keys(e, cx, cy, e0, slot_ms, cell_m)
    by_key = np.argsort(keys, kind="stable")
    sorted_keys = keys[by_key]
    n_slots = int(sorted_keys[-1] >> 42) + 1 if sorted_keys.shape[0] else 0
    slot_start = np.searchsorted(sorted_keys >> 42, np.arange(n_slots + 1)).astype(np.int64)
    prepared = (owner, e, cx, cy, cacc, e0, sorted_keys, slot_start, by_key)
    for stale in [k for k, v in _CASE_CACHE.items() if v[0]() is None]:
        del _CASE_CACHE[stale]  # their tables are gone: let their positions go too
    if len(_CASE_CACHE) >= 8:
        _CASE_CACHE.clear()
    _CASE_CACHE[key] = (weakref.ref(cases), *prepared)
    return prepared


def rice_cdf(r: NDArray[np.float64], nu: NDArray[np.float64]) -> NDArray[np.float64]:
    """``scipy.stats.rice.cdf(r, nu)``: P(|Z| <= r) for a 2-D unit Gaussian Z at distance nu.

    Examples
    --------
    >>> round(float(rice_cdf(np.array([1.0]), np.array([0.0]))[0]), 6)  # 1 - exp(-1/2)
    0.393469
    """
    from scipy.stats import rice

    return np.asarray(rice.cdf(np.asarray(r, dtype=np.float64), np.asarray(nu, dtype=np.float64)))


def parse_grid_origin(value: object) -> tuple[float, float]:
    """A grid origin from ``(lon, lat)`` or ``"LON,LAT"``, checked.

    Examples
    --------
    >>> parse_grid_origin("116.4,39.9")
    (116.4, 39.9)
    >>> parse_grid_origin("39.9")
    Traceback (most recent call last):
    ...
    fencecheck.errors.OptionError: grid origin: '39.9' is not a lon,lat pair (such as 116.40,39.90)
    """
    try:
        if isinstance(value, str):
            parts = [float(v) for v in value.replace(" ", "").split(",")]
        else:
            parts = [float(v) for v in value]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        parts = []
    if len(parts) != 2 or not all(np.isfinite(parts)):
        raise OptionError(f"grid origin: {value!r} is not a lon,lat pair (such as 116.40,39.90)")
    lon, lat = parts
    if not (-180 <= lon <= 180 and -85 <= lat <= 85):
        raise OptionError(f"grid origin: {value!r} is outside lon [-180, 180] / lat [-85, 85]")
    return lon, lat


def _origin(value: object, cases: PingTable) -> tuple[float, float]:
    if value is not None:
        return parse_grid_origin(value)
    if len(cases) == 0:
        return 0.0, 0.0
    return (
        round(float(cases.lon.min() + cases.lon.max()) / 2, 6),
        round(float(cases.lat.min() + cases.lat.max()) / 2, 6),
    )


def _track(table: PingTable, frame: MetricFrame) -> tuple[NDArray[Any], ...]:
    """Owner, time, x, y, accuracy by owner and time; of equal times, the last row only."""
    order = np.lexsort((table.row, table.t, table.person))
    owner, t = table.person[order].astype(np.int64), table.t[order]
    last = np.ones(order.shape[0], dtype=bool)
    last[:-1] = (owner[1:] != owner[:-1]) | (t[1:] != t[:-1])
    order = order[last]
    x, y = frame.to_xy(table.lon[order], table.lat[order])
    return (
        table.person[order].astype(np.int64),
        table.t[order],
        np.ascontiguousarray(x),
        np.ascontiguousarray(y),
        table.accuracy_m[order].astype(np.float64),
    )


def _keys(
    e: NDArray[np.int64], x: NDArray[np.float64], y: NDArray[np.float64], e0: int, slot_ms: int,
    cell_m: float,
) -> NDArray[np.int64]:  # fmt: skip
    """The (slot, cell) key of each position, as the kernel computes it."""
    cx = np.floor(x / cell_m).astype(np.int64)
    cy = np.floor(y / cell_m).astype(np.int64)
    return ((e - e0) // slot_ms) * (1 << 42) + (cx + (1 << 20)) * (1 << 21) + (cy + (1 << 20))


def _starts(owner: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Where each owner's rows start in ``owner`` (sorted), with the end appended."""
    return np.searchsorted(owner, np.arange(n + 1)).astype(np.int64)


def _result(
    parts: list[dict[str, Any]],
    origin: tuple[float, float],
    policy: Policy,
    pings: PingTable,
    cases: PingTable,
    windows: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
) -> Companions:
    if parts:
        rows = parts[0]
        person, case = rows.pop("person"), rows.pop("case")
    else:
        person = case = np.zeros(0, dtype=np.int64)
        rows = {
            "grid_minutes": np.zeros(0), "close_minutes": np.zeros(0),
            "credible_minutes": np.zeros(0), "min_distance_m": np.zeros(0),
            "first_together": np.zeros(0, dtype=np.int64),
            "last_together": np.zeros(0, dtype=np.int64),
            "grid_rule": np.zeros(0, dtype=bool), "grid_robust": np.zeros(0, dtype=bool),
            "max_p_close": np.zeros(0),
            "first_close": np.zeros(0, dtype=np.int64),
            "last_close": np.zeros(0, dtype=np.int64),
        }  # fmt: skip
    columns = {
        "person_id": pings.persons.ids()[person].astype(object),
        "case_id": cases.persons.ids()[case].astype(object),
        **rows,
    }
    table = Table(
        {name: columns[name] for name in PAIR_COLUMNS},
        times=("first_together", "last_together", "first_close", "last_close"),
    )
    return Companions(
        table=table,
        grid_origin=origin,
        policy=policy,
        person_code=person.astype(np.int32),
        case_code=case.astype(np.int32),
        windows=windows,
    )
