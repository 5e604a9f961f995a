"""Upstream mistakes: a time-zone slip or a datum mix-up that reproduces a pop-up, and how sure.

A person with no hit in their lookback may still have been flagged by a system
that read their data, or the fences, wrongly. :func:`upstream_mistakes` applies
each mistake to our (right) data and keeps, per person, the first one that
reproduces a hit, in this order (docs/domain.md, section 4):

- naive local times read as UTC (the times seen later by the zone's offset),
  then UTC read as local time (earlier);
- fences drawn in GCJ-02 read as WGS-84 (the common mistake with a fence drawn
  on an Amap or Tencent map), then the reverse; pings likewise.

A chance alignment is not a cause. Before a mistake is named as *the* cause,
the same kind of error is tried in ways the mistake could not have made, and
the mistake is **specific** only when at most ``policy.mistake_share`` of those
alternatives reproduce a hit too:

- a zone slip: every other whole-hour shift from -12 h to +12 h (22 for
  Beijing, whose slips are +8 h and -8 h). A fix a little before a fence's
  multi-day window opens is brought into it by many shifts, so a slip of 8 h
  is then not specific;
- a datum mix-up: the same displacement, as long, turned into 16 other
  directions (evenly spaced). A trajectory drawn as a string of small fences
  is hit by a displacement in almost any direction.

The evidence carries the figures (``alternatives``, ``alternatives_hit``,
``specific``); a report says "possibly" when the mistake is not specific, and
the verdict stays what it is.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> v = fc.judging.judge(fc.read_pings("data/samples/pings.csv"), index)
>>> p05 = v.upstream[list(v.person_ids()).index("P05")]
>>> p05["how"], p05["shift"] / 3_600_000, p05["specific"], p05["alternatives"]
('local times read as UTC', 8.0, True, 22)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck.datums import gcj02_to_wgs84, wgs84_to_gcj02
from fencecheck.fences import FenceSet
from fencecheck.hits import Hits
from fencecheck.index import FenceIndex
from fencecheck.matching import match
from fencecheck.options import MatchMode
from fencecheck.pings import PingTable
from fencecheck.policy import Policy
from fencecheck.times import local_ms_to_utc, resolve_zone

__all__ = ["DATUM_MISTAKES", "DIRECTIONS", "upstream_mistakes"]

DATUM_MISTAKES: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    ("fences in GCJ-02 read as WGS-84", "fences", wgs84_to_gcj02),
    ("fences in WGS-84 read as GCJ-02", "fences", gcj02_to_wgs84),
    ("pings in GCJ-02 read as WGS-84", "pings", wgs84_to_gcj02),
    ("pings in WGS-84 read as GCJ-02", "pings", gcj02_to_wgs84),
)
"""The datum mistakes tried, in order: how it is said, what it moves, and the
conversion that gives where the mistaken system saw our (right) WGS-84 data."""
DIRECTIONS = 16
"""Other directions a datum mix-up's displacement is turned into, to test it is specific."""
_HOUR_MS = 3_600_000
_DATUM_REACH_M = 1500.0  # beyond the largest GCJ-02 offset in China (about 700 m), with room


