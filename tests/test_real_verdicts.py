"""Verdicts on real GeoLife trajectories (../shared/data), with fences placed around them.

GeoLife user 001's busiest day (25 October 2008, 7,319 fixes about 5 s apart)
is shifted by whole days into May 2022 (the fences' month; times of day are
kept, and said so here). A fence is placed around the place where they really
stayed longest, and another across a stretch they really drove; a simulated
cell fix (1,000 m accuracy) is added near a third. Skips with the reason when
the data is absent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely

import fencecheck as fc
from fencecheck.pings import PingTable
from fencecheck.times import parse_time

from support import shared_file

DAY_MS = 86_400_000
MAY_2022 = parse_time("2022-05-01T00:00:00Z")


@pytest.fixture(scope="module")
def day() -> PingTable:
    path = shared_file("geolife/geolife_sample_skmob_users001_005.csv")
    pings = fc.read_pings(path, columns={"user_id": "person_id"})
    mine = pings.take(pings.person_ids() == "001")
    days, counts = np.unique(mine.t // DAY_MS, return_counts=True)
    busiest = days[np.argmax(counts)]
    one = mine.take(mine.t // DAY_MS == busiest)
    shift = MAY_2022 - int(busiest) * DAY_MS  # whole days: times of day are kept
    return PingTable(**{**one.__dict__, "t": one.t + shift})


def _frame_xy(pings: PingTable) -> tuple[fc.MetricFrame, Any, Any]:
    frame = fc.MetricFrame(float(np.median(pings.lon)), float(np.median(pings.lat)))
    x, y = frame.to_xy(pings.lon, pings.lat)
    return frame, x, y


def _longest_stay(t: Any, x: Any, y: Any, cell: float = 100.0) -> tuple[float, float]:
    """The 100 m cell holding the most time (gaps over 5 minutes not counted)."""
    key = np.floor(x / cell) * 1e6 + np.floor(y / cell)
    dt = np.minimum(np.diff(t, append=t[-1]), 300_000)
    _, inverse = np.unique(key, return_inverse=True)
    time_in = np.bincount(inverse, weights=dt)
    best = np.argmax(time_in)
    inside = inverse == best
    return float(np.median(x[inside])), float(np.median(y[inside]))


def _drive(t: Any, x: Any, y: Any) -> int:
    """A fix in the middle of the longest run of fixes at 10-30 m/s."""
    speed = np.hypot(np.diff(x), np.diff(y)) / np.maximum(np.diff(t) / 1000, 1)
    fast = np.concatenate([[False], (speed > 10) & (speed < 30)])
    best, start, run_start = 0, 0, -1
    for k, f in enumerate(fast.tolist()):
        if f and run_start < 0:
            run_start = k
        if (not f or k == len(fast) - 1) and run_start >= 0:
            if k - run_start > best:
                best, start = k - run_start, run_start
            run_start = -1
    assert best >= 10, "no drive of 10 fixes in the day"
    return start + best // 2


def _fence(
    frame: fc.MetricFrame, fid: str, kind: str, shape: Any, day_start: int
) -> dict[str, Any]:
    lonlat = shapely.transform(shape, lambda c: np.column_stack(frame.to_lonlat(c[:, 0], c[:, 1])))
    return {
        "id": fid,
        "kind": kind,
        "geometry": lonlat,
        "windows": [[day_start // 1000, (day_start + DAY_MS) // 1000]],
    }


def test_a_real_stay_is_exposed_and_a_real_drive_passes_through(day: PingTable) -> None:
    frame, x, y = _frame_xy(day)
    stay = _longest_stay(day.t, x, y)
    k = _drive(day.t, x, y)
    day_start = int(day.t.min() // DAY_MS * DAY_MS)
    records = [
        _fence(frame, "STAY", "sealed", shapely.Point(stay).buffer(150.0), day_start),
        _fence(frame, "ROAD", "controlled", shapely.Point(x[k], y[k]).buffer(60.0), day_start),
    ]
    index = fc.FenceIndex(fc.FenceSet.from_records(records), frame)
    [explanation] = fc.explain(day, index)
    assert explanation.verdict == "exposed"
    assert explanation.decisive is not None and explanation.decisive["fence_id"] == "STAY"
    road = [e for e in explanation.episodes if e["fence_id"] == "ROAD"]
    assert road and all(e["dwell_s"] < 600 and not e["stopped"] for e in road)
    # without the stay's fence, the drive alone is a passage
    road_only = fc.FenceIndex(fc.FenceSet.from_records(records[1:]), frame)
    [passage] = fc.explain(day, road_only)
    assert passage.verdict == "passed_through"


def test_a_simulated_cell_fix_grazing_a_fence_is_a_false_trigger(day: PingTable) -> None:
    frame, x, y = _frame_xy(day)
    middle = int(np.argsort(day.t)[day.t.shape[0] // 2])
    px, py = float(x[middle]), float(y[middle])
    # a 100 m fence 900 m from where the person was at midday, in the direction that
    # keeps it farthest from their whole track
    track = shapely.MultiPoint(np.column_stack([x, y]))
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    spots = [(px + 900 * np.cos(a), py + 900 * np.sin(a)) for a in angles]
    clearance = [shapely.distance(shapely.Point(s), track) for s in spots]
    spot = spots[int(np.argmax(clearance))]
    assert max(clearance) > 400, "the track surrounds every spot"
    day_start = int(day.t.min() // DAY_MS * DAY_MS)
    fence = _fence(frame, "NEAR", "sealed", shapely.Point(spot).buffer(100.0), day_start)
    index = fc.FenceIndex(fc.FenceSet.from_records([fence]), frame)
    assert len(index.match(day, mode="disc")) == 0
    # one cell fix (1,000 m accuracy) 300 m from the person towards the fence: its disc
    # reaches the fence, its position agrees with the track (so it is no jump)
    toward = (np.array(spot) - [px, py]) / 900.0
    lon, lat = frame.to_lonlat(px + 300 * toward[0], py + 300 * toward[1])
    fix = day.take(np.array([middle]))
    fix = PingTable(
        **{
            **fix.__dict__,
            "row": np.array([day.row.max() + 1]),
            "lon": np.array([lon]),
            "lat": np.array([lat]),
            "accuracy_m": np.array([1000.0], dtype=np.float32),
            "source": np.array([2], dtype=np.int8),
        }
    )
    with_cell = PingTable.concat([day, fix])
    [explanation] = fc.explain(with_cell, index)
    assert explanation.verdict == "false_trigger"
    assert explanation.reasons == ("boundary_uncertainty",)
    assert explanation.evidence["boundary_uncertainty"]["best_p_inside"] < 0.9


@pytest.fixture(scope="module")
def residences() -> fc.FenceIndex:
    """The 2022 case residences (901 bulletin rows) as risk-venue fences.

    Each is a point with a 100 m margin, active for three days from its bulletin
    date (Beijing time); rows of the same residence and date are one fence.
    """
    import csv

    path = shared_file("risk_points/beijing_2022_case_residences_twang2218.csv")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    records, seen = [], set()
    for row in rows:
        key = (row["name"], row["date"], row["lon"], row["lat"])
        if key in seen:
            continue
        seen.add(key)
        start = np.datetime64(row["date"])
        records.append(
            {
                "id": f"R{len(records):04d}",
                "name": row["name"],
                "kind": "risk_venue",
                "buffer_m": 100.0,
                "geometry": shapely.Point(float(row["lon"]), float(row["lat"])),
                "windows": [[str(start), str(start + np.timedelta64(3, "D"))]],
            }
        )
    return fc.FenceIndex.build(fc.FenceSet.from_records(records))


def test_real_case_residences_as_risk_venues(residences: fc.FenceIndex) -> None:
    from builders import Trail, pings_of

    fences = residences.fences
    frame = residences.frame
    first = 0
    x0, y0 = frame.to_xy(*shapely.get_coordinates(fences.geometry[first])[0])
    when = fences.window_start[first] + 3_600_000 * 10  # 10:00 Beijing, on its bulletin day
    start = np.datetime_as_string(np.datetime64(int(when), "ms")) + "Z"
    visitor = Trail("visitor", frame, start).stay(at=(x0 + 40, y0), minutes=30)
    # a resident 2 km from every residence, the same day
    points = shapely.get_coordinates(fences.geometry)
    px, py = frame.to_xy(points[:, 0], points[:, 1])
    grid = [(x0 + dx, y0 + dy) for dx in range(-8000, 8001, 500) for dy in range(-8000, 8001, 500)]
    clear = [g for g in grid if np.min(np.hypot(px - g[0], py - g[1])) > 2000]
    assert clear, "no spot 2 km from every residence"
    far = Trail("far", frame, start).stay(at=clear[0], minutes=60)
    by_person = {e.person_id: e for e in fc.explain(pings_of(visitor, far), residences)}
    assert by_person["visitor"].verdict == "exposed"
    assert by_person["visitor"].decisive is not None
    assert by_person["visitor"].decisive["kind"] == "risk_venue"
    assert by_person["visitor"].advice_key == "pledge_three_days_two_tests"
    lonely = by_person["far"]
    assert lonely.verdict == "unexplained"
    assert lonely.near_misses and lonely.near_misses[0]["distance_m"] > 1800


def test_scan_of_five_real_people_equals_explaining_each(day: PingTable) -> None:
    """GeoLife users 001 and 005, the two in the sample (217,653 fixes), each shifted by
    whole days so that their busiest day is 1 May 2022; fences around each one's longest
    stay and across the drive of user 001. scan's verdicts and per-fence counts equal
    explain, person by person.
    """
    from test_scan import slow_fence_counts

    path = shared_file("geolife/geolife_sample_skmob_users001_005.csv")
    everyone = fc.read_pings(path, columns={"user_id": "person_id"})
    parts, records = [], []
    frame = fc.MetricFrame(float(np.median(everyone.lon)), float(np.median(everyone.lat)))
    for person in sorted(set(everyone.person_ids().tolist())):
        mine = everyone.take(everyone.person_ids() == person)
        days, counts = np.unique(mine.t // DAY_MS, return_counts=True)
        shift = MAY_2022 - int(days[np.argmax(counts)]) * DAY_MS
        mine = PingTable(**{**mine.__dict__, "t": mine.t + shift})
        parts.append(mine)
        on_day = mine.take(mine.t // DAY_MS == MAY_2022 // DAY_MS)
        x, y = frame.to_xy(on_day.lon, on_day.lat)
        stay = _longest_stay(on_day.t, x, y)
        records.append(_fence(frame, f"STAY-{person}", "sealed",
                              shapely.Point(stay).buffer(120.0), MAY_2022))  # fmt: skip
    x, y = frame.to_xy(day.lon, day.lat)
    k = _drive(day.t, x, y)
    records.append(
        _fence(frame, "ROAD", "controlled", shapely.Point(x[k], y[k]).buffer(60.0), MAY_2022)
    )
    pings = PingTable.concat(parts)
    index = fc.FenceIndex(fc.FenceSet.from_records(records), frame)
    at = "2022-05-02T00:00:00Z"
    result = fc.scan(pings, index, at=at, lookback="3d")
    slow = {
        p: fc.explain(pings, index, person=[p], at=at, lookback="3d")[0]
        for p in sorted(set(pings.person_ids().tolist()))
    }
    verdicts = dict(zip(result.people["person_id"].tolist(), result.people["verdict"].tolist(),
                        strict=True))  # fmt: skip
    for p, e in slow.items():
        if e.verdict != "unexplained" or e.near_misses:
            assert verdicts[p] == ("not_flagged" if e.verdict == "unexplained" else e.verdict)
    assert verdicts == {"001": "exposed", "005": "exposed"}
    expected = slow_fence_counts(slow, fc.Policy().min_dwell_s)
    for k, fid in enumerate(result.fences["fence_id"].tolist()):
        assert int(result.fences["people"][k]) == expected.get(fid, {}).get("people", 0)
        assert int(result.fences["exposed"][k]) == expected.get(fid, {}).get("exposed", 0)
