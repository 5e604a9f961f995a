"""Episodes: stays and passages from hits, against stories and a slow reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from builders import Trail, pings_of
from fencecheck.frame import MetricFrame
from fencecheck.hits import Hits
from fencecheck.index import FenceIndex
from fencecheck.pings import PersonRegistry
from fencecheck.policy import Policy

from support import SAMPLES

FRAME = MetricFrame(116.40, 39.90)
START = "2022-05-01T09:00:00+08:00"


def square_index(half: float = 200.0, buffer_m: float = 0.0) -> FenceIndex:
    """One sealed compound, a square of side 2 * half metres at the frame's origin."""
    box = shapely.box(-half, -half, half, half)
    lonlat = shapely.transform(box, lambda c: np.column_stack(FRAME.to_lonlat(c[:, 0], c[:, 1])))
    fences = fc.FenceSet.from_records(
        [
            {
                "id": "F1",
                "kind": "sealed",
                "geometry": lonlat,
                "buffer_m": buffer_m,
                "windows": [["2022-04-30", "2022-05-03"]],
            }
        ]
    )
    return FenceIndex(fences, FRAME)


def episodes_of(*trails: Trail, mode: str = "point", policy: Policy | None = None) -> Any:
    index = square_index()
    pings = pings_of(*trails)
    hits = index.match(pings, mode=mode)
    return fc.judging.find_episodes(hits, pings, index, policy), hits


def test_a_stay_is_one_stopped_episode_with_its_dwell() -> None:
    trail = Trail("P1", FRAME, START).stay(at=(-900, 0), minutes=5)
    trail.drive(to=(0, 0), kmh=30).stay(at=(0, 0), minutes=40, jitter_m=4).drive(
        to=(900, 0), kmh=30
    )
    episodes, hits = episodes_of(trail)
    assert len(episodes) == 1
    assert episodes.fence_ids().tolist() == ["F1"] and episodes.kinds().tolist() == ["sealed"]
    inside = hits.t
    assert episodes.entry[0] == inside.min() and episodes.exit[0] == inside.max()
    assert episodes.dwell_s[0] == (inside.max() - inside.min()) / 1000
    assert 40 * 60 <= episodes.dwell_s[0] < episodes.dwell_s_max[0]
    assert episodes.stopped[0]
    assert episodes.speed_mps[0] < 0.5  # GPS jitter of a still phone adds nothing
    assert episodes.pings[0] == len(hits) == episodes.inside_pings[0]


def test_driving_through_is_a_fast_episode_that_is_not_stopped() -> None:
    trail = Trail("P2", FRAME, START).stay(at=(-1500, 30), minutes=2)
    trail.drive(to=(1500, 30), kmh=40, every_s=10)
    episodes, _ = episodes_of(trail)
    assert len(episodes) == 1
    assert not episodes.stopped[0]
    assert math.isclose(episodes.speed_mps[0], 40 / 3.6, rel_tol=0.1)
    assert episodes.dwell_s[0] < 60
    # the same drive logged every second still reads as a drive
    fast = Trail("P2", FRAME, START).stay(at=(-1500, 30), minutes=2)
    fast.drive(to=(1500, 30), kmh=40, every_s=1)
    episodes, _ = episodes_of(fast)
    assert math.isclose(episodes.speed_mps[0], 40 / 3.6, rel_tol=0.1)


def test_flapping_at_the_boundary_does_not_split_a_stay() -> None:
    # standing at the fence's edge: fixes fall in and out by turns for 40 minutes
    trail = Trail("P3", FRAME, START)
    for k in range(40):
        trail.stay(at=(199.0 if k % 2 else 201.0, 0.0), minutes=0)
        trail.wait(1)
    index, pings = square_index(), pings_of(trail)
    hits = index.match(pings)
    assert len(hits) == 20
    # every fix inside taken as credible: one episode, whatever the fixes outside between them
    sure = fc.judging.find_episodes(hits, pings, index, credible=np.ones(20, dtype=bool))
    assert len(sure) == 1
    assert sure.pings[0] == 20 == sure.credible_pings[0]
    assert sure.dwell_s[0] == 38 * 60
    # 1 m inside with 10 m GPS fixes is not credible (p_inside about 0.56): no stay at all
    assert hits.p_inside.max() < 0.9
    episodes = fc.judging.find_episodes(hits, pings, index)
    assert len(episodes) == 1 and episodes.credible_pings[0] == 0
    assert episodes.dwell_s[0] == 0 == episodes.dwell_s_max[0]


