"""Coverage of the lookback: pings, hours with data, the longest gap, against a slow loop."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck.judging.coverage import coverage
from fencecheck.pings import PersonRegistry, PingTable

T0 = 1_651_334_400_000  # 2022-05-01T00:00Z
HOUR = 3_600_000


def _table(person: list[int], t: list[int]) -> PingTable:
    n = len(t)
    registry = PersonRegistry()
    registry.encode(np.array(["a", "b", "c"], dtype=object))
    return PingTable(
        row=np.arange(n, dtype=np.int64),
        person=np.array(person, dtype=np.int32),
        t=np.array(t, dtype=np.int64),
        lon=np.full(n, 116.4),
        lat=np.full(n, 39.9),
        accuracy_m=np.full(n, 10.0, dtype=np.float32),
        source=np.zeros(n, dtype=np.int8),
        accuracy_filled=np.zeros(n, dtype=bool),
        persons=registry,
    )


def slow(times: list[int], at: int, span: int) -> tuple[int, int, int, int]:
    inside = sorted(x for x in times if at - span <= x <= at)
    if not inside:
        return 0, 0, at - span, at
    edges = [at - span, *inside, at]
    gaps = [
        (edges[k + 1] - edges[k], -edges[k], edges[k], edges[k + 1]) for k in range(len(inside) + 1)
    ]
    _, _, start, end = max(gaps)
    return len(inside), len({x // HOUR for x in inside}), start, end


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2), st.integers(-30, 400)), max_size=40),
    at_minutes=st.lists(st.integers(0, 400), min_size=3, max_size=3),
    span_minutes=st.integers(0, 300),
)
def test_coverage_equals_the_slow_loop(
    rows: list[tuple[int, int]], at_minutes: list[int], span_minutes: int
) -> None:
    person = [r[0] for r in rows]
    t = [T0 + r[1] * 60_000 for r in rows]
    people = np.array([0, 1, 2], dtype=np.int32)
    at = np.array([T0 + m * 60_000 for m in at_minutes], dtype=np.int64)
    span = span_minutes * 60_000
    got = coverage(_table(person, t), people, at, span)
    for k in range(3):
        mine = [x for p, x in zip(person, t, strict=True) if p == k]
        n, hours, start, end = slow(mine, int(at[k]), span)
        assert (got.pings[k], got.hours[k]) == (n, hours)
        assert (got.gap_start[k], got.gap_end[k]) == (start, end)
        assert got.gap_s[k] == (end - start) / 1000
    assert got.lookback_s == span / 1000


def test_times_before_1970_count_their_clock_hours_by_floor() -> None:
    # Negative epoch times: an hour is t // HOUR (floor), as the slow loop has it.
    t = [-HOUR - 1, -HOUR, -1, 0, 5 * 60_000, HOUR + 1]
    at = np.array([2 * HOUR, 2 * HOUR, 2 * HOUR], dtype=np.int64)
    got = coverage(_table([0] * 6, t), np.array([0, 1, 2], dtype=np.int32), at, 5 * HOUR)
    assert (got.pings[0], got.hours[0]) == slow(t, 2 * HOUR, 5 * HOUR)[:2] == (6, 4)
    assert (got.gap_start[0], got.gap_end[0]) == slow(t, 2 * HOUR, 5 * HOUR)[2:]
    assert (got.pings[1], got.gap_start[1], got.gap_end[1]) == (0, -3 * HOUR, 2 * HOUR)
