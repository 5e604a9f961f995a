"""Did the person leave the region in the lookback? Spells of credible fixes outside it.

The community worker checks that a resident did not leave Beijing in 14 days
(核查14天内未出京). A fix is *credibly outside* when the probability that the
person really was outside (:meth:`fencecheck.region.Region.p_outside`) is at
least ``Policy.credible_p`` and it is not an isolated location jump; *credibly
inside* when that probability is at most ``1 - credible_p``; anything between
(a cell fix over the border) decides nothing. A **spell** is a run of a
person's fixes, in time order, holding at least one credibly outside fix and no
credibly inside one: it starts at its first and ends at its last credibly
outside fix, counts those fixes, and says how far beyond the boundary the
farthest of them lay. ``left_after`` and ``back_by`` bound it from outside: the
last credibly inside fix before it and the first after it (``None`` when there
is none in the lookback).

Examples
--------
>>> import shapely
>>> from fencecheck.pings import build_pings
>>> from fencecheck.region import Region
>>> beijing = Region.from_geometry(shapely.box(115.4, 39.4, 117.5, 41.1), name="北京市")
>>> pings = build_pings({"person_id": ["A"] * 4,
...     "t": ["2022-05-01 08:00", "2022-05-01 12:00", "2022-05-01 15:00", "2022-05-01 20:00"],
...     "lon": [116.40, 117.20, 117.20, 116.40], "lat": [39.90, 39.13, 39.13, 39.90],
...     "accuracy_m": [20.0] * 4})
>>> [spells] = left_region_spells(pings, beijing, [0], [pings.t.max()], 86_400_000)
>>> [(s["start"], s["end"], s["pings"], s["farthest_km"]) for s in spells]
[('2022-05-01T04:00:00Z', '2022-05-01T07:00:00Z', 2, 30.2)]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from fencecheck.judging.jumps import find_jumps
from fencecheck.pings import person_time_order
from fencecheck.policy import Policy
from fencecheck.times import format_utc

if TYPE_CHECKING:
    from fencecheck.pings import PingTable
    from fencecheck.region import Region

__all__ = ["left_region_spells"]


def left_region_spells(
    pings: PingTable,
    region: Region,
    people: Sequence[int] | ArrayLike,
    at: Sequence[int] | ArrayLike,
    span_ms: int,
    policy: Policy | None = None,
) -> list[list[dict[str, Any]]]:
    """Each person's spells outside ``region`` in their lookback ``[at - span, at]``.

    Parameters
    ----------
    pings : PingTable
        Everyone's pings.
    region : Region
        The region they should not have left.
    people, at : sequence of int
        The judged people's codes and their judging times (UTC ms).
    span_ms : int
        The lookback.
    policy : Policy, optional
        ``credible_p`` and ``max_speed_mps`` (for location jumps) are used.

    Returns
    -------
    list of list of dict
        Per person, their spells in time order: ``start``, ``end`` (ISO UTC),
        ``pings``, ``farthest_km``, ``left_after`` and ``back_by`` (ISO UTC or
        ``None``).
    """
    policy = Policy() if policy is None else policy
    codes = np.asarray(people, dtype=np.int64).reshape(-1)
    when = np.asarray(at, dtype=np.int64).reshape(-1)
    at_of = dict(zip(codes.tolist(), when.tolist(), strict=True))
    wanted = np.isin(pings.person, codes)
    at_each = np.zeros(pings.person.shape[0], dtype=np.int64)
    if wanted.any():
        at_each[wanted] = [at_of[int(c)] for c in pings.person[wanted]]
    keep = np.flatnonzero(wanted & (pings.t <= at_each) & (pings.t >= at_each - span_ms))
    order = keep[person_time_order(pings.person[keep], pings.t[keep])]
    person = pings.person[order].astype(np.int64)
    t = pings.t[order]
    lon, lat = pings.lon[order], pings.lat[order]
    accuracy = pings.accuracy_m[order].astype(np.float64)
    p_out = region.p_outside(lon, lat, accuracy) if order.size else np.zeros(0)
    x, y = region.frame.to_xy(lon, lat)
    jump = find_jumps(
        person.astype(np.int32), t, np.asarray(x), np.asarray(y), accuracy, policy
    ).jump
    state = np.zeros(order.shape[0], dtype=np.int8)
    state[(p_out >= policy.credible_p) & ~jump] = 1
    state[(p_out <= 1.0 - policy.credible_p) & ~jump] = -1
    beyond_km = region.distance_outside_m(lon, lat) / 1000.0 if order.size else np.zeros(0)

    spells: dict[int, list[dict[str, Any]]] = {int(c): [] for c in codes}
    decided = np.flatnonzero(state != 0)
    s, p = state[decided], person[decided]
    starts = (s == 1) & np.concatenate([[True], (s[:-1] != 1) | (p[:-1] != p[1:])])
    run = np.cumsum(starts) - 1
    for r in range(int(starts.sum())):
        members = decided[(run == r) & (s == 1)]
        first, last = int(members[0]), int(members[-1])
        code = int(person[first])
        k = int(np.searchsorted(decided, first))
        before = decided[k - 1] if k > 0 and person[decided[k - 1]] == code else None
        after_k = int(np.searchsorted(decided, last)) + 1
        after = (
            decided[after_k]
            if after_k < decided.size and person[decided[after_k]] == code
            else None
        )
        spells[code].append(
            {
                "start": format_utc(int(t[first])),
                "end": format_utc(int(t[last])),
                "pings": int(members.size),
                "farthest_km": round(float(beyond_km[members].max()), 1),
                "left_after": None if before is None else format_utc(int(t[before])),
                "back_by": None if after is None else format_utc(int(t[after])),
            }
        )
    return [spells[int(c)] for c in codes]