@pytest.mark.parametrize(("quiet_ms", "expected"), [(0, 1), (1, 2)])
def test_the_gap_tolerance_is_inclusive(quiet_ms: int, expected: int) -> None:
    policy = Policy(gap_s=600)
    trail = Trail("P4", FRAME, START).stay(at=(0, 0), minutes=5)
    trail.now += 600_000 + quiet_ms  # the next fix exactly gap_s (or 1 ms more) later
    trail.stay(at=(0, 0), minutes=5)
    episodes, _ = episodes_of(trail, policy=policy)
    assert len(episodes) == expected


def test_dwell_bounds_come_from_the_neighbouring_pings() -> None:
    trail = Trail("P5", FRAME, START).stay(at=(-600, 0), minutes=0)  # 09:00 outside
    trail.wait(5).stay(at=(0, 0), minutes=10, every_s=300)  # 09:05, 09:10, 09:15 inside
    trail.wait(7).stay(at=(600, 0), minutes=0)  # 09:22 outside
    episodes, _ = episodes_of(trail)
    assert episodes.dwell_s.tolist() == [600.0]
    assert episodes.dwell_s_max.tolist() == [22 * 60.0]
    # data that starts inside has no upper bound
    inside_first = Trail("P6", FRAME, START).stay(at=(0, 0), minutes=10)
    episodes, _ = episodes_of(inside_first)
    assert np.isnan(episodes.dwell_s_max).all()


def test_cell_fixes_cannot_make_a_stay() -> None:
    trail = Trail("P7", FRAME, START)
    for _ in range(30):
        trail.cell_fix(at=(0, 0), accuracy=800)
    episodes, hits = episodes_of(trail, mode="disc")
    # 800 m cell fixes over a 400 m compound: p_inside about 0.1, never credible
    assert hits.p_inside.max() < 0.9
    assert len(episodes) == 1 and episodes.pings[0] == 30
    assert episodes.dwell_s[0] == 0 and episodes.credible_pings[0] == 0
    assert not episodes.stopped[0]


def test_people_are_kept_apart_and_hits_know_their_episode() -> None:
    a = Trail("A", FRAME, START).stay(at=(0, 0), minutes=20)
    b = Trail("B", FRAME, START).stay(at=(10, 10), minutes=20)
    episodes, hits = episodes_of(a, b)
    assert episodes.person_ids().tolist() == ["A", "B"]
    assert (episodes.person[episodes.of_hit] == hits.person).all()
    table = episodes.to_pandas()
    assert table["person_id"].tolist() == ["A", "B"]
    assert str(table["entry"].dt.tz) == "UTC" and table["kind"].tolist() == ["sealed"] * 2


def test_the_samples_tell_their_stories() -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    episodes = fc.judging.find_episodes(index.match(pings), pings, index)
    by_person = {
        pid: episodes.dwell_s[episodes.person_ids() == pid] for pid in ("P01", "P02", "P07")
    }
    assert by_person["P01"].max() >= 600  # exposed: a long stay
    assert by_person["P02"].max() < 600  # passed through
    assert 600 <= by_person["P07"].max() <= 23 * 60  # a 22.5-minute venue visit


def test_hits_of_other_pings_are_refused() -> None:
    index = square_index()
    pings = pings_of(Trail("P1", FRAME, START).stay(at=(0, 0), minutes=3))
    hits = index.match(pings)
    other = pings_of(Trail("P1", FRAME, START).stay(at=(0, 0), minutes=1))
    with pytest.raises(ValueError, match="do not come from these pings"):
        fc.judging.find_episodes(hits, other, index)


def test_no_hits_no_episodes() -> None:
    index = square_index()
    pings = pings_of(Trail("P1", FRAME, START).stay(at=(5000, 0), minutes=3))
    episodes = fc.judging.find_episodes(index.match(pings), pings, index)
    assert len(episodes) == 0 and episodes.of_hit.shape == (0,)


def slow_episodes(hits: Hits, gap_ms: float, credible_p: float = 0.9) -> list[tuple[Any, ...]]:
    """The obvious loop: per person and fence window, walk the hits in time order.

    Dwell on credible hits only (docs/domain.md): entry and exit are the first and last
    credible hit, and an episode without one has its first and last hit and a dwell of 0.
    """
    out = []
    columns = (hits.person.tolist(), hits.fence.tolist(), hits.window_start.tolist())
    keys = sorted(set(zip(*columns, strict=True)))
    for person, fence, start in keys:
        sel = np.flatnonzero(
            (hits.person == person) & (hits.fence == fence) & (hits.window_start == start)
        )
        sel = sel[np.argsort(hits.t[sel], kind="stable")]
        run = [sel[0]]
        for k in sel[1:]:
            if hits.t[k] - hits.t[run[-1]] > gap_ms:
                out.append(_summary(hits, run, credible_p))
                run = [k]
            else:
                run.append(k)
        out.append(_summary(hits, run, credible_p))
    return sorted(out)