class _Trial:
    """The people without a hit, their pings, and how to find a reproduced hit in a lookback."""

    def __init__(
        self,
        pings: PingTable,
        people: NDArray[np.int32],
        person_at: NDArray[np.int64],
        span_ms: int,
        mode: MatchMode | str,
        xy: tuple[NDArray[np.float64], NDArray[np.float64]],
    ) -> None:
        mine = np.isin(pings.person, people)
        self.mode = mode
        self.span_ms = span_ms
        self.subset = pings.take(mine)
        self.x, self.y = xy[0][mine], xy[1][mine]
        self.at_by_code = np.full(int(people.max()) + 1, np.iinfo(np.int64).min)
        self.at_by_code[people] = person_at
        self.by_row = np.argsort(self.subset.row, kind="stable")

    def hits(
        self,
        shifted: PingTable,
        idx: FenceIndex,
        fence_of: NDArray[np.int64] | None = None,
        xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
        evidence: bool = True,
    ) -> tuple[Hits, NDArray[np.int64], NDArray[np.int64]]:
        """The mistaken data's hits in each person's lookback (on our right times).

        Returns the hits (fences as positions of the real index), each hit's
        position in ``subset``, and the rows of the hits kept.
        """
        found = match(shifted, idx, mode=self.mode, xy=xy, evidence=evidence)
        if fence_of is not None:
            found = replace(found, fence=fence_of[found.fence])
        position = self.by_row[np.searchsorted(self.subset.row, found.ping, sorter=self.by_row)]
        when = self.subset.t[position]
        at = self.at_by_code[found.person]
        keep = np.flatnonzero((when <= at) & (when >= at - self.span_ms))
        return found, position, keep

    def people_hit_each(
        self,
        variants: list[tuple[PingTable, tuple[NDArray[np.float64], NDArray[np.float64]]]],
        idx: FenceIndex,
    ) -> list[set[int]]:
        """Per variant of the pings (each with its frame positions), the people it gives a hit.

        All the variants are matched in one call: each copy's rows are offset by a
        stride, which says afterwards which variant a hit came from.
        """
        stride = int(self.subset.row.max(initial=0)) + 1
        joined = PingTable.concat(
            [replace(p, row=p.row + k * stride) for k, (p, _) in enumerate(variants)]
        )
        xy = (
            np.concatenate([v[1][0] for v in variants]),
            np.concatenate([v[1][1] for v in variants]),
        )
        found = match(joined, idx, mode=self.mode, xy=xy, evidence=False)
        which, row = np.divmod(found.ping, stride)
        position = self.by_row[np.searchsorted(self.subset.row, row, sorter=self.by_row)]
        when = self.subset.t[position]
        at = self.at_by_code[found.person]
        keep = (when <= at) & (when >= at - self.span_ms)
        return [
            set(np.unique(found.person[keep & (which == k)]).tolist()) for k in range(len(variants))
        ]

    def people_hit_by_fence_copy(
        self,
        pings: PingTable,
        xy: tuple[NDArray[np.float64], NDArray[np.float64]],
        idx: FenceIndex,
        copies: int,
    ) -> list[set[int]]:
        """Per copy of the fences (``idx`` holds ``copies`` equal runs), the people hit."""
        found, _, keep = self.hits(pings, idx, xy=xy, evidence=False)
        per_copy = len(idx.fences) // copies
        which = found.fence[keep] // per_copy
        person = found.person[keep]
        return [set(np.unique(person[which == k]).tolist()) for k in range(copies)]


