"""Location jumps: stories and a slow per-person reference."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from builders import Trail
from fencecheck.frame import MetricFrame
from fencecheck.judging.jumps import find_jumps
from fencecheck.policy import Policy

FRAME = MetricFrame(116.40, 39.90)
START = "2022-05-01T09:00:00+08:00"


def jumps_of(trail: Trail, policy: Policy | None = None) -> Any:
    t = np.array(trail.t, dtype=np.int64)
    return find_jumps(
        np.zeros(t.shape[0], dtype=np.int32),
        t,
        np.array(trail.x),
        np.array(trail.y),
        np.array(trail.accuracy),
        policy,
    )


def test_one_fix_kilometres_off_in_a_stay_is_a_jump() -> None:
    trail = Trail("P", FRAME, START).stay(at=(0, 0), minutes=10)
    trail.fix(at=(8_000, 0), accuracy=15)  # one fix 8 km away, a minute later
    trail.fix(at=(0, 0)).stay(at=(0, 0), minutes=9)
    jumps = jumps_of(trail)
    assert np.flatnonzero(jumps.jump).tolist() == [11]
    assert jumps.speed_before[11] > 90 and jumps.speed_across[11] == 0


def test_a_coarse_cell_fix_off_by_less_than_its_accuracy_is_not_a_jump() -> None:
    trail = Trail("P", FRAME, START).stay(at=(0, 0), minutes=10)
    trail.cell_fix(at=(900, 0), accuracy=1000)
    trail.stay(at=(0, 0), minutes=10)
    assert not jumps_of(trail).jump.any()


def test_a_real_move_and_a_drive_are_not_jumps() -> None:
    trail = Trail("P", FRAME, START).stay(at=(0, 0), minutes=5)
    trail.drive(to=(20_000, 0), kmh=300, every_s=60)  # a high-speed train
    trail.stay(at=(20_000, 0), minutes=5)
    assert not jumps_of(trail).jump.any()
    # two fixes far off in a row: not isolated, so not a jump
    pair = Trail("P", FRAME, START).stay(at=(0, 0), minutes=5)
    pair.fix(at=(8_000, 0)).fix(at=(8_010, 0)).fix(at=(0, 0))
    assert not jumps_of(pair).jump.any()


def test_the_first_and_last_fix_are_never_jumps() -> None:
    trail = Trail("P", FRAME, START).fix(at=(9_000, 0))
    for _ in range(5):
        trail.fix(at=(0, 0))
    trail.fix(at=(9_000, 0))
    jumps = jumps_of(trail)
    assert not jumps.jump.any()
    assert np.isnan(jumps.speed_before[0]) and np.isnan(jumps.speed_after[-1])


def test_the_speed_limit_is_the_policys() -> None:
    trail = Trail("P", FRAME, START).stay(at=(0, 0), minutes=3)
    trail.fix(at=(3_000, 0)).fix(at=(0, 0))  # 49.7 m/s there and back
    assert not jumps_of(trail).jump.any()
    assert jumps_of(trail, Policy(max_speed_mps=40)).jump.sum() == 1


def slow_jumps(person: Any, t: Any, x: Any, acc: Any, limit: float) -> list[bool]:
    def speed(i: int, j: int) -> float:
        gap = max(0.0, abs(x[j] - x[i]) - acc[i] - acc[j])
        dt = abs(t[j] - t[i]) / 1000
        return 0.0 if gap == 0 else (gap / dt if dt else np.inf)

    out = [False] * len(t)
    for who in set(person.tolist()):
        idx = sorted(np.flatnonzero(person == who).tolist(), key=lambda k: (t[k], k))
        for a, b, c in zip(idx, idx[1:], idx[2:], strict=False):
            out[b] = speed(a, b) > limit and speed(b, c) > limit and speed(a, c) <= limit
    return out


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 30),
            st.sampled_from([0.0, 50.0, 3_000.0, 9_000.0, 30_000.0]),
            st.sampled_from([5.0, 20.0, 1000.0]),
        ),
        min_size=1,
        max_size=40,
        unique_by=lambda r: (r[0], r[1]),
    )
)
def test_jumps_equal_the_slow_reference(rows: list[tuple[int, int, float, float]]) -> None:
    person, minute, x, acc = (np.array(c) for c in zip(*rows, strict=True))
    t = minute.astype(np.int64) * 60_000
    jumps = find_jumps(person.astype(np.int32), t, x, np.zeros_like(x), acc)
    assert jumps.jump.tolist() == slow_jumps(person, t, x, acc, Policy().max_speed_mps)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.integers(0, 30),
            st.floats(-20_000, 20_000, allow_nan=False),
            st.sampled_from([5.0, 20.0, 1000.0]),
        ),
        min_size=1,
        max_size=40,
        unique_by=lambda r: (r[0], r[1]),  # one order by person and time
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_fixes_in_order_and_shuffled_give_the_same_bits(
    rows: list[tuple[int, int, float, float]], seed: int
) -> None:
    # Fixes by person and time take the path that reorders nothing.
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    person, minute, x, acc = (np.array(c) for c in zip(*rows, strict=True))
    t = minute.astype(np.int64) * 60_000
    y = x[::-1].copy()
    in_order = find_jumps(person.astype(np.int32), t, x, y, acc)
    shuffle = np.random.default_rng(seed).permutation(person.shape[0])
    mixed = find_jumps(person[shuffle].astype(np.int32), t[shuffle], x[shuffle], y[shuffle],
                       acc[shuffle])  # fmt: skip
    for name in ("speed_before", "speed_after", "speed_across", "jump"):
        a, b = getattr(in_order, name)[shuffle], getattr(mixed, name)
        assert a.tobytes() == b.tobytes(), name
