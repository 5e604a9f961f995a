"""Near misses: the fences that came closest to a person without a hit.

For a person's pings in their lookback, every live fence within
``policy.near_miss_radius_m`` of one of them (at any time) is a near miss, at
the smallest distance from a ping to the fence grown by its margin (0 when a
ping lies in it but outside its windows), with the time from that ping to the
fence's nearest window (negative before the window opened, positive after it
closed, 0 inside it). Ties on distance go to the smaller time gap, then to the
fence that comes first in the fence set. The nearest ``policy.near_misses``
are kept per person.

Everything is computed for many people at once, block by block of pings, so
that the candidate pairs never outgrow a block; ``explain`` and ``scan`` share it.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> code = pings.persons.code("008")
>>> at = int(pings.t[pings.person == code].max())
>>> misses = near_misses(pings, index, np.array([code]), np.array([at]), 14 * 86_400_000)
>>> misses.fence_ids()[0], round(float(misses.distance_m[0]))
('F-precaution-1', 886)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck.policy import Policy

if TYPE_CHECKING:
    from fencecheck.index import FenceIndex
    from fencecheck.pings import PingTable

__all__ = ["NearMisses", "near_misses"]

_BLOCK_PINGS = 50_000


@dataclass(frozen=True)
class NearMisses:
    """Near misses as columns, ordered by person, then distance, then time gap.

    Attributes
    ----------
    person : ndarray of int32
        Person code.
    fence : ndarray of int64
        Fence position in the index.
    distance_m : ndarray of float64
        Smallest distance from one of the person's pings to the grown fence.
    time_gap_ms : ndarray of int64
        From that ping to the fence's nearest window (negative: before it opened).
    t : ndarray of int64
        That ping's time (UTC milliseconds).
    fence_lookup : ndarray of object
        Fence ids by position.
    """

    person: NDArray[np.int32]
    fence: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    time_gap_ms: NDArray[np.int64]
    t: NDArray[np.int64]
    fence_lookup: NDArray[np.object_]

    def __len__(self) -> int:
        return int(self.person.shape[0])

    def fence_ids(self) -> NDArray[np.object_]:
        """Each row's fence id."""
        ids: NDArray[np.object_] = self.fence_lookup[self.fence]
        return ids

    def first_per_person(self) -> NDArray[np.int64]:
        """The row of each person's nearest miss."""
        first = np.ones(len(self), dtype=bool)
        first[1:] = self.person[1:] != self.person[:-1]
        return np.flatnonzero(first)


def near_misses(
    pings: PingTable,
    index: FenceIndex,
    people: NDArray[np.int32],
    at: NDArray[np.int64],
    span_ms: int,
    policy: Policy | None = None,
    *,
    xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> NearMisses:
    """The nearest misses of some people (codes ``people``, judged at ``at``).

    Parameters
    ----------
    pings : PingTable
        Pings of (at least) these people.
    index : FenceIndex
        The fences.
    people, at : ndarray
        Person codes and the moment each is judged at (UTC milliseconds).
    span_ms : int
        The lookback before ``at``.
    policy : Policy, optional
        ``near_miss_radius_m`` and ``near_misses`` are used.
    xy : (ndarray, ndarray), optional
        All the pings already in the index's frame.
    """
    policy = Policy() if policy is None else policy
    size = int(max(people.max(initial=-1), pings.person.max(initial=-1))) + 1
    at_by_code = np.full(size, np.iinfo(np.int64).min)
    at_by_code[people] = at
    judged = np.zeros(size, dtype=bool)
    judged[people] = True
    mine = judged[pings.person]
    when = at_by_code[pings.person]
    sel = np.flatnonzero(mine & (pings.t <= when) & (pings.t >= when - span_ms))
    parts = [
        _block_misses(pings, index, sel[k : k + _BLOCK_PINGS], policy.near_miss_radius_m, xy)
        for k in range(0, sel.shape[0], _BLOCK_PINGS)
    ]
    columns = [np.concatenate(c) for c in zip(*parts, strict=True)] if parts else None
    if columns is None:
        empty = np.zeros(0, dtype=np.int64)
        columns = [empty.astype(np.int32), empty, np.zeros(0), empty, empty]
    person, fence, gap_m, dt, t = _best_per_pair(*columns, n_fences=len(index.fences))
    # nearest first per person, then keep the first few
    order = np.lexsort((fence, np.abs(dt), gap_m, person))
    person, fence, gap_m, dt, t = (c[order] for c in (person, fence, gap_m, dt, t))
    first = np.ones(person.shape[0], dtype=bool)
    first[1:] = person[1:] != person[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(person.shape[0]), 0))
    keep = np.arange(person.shape[0]) - group_start < int(policy.near_misses)
    return NearMisses(
        person=person[keep].astype(np.int32),
        fence=fence[keep].astype(np.int64),
        distance_m=gap_m[keep].astype(np.float64),
        time_gap_ms=dt[keep].astype(np.int64),
        t=t[keep].astype(np.int64),
        fence_lookup=index.fences.ids,
    )


def _block_misses(
    pings: PingTable,
    index: FenceIndex,
    sel: NDArray[np.int64],
    radius_m: float,
    xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
) -> tuple[NDArray[Any], ...]:
    """Candidate (person, fence) misses of one block of pings, the best per pair."""
    if xy is None:
        x, y = index.frame.to_xy(pings.lon[sel], pings.lat[sel])
    else:
        x, y = xy[0][sel], xy[1][sel]
    big = 1e13
    mins = np.column_stack([x - radius_m, y - radius_m, np.full(sel.shape[0], -big)])
    maxs = np.column_stack([x + radius_m, y + radius_m, np.full(sel.shape[0], big)])
    box, window = index.candidates(mins, maxs)
    fence = index.fences.window_fence[window]
    live = index.alive[fence]
    box, window, fence = box[live], window[live], fence[live]
    gap_m = np.maximum(
        shapely.distance(index.geometry[fence], shapely.points(x[box], y[box]))
        - index.fences.buffer_m[fence],
        0.0,
    )
    t = pings.t[sel][box]
    start = index.fences.window_start[window]
    end = index.fences.window_end[window]
    dt = np.where(t < start, t - start, np.where(t >= end, t - end + 1, 0))
    near = gap_m <= radius_m
    person = pings.person[sel][box]
    return _best_per_pair(
        person[near], fence[near], gap_m[near], dt[near], t[near], n_fences=len(index.fences)
    )


def _best_per_pair(
    person: NDArray[np.int32],
    fence: NDArray[np.int64],
    gap_m: NDArray[np.float64],
    dt: NDArray[np.int64],
    t: NDArray[np.int64],
    *,
    n_fences: int,
) -> tuple[NDArray[Any], ...]:
    """Per (person, fence), the candidate with the smallest distance, then time gap."""
    key = person.astype(np.int64) * max(n_fences, 1) + fence
    order = np.lexsort((np.abs(dt), gap_m, key))
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = key[order][1:] != key[order][:-1]
    best = order[first]
    return person[best], fence[best], gap_m[best], dt[best], t[best]