def upstream_mistakes(
    pings: PingTable,
    index: FenceIndex,
    people: NDArray[np.int32],
    person_at: NDArray[np.int64],
    span_ms: int,
    mode: MatchMode | str,
    xy: tuple[NDArray[np.float64], NDArray[np.float64]],
    policy: Policy,
) -> list[dict[str, Any] | None]:
    """For people without a hit, the first upstream mistake that reproduces one, or None.

    The evidence is the reproduced hit with the best ``p_inside``: ``reason``,
    ``how``, ``shift`` (milliseconds, or metres) and ``unit``; ``fence``
    (position); ``t`` (when the mistaken data has the fix) and ``t_right``
    (when it really was); ``ping`` (its row); ``p_inside`` and ``depth_m`` of
    the reproduced hit; ``distance_m``, how far the fix really was from that
    fence; ``moved_to`` (for a datum mix-up, the compass direction the mistake
    moved the fence or the fix); ``first_t``, the right time of the first ping
    whose mistaken version hits; and ``alternatives``, ``alternatives_hit`` and
    ``specific`` (see the module docstring).
    """
    if people.shape[0] == 0:
        return []
    trial = _Trial(pings, people, person_at, span_ms, mode, xy)
    subset = trial.subset
    found: dict[int, dict[str, Any]] = {}
    tries: list[tuple[str, Callable[[set[int]], list[set[int]]]]] = []

    def record(
        reason: str,
        how: str,
        shifted: PingTable,
        idx: FenceIndex,
        shift: NDArray[Any],
        unit: str,
        moved: NDArray[np.float64] | None = None,
        fence_of: NDArray[np.int64] | None = None,
        xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    ) -> None:
        """Keep, per person not yet explained, their best reproduced hit.

        ``moved`` holds the displacement (metres, x and y) of each fence (unit
        ``fence_m``) or ping (unit ``m``); ``fence_of`` maps the positions of
        ``idx``'s fences to ``index``'s.
        """
        hits, position, keep = trial.hits(shifted, idx, fence_of, xy)
        order = keep[np.lexsort((hits.t[keep], -hits.p_inside[keep], hits.person[keep]))]
        first = np.ones(order.shape[0], dtype=bool)
        first[1:] = hits.person[order][1:] != hits.person[order][:-1]
        when = subset.t[position]
        codes, slot = np.unique(hits.person[keep], return_inverse=True)
        soonest = np.full(codes.shape[0], np.iinfo(np.int64).max)
        np.minimum.at(soonest, slot.reshape(-1), when[keep])
        earliest = dict(zip(codes.tolist(), soonest.tolist(), strict=True))
        for k in order[first].tolist():
            code = int(hits.person[k])
            if code in found:
                continue
            fence = int(hits.fence[k])
            which = fence if unit == "fence_m" else int(position[k])
            evidence = {
                "reason": reason,
                "how": how,
                "shift": float(shift[which]),
                "unit": "ms" if unit == "ms" else "m",
                "fence": fence,
                "t": int(hits.t[k]),
                "t_right": int(when[k]),
                "ping": int(hits.ping[k]),
                "p_inside": float(hits.p_inside[k]),
                "depth_m": float(hits.depth_m[k]),
                "first_t": earliest[code],
                "_position": int(position[k]),
            }
            if moved is not None:
                evidence["moved_to"] = compass(float(moved[which, 0]), float(moved[which, 1]))
            found[code] = evidence

    # Our instants are right; a system that took naive local times for UTC saw them
    # later by the zone's offset, one that took UTC for local time saw them earlier.
    zone = resolve_zone(pings.tz)
    accuracy = subset.accuracy_m.astype(np.float64)
    near_pings = _near_any_fence(index, trial.x, trial.y, accuracy)
    if near_pings.any():
        some = subset.take(near_pings)
        some_xy = (trial.x[near_pings], trial.y[near_pings])
        early = local_ms_to_utc(some.t, zone)
        late = 2 * some.t - early
        shift_late = np.zeros(len(subset), dtype=np.int64)
        shift_late[near_pings] = late - some.t
        record("timezone_shift", "local times read as UTC", replace(some, t=late), index,
               shift_late, "ms", xy=some_xy)  # fmt: skip
        record("timezone_shift", "UTC times read as local time", replace(some, t=early), index,
               -shift_late, "ms", xy=some_xy)  # fmt: skip

        def other_hours(codes: set[int]) -> list[set[int]]:
            slips = {round(abs(found[c]["shift"]) / _HOUR_MS) for c in codes}
            hours = [h for h in range(-12, 13) if h != 0 and abs(h) not in slips]
            mine = np.isin(some.person, list(codes))
            theirs, xy = some.take(mine), (some_xy[0][mine], some_xy[1][mine])
            return trial.people_hit_each(
                [(replace(theirs, t=theirs.t + h * _HOUR_MS), xy) for h in hours], index
            )

        tries.append(("timezone_shift", other_hours))

    # Only fences that a datum mix-up (at most ~1 km in China) could bring to a ping.
    reach = _DATUM_REACH_M + float(subset.accuracy_m.max(initial=0))
    near = _fences_near(index, trial.x, trial.y, reach)
    if near.shape[0]:
        fences = index.fences.take(near)
        centre = shapely.centroid(fences.geometry)
        cx, cy = shapely.get_x(centre), shapely.get_y(centre)
        (ax, ay) = index.frame.to_xy(cx, cy)
        for how, what, convert in DATUM_MISTAKES:
            if what != "fences":
                continue
            moved_geometry = shapely.transform(
                fences.geometry, lambda c, f=convert: np.column_stack(f(c[:, 0], c[:, 1]))
            )
            other = FenceIndex(replace(fences, geometry=moved_geometry), index.frame)
            bx, by = index.frame.to_xy(*convert(cx, cy))
            displacement = np.zeros((len(index.fences), 2))
            displacement[near] = np.column_stack([bx - ax, by - ay])
            record("datum_shift", how, subset, other, np.hypot(*displacement.T), "fence_m",
                   displacement, near)  # fmt: skip

        def fences_turned(codes: set[int]) -> list[set[int]]:
            hows = {found[c]["how"] for c in codes}
            convert = next(f for h, w, f in DATUM_MISTAKES if h in hows and w == "fences")
            bx, by = index.frame.to_xy(*convert(cx, cy))
            d = np.column_stack([bx - ax, by - ay])
            # Only these people's pings that a fence moved this far, any way, could reach.
            reach = accuracy + float(np.hypot(*d.T).max(initial=0.0)) + 1.0
            mine = np.isin(subset.person, list(codes)) & _near_any_fence(
                index, trial.x, trial.y, reach
            )
            turned = [_turn(d, k) for k in range(1, DIRECTIONS + 1)]
            copies = _translated(index, near, turned)
            return trial.people_hit_by_fence_copy(
                subset.take(mine), (trial.x[mine], trial.y[mine]), copies, DIRECTIONS
            )

        tries.append(("datum_shift:fences", fences_turned))
    for how, what, convert in DATUM_MISTAKES:
        if what != "pings":
            continue
        lon, lat = convert(subset.lon, subset.lat)
        x1, y1 = index.frame.to_xy(lon, lat)
        d = np.column_stack([x1 - trial.x, y1 - trial.y])
        record("datum_shift", how, replace(subset, lon=lon, lat=lat), index,
               np.hypot(*d.T), "m", d, xy=(x1, y1))  # fmt: skip

    def pings_turned(codes: set[int]) -> list[set[int]]:
        hows = {found[c]["how"] for c in codes}
        convert = next(f for h, w, f in DATUM_MISTAKES if h in hows and w == "pings")
        x1, y1 = index.frame.to_xy(*convert(subset.lon, subset.lat))
        d = np.column_stack([x1 - trial.x, y1 - trial.y])
        # Only these people's pings that a move of this length, any way, could bring to a fence.
        reach = accuracy + np.hypot(*d.T) + 1.0
        mine = np.isin(subset.person, list(codes)) & _near_any_fence(index, trial.x, trial.y, reach)
        some, x0, y0, d = subset.take(mine), trial.x[mine], trial.y[mine], d[mine]
        variants = []
        for k in range(1, DIRECTIONS + 1):
            turned = _turn(d, k)
            variants.append((some, (x0 + turned[:, 0], y0 + turned[:, 1])))
        return trial.people_hit_each(variants, index)

    tries.append(("datum_shift:pings", pings_turned))
    _judge_specificity(found, tries, policy)
    _measure_distances(found, index, trial)
    return [found.get(int(code)) for code in people.tolist()]