def _summary(hits: Hits, run: list[int], credible_p: float) -> tuple[Any, ...]:
    p = hits.p_inside[run]
    credible = [k for k in run if hits.p_inside[k] >= credible_p]
    ends = credible or run
    entry, exit_ = int(hits.t[ends[0]]), int(hits.t[ends[-1]])
    return (
        int(hits.person[run[0]]),
        entry,
        int(hits.fence[run[0]]),
        exit_,
        len(run),
        float(np.max(hits.depth_m[run])),
        float(p.max()),
        float(np.median(p)),
        (exit_ - entry) / 1000.0 if credible else 0.0,
        len(credible),
    )


def slow_upper_bound(
    pings: fc.PingTable,
    credible_at: set[tuple[int, int]],
    entry_row: int,
    exit_row: int,
    fence: int,
) -> float | None:
    """From the last ping before the entry not credibly inside the fence to the first after."""
    mine = np.flatnonzero(pings.person == pings.person[entry_row])
    mine = mine[np.lexsort((pings.row[mine], pings.t[mine]))]
    rows = pings.row[mine].tolist()
    before, after = rows.index(entry_row) - 1, rows.index(exit_row) + 1
    while before >= 0 and (rows[before], fence) in credible_at:
        before -= 1
    while after < len(rows) and (rows[after], fence) in credible_at:
        after += 1
    if before < 0 or after >= len(rows):
        return None
    return float(pings.t[mine[after]] - pings.t[mine[before]]) / 1000.0


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 2),  # person
            st.integers(0, 2),  # fence
            st.integers(0, 1),  # window
            st.integers(0, 40),  # minute
            st.floats(-50, 50, allow_nan=False),  # depth
            st.floats(0, 1, allow_nan=False),  # p_inside
        ),
        min_size=1,
        max_size=60,
        unique_by=lambda r: (r[0], r[1], r[3]),
    ),
    gap_min=st.integers(0, 12),
)
def test_episodes_equal_the_slow_reference(data: list[tuple[Any, ...]], gap_min: int) -> None:
    person, fence, window, minute, depth, p = (np.array(c) for c in zip(*data, strict=True))
    n = person.shape[0]
    t = 1_651_370_400_000 + minute.astype(np.int64) * 60_000
    registry = PersonRegistry()
    registry.encode(np.array(["a", "b", "c"], dtype=object))
    hits = Hits(
        ping=np.arange(n, dtype=np.int64),
        person=person.astype(np.int32),
        t=t,
        fence=fence.astype(np.int64),
        window_start=window.astype(np.int64) * 1000,
        window_end=np.full(n, 10**15, dtype=np.int64),
        inside=depth >= 0,
        depth_m=depth.astype(np.float64),
        p_inside=p.astype(np.float64),
        fence_lookup=np.array(["F0", "F1", "F2"], dtype=object),
        persons=registry,
    )
    pings = _pings_at_origin(person, t, registry)
    policy = Policy(gap_s=gap_min * 60)
    episodes = fc.judging.find_episodes(hits, pings, _three_fence_index(), policy)
    got = sorted(
        (
            int(episodes.person[e]),
            int(episodes.entry[e]),
            int(episodes.fence[e]),
            int(episodes.exit[e]),
            int(episodes.pings[e]),
            float(episodes.max_depth_m[e]),
            float(episodes.p_best[e]),
            float(episodes.p_typical[e]),
            float(episodes.dwell_s[e]),
            int(episodes.credible_pings[e]),
        )
        for e in range(len(episodes))
    )
    assert got == slow_episodes(hits, gap_min * 60_000)
    # every credible hit lies between its episode's entry and exit
    e = episodes.of_hit
    sure = hits.p_inside >= 0.9
    assert ((episodes.entry[e] <= hits.t) & (hits.t <= episodes.exit[e]))[sure].all()
    assert (episodes.fence[e] == hits.fence).all() and (episodes.person[e] == hits.person).all()
    credible_at = {(int(r), int(f)) for r, f in zip(hits.ping[sure], hits.fence[sure], strict=True)}
    for k in range(len(episodes)):
        expected = (
            slow_upper_bound(
                pings,
                credible_at,
                int(episodes.entry_ping[k]),
                int(episodes.exit_ping[k]),
                int(episodes.fence[k]),
            )
            if episodes.credible_pings[k]
            else 0.0
        )
        got_max = float(episodes.dwell_s_max[k])
        assert (np.isnan(got_max) and expected is None) or got_max == expected
    assert episodes.pings.sum() == n
    deepest = episodes.deepest_ping[e]
    assert (hits.depth_m[deepest] == episodes.max_depth_m[e]).all()


