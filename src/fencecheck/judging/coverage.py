"""How much of each person's lookback their location data covers.

No data is not "no hit". A person whose phone logged nothing for days cannot be
cleared by the absence of hits in those days, and a report must say so
("no location data between 04-20 and 05-02"). :func:`coverage` counts, per
person, the pings in the lookback ``[at - lookback, at]``, the clock hours
that hold at least one, and the longest stretch without a ping (from the
lookback's start to the first ping, between two pings, or from the last ping
to ``at``).

Examples
--------
>>> import numpy as np
>>> import fencecheck as fc
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> people = np.unique(pings.person)
>>> at = np.full(people.shape[0], fc.times.parse_time("2022-05-04T00:00:00+08:00"))
>>> c = coverage(pings, people, at, 14 * 86_400_000)
>>> p01 = list(pings.persons.ids()[people]).index("P01")
>>> int(c.pings[p01]), int(c.hours[p01]), round(float(c.gap_s[p01]) / 86400, 1)
(72, 6, 11.3)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fencecheck.pings import PingTable, is_person_time_sorted, person_time_order

__all__ = ["Coverage", "coverage"]

_HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Coverage:
    """Per person (in the order given), what their data covers of the lookback.

    Attributes
    ----------
    pings : ndarray of int64
        Pings in the lookback.
    hours : ndarray of int64
        Clock hours (UTC) of the lookback with at least one ping.
    gap_start, gap_end : ndarray of int64
        The longest stretch without a ping, UTC milliseconds (the whole
        lookback when there is no ping).
    gap_s : ndarray of float64
        Its length, seconds.
    lookback_s : float
        The lookback's length, seconds.
    """

    pings: NDArray[np.int64]
    hours: NDArray[np.int64]
    gap_start: NDArray[np.int64]
    gap_end: NDArray[np.int64]
    gap_s: NDArray[np.float64]
    lookback_s: float


def coverage(
    pings: PingTable, people: NDArray[np.int32], at: NDArray[np.int64], span_ms: int
) -> Coverage:
    """What each person's pings cover of their lookback ``[at - span_ms, at]``.

    Parameters
    ----------
    pings : PingTable
        Everyone's pings.
    people : ndarray of int32
        The person codes to report on, each once.
    at : ndarray of int64
        Each person's judging time, UTC milliseconds.
    span_ms : int
        The lookback, milliseconds.
    """
    from fencecheck._compiled.episodes import coverage_pass

    n = people.shape[0]
    slot = np.full(int(max(people.max(initial=-1), pings.person.max(initial=-1))) + 1, -1)
    slot[people] = np.arange(n)
    person, t = pings.person, pings.t
    if not is_person_time_sorted(person, t):
        order = person_time_order(person, t)
        person, t = person[order], t[order]
    # One pass over the pings in person-then-time order (no sort of the gaps).
    count, hours, gap_start, gap_end = coverage_pass(
        person, t, slot, np.ascontiguousarray(at, dtype=np.int64), int(span_ms), _HOUR_MS, n
    )
    return Coverage(
        pings=np.asarray(count, dtype=np.int64),
        hours=np.asarray(hours, dtype=np.int64),
        gap_start=np.asarray(gap_start, dtype=np.int64),
        gap_end=np.asarray(gap_end, dtype=np.int64),
        gap_s=(gap_end - gap_start) / 1000.0,
        lookback_s=span_ms / 1000.0,
    )