def _judge_specificity(
    found: dict[int, dict[str, Any]],
    tries: list[tuple[str, Callable[[set[int]], list[set[int]]]]],
    policy: Policy,
) -> None:
    """Try each found mistake's alternatives, and say whether the mistake is specific."""
    for name, alternatives_of in tries:
        reason, _, what = name.partition(":")
        for how in sorted({e["how"] for e in found.values()}):
            codes = {
                c
                for c, e in found.items()
                if e["reason"] == reason and e["how"] == how and (not what or what in how)
            }
            if not codes:
                continue
            outcomes = alternatives_of(codes)
            for code in codes:
                hit = sum(code in people for people in outcomes)
                found[code]["alternatives"] = len(outcomes)
                found[code]["alternatives_hit"] = hit
                found[code]["specific"] = hit <= policy.mistake_share * len(outcomes)


def _measure_distances(found: dict[int, dict[str, Any]], index: FenceIndex, trial: _Trial) -> None:
    """How far each evidence fix really was from the (real) fence the mistake put it in."""
    for evidence in found.values():
        k = evidence.pop("_position")
        point = shapely.Point(float(trial.x[k]), float(trial.y[k]))
        geometry = index.geometry[evidence["fence"]]
        evidence["distance_m"] = float(shapely.distance(geometry, point))