def _pings_at_origin(person: Any, t: Any, registry: PersonRegistry) -> fc.PingTable:
    """GPS pings of 10 m, all at the frame's origin, rows in order."""
    n = person.shape[0]
    lon, lat = FRAME.to_lonlat(np.zeros(n), np.zeros(n))
    return fc.PingTable(
        row=np.arange(n, dtype=np.int64),
        person=person.astype(np.int32),
        t=t,
        lon=lon,
        lat=lat,
        accuracy_m=np.full(n, 10.0, dtype=np.float32),
        source=np.zeros(n, dtype=np.int8),
        accuracy_filled=np.zeros(n, dtype=bool),
        persons=registry,
    )


def _three_fence_index() -> FenceIndex:
    boxes = [shapely.box(k * 1000, 0, k * 1000 + 100, 100) for k in range(3)]
    records = [
        {
            "id": f"F{k}",
            "geometry": shapely.transform(
                b, lambda c: np.column_stack(FRAME.to_lonlat(c[:, 0], c[:, 1]))
            ),
            "windows": [["2022-04-30", "2022-05-03"]],
        }
        for k, b in enumerate(boxes)
    ]
    return FenceIndex(fc.FenceSet.from_records(records), FRAME)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 2),  # person
            st.integers(0, 12),  # minute (the same minute twice: two pings at one instant)
            st.sets(st.integers(0, 2), max_size=3),  # the fences the ping hits
        ),
        min_size=1,
        max_size=40,
    ),
    gap_min=st.integers(0, 4),
)
def test_episodes_of_time_sorted_hits_come_by_person_entry_fence(
    data: list[tuple[int, int, set[int]]], gap_min: int
) -> None:
    # Pings by person and time, as a phone log comes; hits in ping order, as match gives them.
    rows = sorted(data, key=lambda r: (r[0], r[1]))

    person = np.array([r[0] for r in rows], dtype=np.int32)
    t = 1_651_370_400_000 + np.array([r[1] for r in rows], dtype=np.int64) * 60_000
    hit_ping = [k for k, r in enumerate(rows) for _ in sorted(r[2])]
    hit_fence = [f for r in rows for f in sorted(r[2])]
    if not hit_ping:
        return
    registry = PersonRegistry()
    registry.encode(np.array(["a", "b", "c"], dtype=object))
    m = len(hit_ping)
    hits = Hits(
        ping=np.array(hit_ping, dtype=np.int64),
        person=person[hit_ping],
        t=t[hit_ping],
        fence=np.array(hit_fence, dtype=np.int64),
        window_start=np.zeros(m, dtype=np.int64),
        window_end=np.full(m, 10**15, dtype=np.int64),
        inside=np.ones(m, dtype=bool),
        depth_m=np.ones(m),
        p_inside=np.ones(m),
        fence_lookup=np.array(["F0", "F1", "F2"], dtype=object),
        persons=registry,
    )
    pings = _pings_at_origin(person, t, registry)
    episodes = fc.judging.find_episodes(
        hits, pings, _three_fence_index(), Policy(gap_s=gap_min * 60)
    )
    keys = list(
        zip(episodes.person.tolist(), episodes.entry.tolist(), episodes.fence.tolist(), strict=True)
    )
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert sorted(
        (k[0], k[1], k[2], x, c)
        for k, x, c in zip(keys, episodes.exit.tolist(), episodes.pings.tolist(), strict=True)
    ) == [s[:5] for s in slow_episodes(hits, gap_min * 60_000)]
    # The dwell's upper bound: out to the nearest pings not credibly inside the fence.
    credible_at = {(int(r), int(f)) for r, f in zip(hits.ping, hits.fence, strict=True)}
    for e in range(len(episodes)):
        expected = slow_upper_bound(
            pings,
            credible_at,
            int(episodes.entry_ping[e]),
            int(episodes.exit_ping[e]),
            int(episodes.fence[e]),
        )
        got = float(episodes.dwell_s_max[e])
        assert (np.isnan(got) and expected is None) or got == expected


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(
            st.integers(0, 2),  # person
            st.integers(0, 40),  # minute (the same minute twice: two pings at one instant)
            st.sets(st.integers(0, 2), max_size=3),  # the fences the ping hits
            st.floats(-300, 300, allow_nan=False),  # x
            st.sampled_from([5.0, 40.0, 900.0]),  # accuracy
            st.sampled_from([0.2, 0.95, 1.0, float("nan")]),  # p_inside
        ),
        min_size=1,
        max_size=50,
    ),
    gap_min=st.integers(0, 6),
    late_window=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_time_sorted_hits_group_as_the_full_sort_does(
    data: list[tuple[Any, ...]], gap_min: int, late_window: bool, seed: int
) -> None:
    """Hits by person and time (grouped in one pass, no sort) and the same hits
    shuffled (sorted by person, fence, window, time) give the same episodes, bit
    for bit; also when a fence's windows come out of order (the pass gives way)."""
    rows = sorted(data, key=lambda r: (r[0], r[1]))
    person = np.array([r[0] for r in rows], dtype=np.int32)
    t = 1_651_370_400_000 + np.array([r[1] for r in rows], dtype=np.int64) * 60_000
    hit_ping = np.array([k for k, r in enumerate(rows) for _ in sorted(r[2])], dtype=np.int64)
    if not hit_ping.shape[0]:
        return
    m = hit_ping.shape[0]
    fence = np.array([f for r in rows for f in sorted(r[2])], dtype=np.int64)
    p = np.array([r[5] for r in rows])[hit_ping]
    registry = PersonRegistry()
    registry.encode(np.array(["a", "b", "c"], dtype=object))
    # Fence 2 has two windows, its hits before minute 20 in one, later ones in the
    # other: in time order, or (late_window) the later window listed first, which
    # the one pass leaves to the full sort.
    minute = np.array([r[1] for r in rows])[hit_ping]
    early = np.where(late_window, 5000, 0)
    start = np.where((fence == 2) & (minute >= 20), 5000 - early, early).astype(np.int64)
    start[fence != 2] = 0

    def hits_of(order: Any) -> Hits:
        return Hits(
            ping=hit_ping[order],
            person=person[hit_ping][order],
            t=t[hit_ping][order],
            fence=fence[order],
            window_start=start[order],
            window_end=np.full(m, 10**15, dtype=np.int64),
            inside=(p >= 0.5)[order],
            depth_m=np.linspace(-5.0, 5.0, m)[order],
            p_inside=p[order],
            fence_lookup=np.array(["F0", "F1", "F2"], dtype=object),
            persons=registry,
        )

    n = person.shape[0]
    lon, lat = FRAME.to_lonlat(np.array([r[3] for r in rows]), np.zeros(n))
    pings = fc.PingTable(
        row=np.arange(n, dtype=np.int64),
        person=person,
        t=t,
        lon=lon,
        lat=lat,
        accuracy_m=np.array([r[4] for r in rows], dtype=np.float32),
        source=np.zeros(n, dtype=np.int8),
        accuracy_filled=np.zeros(n, dtype=bool),
        persons=registry,
    )
    index = _three_fence_index()
    policy = Policy(gap_s=gap_min * 60)
    in_order = fc.judging.find_episodes(hits_of(np.arange(m)), pings, index, policy)
    shuffle = np.random.default_rng(seed).permutation(m)
    mixed = fc.judging.find_episodes(hits_of(shuffle), pings, index, policy)
    # Equal hits of one episode (two pings at one instant) may be taken in either order,
    # and with them the entry and exit pings that the net speed is measured between and
    # that the dwell's upper bound walks out from (past the same-instant pings or not).
    ambiguous = {"entry_ping", "exit_ping", "deepest_ping", "max_depth_m", "p_best"}
    if len({(r[0], r[1]) for r in rows}) < len(rows):
        ambiguous |= {"speed_mps", "dwell_s_max"}
    for name in fc.judging.episodes.EPISODE_COLUMNS:
        a, b = getattr(in_order, name), getattr(mixed, name)
        if name in ambiguous:
            continue
        assert a.tobytes() == b.tobytes(), name
    assert np.array_equal(in_order.of_hit[shuffle], mixed.of_hit)
