"""Location jumps: isolated fixes that no person could have reached and left.

docs/domain.md, section 4: the implied speed between two fixes is accuracy-aware,
``max(0, d - acc1 - acc2) / dt`` (the two fixes may be that much closer than
they look). A fix is a *location jump* when its implied speeds to the fix
before it and to the fix after it are both above ``policy.max_speed_mps``
while the fixes before and after agree with each other (their own implied
speed is within the limit): the person stayed on their way and one fix went
astray. A person's first and last fixes have one neighbour only and are never
called jumps (nothing confirms that the track came back). Fixes at the same
instant have an infinite speed between them unless they agree.

Everything is computed for all people at once on person-then-time order; no
loop per ping.

Examples
--------
>>> import numpy as np
>>> t = np.array([0, 60_000, 120_000, 180_000])
>>> x = np.array([0.0, 10.0, 8_000.0, 20.0])
>>> jumps = find_jumps(np.zeros(4, dtype=np.int32), t, x, np.zeros(4), np.full(4, 10.0))
>>> jumps.jump.tolist()
[False, False, True, False]
>>> round(float(jumps.speed_before[2]), 1), round(float(jumps.speed_across[2]), 2)
(132.8, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fencecheck.pings import is_person_time_sorted, person_time_order
from fencecheck.policy import Policy

__all__ = ["Jumps", "find_jumps", "implied_speed"]


@dataclass(frozen=True)
class Jumps:
    """Per fix, in the order given: the implied speeds around it and the verdict.

    Attributes
    ----------
    speed_before, speed_after : ndarray of float64
        Implied speed (m/s) from the person's previous fix, and to their next
        (NaN when there is none).
    speed_across : ndarray of float64
        Implied speed from the previous fix to the next, skipping this one.
    jump : ndarray of bool
        The fix is an isolated location jump.
    """

    speed_before: NDArray[np.float64]
    speed_after: NDArray[np.float64]
    speed_across: NDArray[np.float64]
    jump: NDArray[np.bool_]


def implied_speed(
    x0: NDArray[np.float64],
    y0: NDArray[np.float64],
    acc0: NDArray[np.float64],
    x1: NDArray[np.float64],
    y1: NDArray[np.float64],
    acc1: NDArray[np.float64],
    dt_s: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``max(0, d - acc0 - acc1) / dt``, metres per second (inf when dt is 0 and d is not).

    Examples
    --------
    >>> one = np.ones(1)
    >>> implied_speed(0 * one, 0 * one, 10 * one, 500 * one, 0 * one, 10 * one, 60 * one).tolist()
    [8.0]
    """
    gap = np.maximum(np.hypot(x1 - x0, y1 - y0) - acc0 - acc1, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(gap > 0, gap / np.abs(dt_s), 0.0)
    return np.asarray(speed, dtype=np.float64)


def find_jumps(
    person: NDArray[np.int32],
    t: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy_m: NDArray[np.float64],
    policy: Policy | None = None,
) -> Jumps:
    """Find isolated location jumps among fixes in a metric frame.

    Parameters
    ----------
    person, t : ndarray
        Each fix's person code and instant (UTC milliseconds); any order.
    x, y : ndarray of float64
        Positions in metres (a :class:`~fencecheck.frame.MetricFrame`).
    accuracy_m : ndarray
        Each fix's 68 % radius.
    policy : Policy, optional
        ``max_speed_mps`` is used.
    """
    policy = Policy() if policy is None else policy
    n = t.shape[0]
    # Fixes usually come by person and time already: then nothing is reordered.
    in_order = is_person_time_sorted(person, t)
    order = np.arange(n) if in_order else person_time_order(person, t)
    p = person if in_order else person[order]
    ts = (t if in_order else t[order]).astype(np.float64) / 1000.0
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    acc = np.asarray(accuracy_m, dtype=np.float64)
    if not in_order:
        xs, ys, acc = xs[order], ys[order], acc[order]
    has_before = np.zeros(n, dtype=bool)
    has_before[1:] = p[1:] == p[:-1]
    has_after = np.zeros(n, dtype=bool)
    has_after[:-1] = has_before[1:]

    step = np.full(n, np.nan)  # speed from fix k - 1 to fix k
    if n > 1:
        step[1:] = implied_speed(
            xs[:-1], ys[:-1], acc[:-1], xs[1:], ys[1:], acc[1:], ts[1:] - ts[:-1]
        )
    step[~has_before] = np.nan
    before = step
    after = np.full(n, np.nan)
    after[:-1] = step[1:]
    across = np.full(n, np.nan)
    if n > 2:
        across[1:-1] = implied_speed(
            xs[:-2], ys[:-2], acc[:-2], xs[2:], ys[2:], acc[2:], ts[2:] - ts[:-2]
        )
    across[~(has_before & has_after)] = np.nan
    limit = policy.max_speed_mps
    jump = has_before & has_after & (before > limit) & (after > limit) & (across <= limit)

    def unsort(values: NDArray[np.float64]) -> NDArray[np.float64]:
        if in_order:
            return values
        out = np.empty_like(values)
        out[order] = values
        return out

    return Jumps(
        speed_before=unsort(before),
        speed_after=unsort(after),
        speed_across=unsort(across),
        jump=np.asarray(unsort(jump.astype(np.float64)), dtype=bool),
    )