def _turn(d: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Displacements turned by k of ``DIRECTIONS + 1`` equal steps (k = 0 is the real one)."""
    angle = 2.0 * math.pi * k / (DIRECTIONS + 1)
    c, s = math.cos(angle), math.sin(angle)
    return np.column_stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1]])


def _translated(
    index: FenceIndex, near: NDArray[np.int64], moves: list[NDArray[np.float64]]
) -> FenceIndex:
    """One index with a copy of the ``near`` fences per move, each moved by its own displacement.

    Copy ``k`` is fences ``k * len(near)`` on, in the index's frame.
    """
    geometry = index.geometry[near]
    coords, which = shapely.get_coordinates(geometry, return_index=True)
    copies = [shapely.set_coordinates(geometry.copy(), coords + d[which]) for d in moves]
    fences = FenceSet.concat([index.fences.take(near)] * len(moves), unique_ids=False)
    return FenceIndex(fences, index.frame, geometry=np.concatenate(copies))


def compass(dx: float, dy: float) -> str:
    """The compass direction of a displacement, in eight points (``"north-east"``).

    Examples
    --------
    >>> compass(0.0, 5.0), compass(-3.0, -3.0), compass(10.0, -1.0)
    ('north', 'south-west', 'east')
    """
    names = (
        "east",
        "north-east",
        "north",
        "north-west",
        "west",
        "south-west",
        "south",
        "south-east",
    )
    angle = math.degrees(math.atan2(dy, dx)) % 360.0
    return names[int((angle + 22.5) // 45.0) % 8]


def _near_any_fence(
    index: FenceIndex, x: NDArray[np.float64], y: NDArray[np.float64], reach: NDArray[np.float64]
) -> NDArray[np.bool_]:
    """Which points come near some live fence's grown box (within their reach), at any time."""
    point, _ = index.point_candidates(x, y, reach)
    near = np.zeros(x.shape[0], dtype=bool)
    near[point] = True
    return near


def _fences_near(
    index: FenceIndex, x: NDArray[np.float64], y: NDArray[np.float64], reach_m: float
) -> NDArray[np.int64]:
    """Live fences whose grown box comes within ``reach_m`` of a point, at any time."""
    if x.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    # one box per 250 m cell the points fall in: a still phone is one box, not thousands
    fx = np.floor(x / 250.0).astype(np.int64)
    fy = np.floor(y / 250.0).astype(np.int64)
    key = np.unique((fx << 32) + (fy - fy.min()))  # one int64 per cell: a fast unique
    cells = np.column_stack([key >> 32, (key & 0xFFFFFFFF) + fy.min()]).astype(np.float64)
    lo = cells * 250.0 - reach_m
    hi = (cells + 1) * 250.0 + reach_m
    big = 1e13
    mins = np.column_stack([lo, np.full(cells.shape[0], -big)])
    maxs = np.column_stack([hi, np.full(cells.shape[0], big)])
    _, windows = index.candidates(mins, maxs)
    fences = np.unique(index.fences.window_fence[windows])
    return np.asarray(fences[index.alive[fences]], dtype=np.int64)
