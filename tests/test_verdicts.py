"""Verdicts: a scenario for every verdict and reason, the samples, and true exposures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from builders import Trail, pings_of
from fencecheck.errors import OptionError
from fencecheck.frame import MetricFrame
from fencecheck.index import FenceIndex
from fencecheck.judging.verdicts import judge, parse_duration
from fencecheck.policy import Policy

from support import SAMPLES

FRAME = MetricFrame(116.40, 39.90)
MORNING = "2022-05-01T09:00:00+08:00"


def compound(
    windows: list[list[str]] | None = None, datum: str = "wgs84", half: float = 200.0
) -> FenceIndex:
    """A sealed 400 m square at the frame's origin (its coordinates given in ``datum``)."""
    box = shapely.box(-half, -half, half, half)

    def lonlat(c: Any) -> Any:
        lon, lat = FRAME.to_lonlat(c[:, 0], c[:, 1])
        if datum == "gcj02":  # the square drawn on an Amap map: its GCJ-02 image
            lon, lat = fc.datums.wgs84_to_gcj02(lon, lat)
        return np.column_stack([lon, lat])

    fences = fc.FenceSet.from_records(
        [
            {
                "id": "F1",
                "kind": "sealed",
                "geometry": shapely.transform(box, lonlat),
                "windows": windows or [["2022-05-01T08:00:00+08:00", "2022-05-03"]],
            }
        ]
    )
    return FenceIndex(fences, FRAME)


def verdict_of(trail: Trail, index: FenceIndex | None = None, **options: Any) -> Any:
    verdicts = judge(pings_of(trail), index or compound(), **options)
    assert len(verdicts) == 1
    return verdicts


def test_a_stay_inside_is_an_exposure() -> None:
    trail = Trail("P", FRAME, MORNING).stay(at=(-900, 0), minutes=5).drive(to=(0, 0), kmh=30)
    trail.stay(at=(0, 0), minutes=40).drive(to=(900, 0), kmh=30)
    v = verdict_of(trail)
    assert v.verdict.tolist() == ["exposed"] and v.reasons[0] == ()
    decisive = v.decisive[0]
    assert v.episodes.fence_ids()[decisive] == "F1"
    assert v.episodes.dwell_s[decisive] >= 40 * 60 and v.episodes.stopped[decisive]


def test_driving_through_is_passing_through() -> None:
    trail = Trail("P", FRAME, MORNING).stay(at=(-1500, 0), minutes=5)
    trail.drive(to=(1500, 0), kmh=40, every_s=15).stay(at=(1500, 0), minutes=5)
    v = verdict_of(trail)
    assert v.verdict.tolist() == ["passed_through"]
    assert v.episodes.dwell_s[v.decisive[0]] < 600


def test_a_cell_fix_grazing_the_fence_is_boundary_uncertainty() -> None:
    trail = Trail("P", FRAME, MORNING).stay(at=(1500, 0), minutes=10)
    trail.cell_fix(at=(900, 0), accuracy=900).stay(at=(1500, 0), minutes=10)
    v = verdict_of(trail)
    assert v.verdict.tolist() == ["false_trigger"]
    assert v.reasons[0] == ("boundary_uncertainty",)
    assert v.grazing_p[0] < 0.9


def test_one_gps_fix_jumping_into_the_fence_is_a_location_jump() -> None:
    trail = Trail("P", FRAME, MORNING).stay(at=(-6000, 0), minutes=10)
    trail.fix(at=(0, 0), accuracy=8).fix(at=(-6000, 0)).stay(at=(-6000, 0), minutes=10)
    v = verdict_of(trail)
    assert v.verdict.tolist() == ["false_trigger"]
    assert v.reasons[0] == ("location_jump",)
    assert v.jump_speed_mps[0] > 60


@pytest.mark.parametrize(
    ("hours", "how"), [(-8, "local times read as UTC"), (8, "UTC times read as local time")]
)
def test_a_time_zone_slip_either_way_is_found(hours: int, how: str) -> None:
    # the fence is active 17:00-20:00; the person was there at 09:00 (or 01:00 the next day)
    index = compound(windows=[["2022-05-01T17:00:00+08:00", "2022-05-01T20:00:00+08:00"]])
    start = np.datetime64("2022-05-01T10:00:00") + np.timedelta64(hours, "h")  # UTC
    trail = Trail("P", FRAME, f"{start}Z").stay(at=(-900, 0), minutes=5)
    trail.drive(to=(0, 0), kmh=20).stay(at=(0, 0), minutes=30).drive(to=(-900, 0), kmh=20)
    v = verdict_of(trail, index)
    assert v.verdict.tolist() == ["false_trigger"] and v.reasons[0] == ("timezone_shift",)
    evidence = v.upstream[0]
    assert evidence["how"] == how and evidence["shift"] == -hours * 3_600_000
    assert evidence["unit"] == "ms" and evidence["fence"] == 0


def test_a_fence_drawn_in_gcj02_and_read_as_wgs84_is_a_datum_shift() -> None:
    # the fence file was drawn on an Amap map (GCJ-02); the office is near it, not in it
    index = compound(datum="wgs84", half=150)
    gcj_image = compound(datum="gcj02", half=150)
    centre = shapely.centroid(gcj_image.geometry[0])
    office = (float(centre.x), float(centre.y))  # inside the GCJ-02 image, ~500 m off
    trail = Trail("P", FRAME, MORNING).stay(at=office, minutes=60)
    v = verdict_of(trail, index)
    assert v.verdict.tolist() == ["false_trigger"] and v.reasons[0] == ("datum_shift",)
    evidence = v.upstream[0]
    assert evidence["how"] == "fences in GCJ-02 read as WGS-84"
    assert 300 < evidence["shift"] < 800 and evidence["unit"] == "m"


def test_pings_in_gcj02_read_as_wgs84_is_a_datum_shift() -> None:
    index = compound(half=150)
    # where the person really was: ~500 m from the fence, whose GCJ-02 image reaches them
    lon, lat = FRAME.to_lonlat(0.0, 0.0)
    glon, glat = fc.datums.gcj02_to_wgs84(lon, lat)
    x, y = FRAME.to_xy(glon, glat)
    trail = Trail("P", FRAME, MORNING).stay(at=(x, y), minutes=60)
    v = verdict_of(trail, index)
    assert v.verdict.tolist() == ["false_trigger"] and v.reasons[0] == ("datum_shift",)
    assert v.upstream[0]["how"] in {
        "fences in WGS-84 read as GCJ-02",
        "pings in GCJ-02 read as WGS-84",
    }


def test_far_from_everything_is_unexplained() -> None:
    v = verdict_of(Trail("P", FRAME, MORNING).stay(at=(5000, 5000), minutes=60))
    assert v.verdict.tolist() == ["unexplained"] and v.decisive.tolist() == [-1]
    assert v.upstream[0] is None


def test_the_lookback_and_at_decide_which_hits_count() -> None:
    trail = Trail("P", FRAME, MORNING).stay(at=(0, 0), minutes=40)
    trail.wait(60 * 24 * 3).stay(at=(5000, 0), minutes=10)  # three days later, far away
    assert verdict_of(trail).verdict.tolist() == ["exposed"]
    assert verdict_of(trail, lookback="2d").verdict.tolist() == ["unexplained"]
    assert verdict_of(trail, at="2022-05-01T08:00:00+08:00").verdict.tolist() == ["unexplained"]


def test_the_samples_get_their_stories_verdicts() -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    v = judge(fc.read_pings(SAMPLES / "pings.csv"), index)
    got = {pid: (verdict, reasons) for pid, verdict, reasons in zip(
        v.person_ids(), v.verdict, v.reasons, strict=True)}  # fmt: skip
    assert got == {
        "P01": ("exposed", ()),
        "P02": ("passed_through", ()),
        "P03": ("false_trigger", ("boundary_uncertainty",)),
        "P04": ("false_trigger", ("location_jump",)),
        "P05": ("false_trigger", ("timezone_shift",)),
        "P06": ("false_trigger", ("datum_shift",)),
        "P07": ("exposed", ()),
        "008": ("unexplained", ()),
    }
    assert v.upstream[list(v.person_ids()).index("P06")]["how"] == "fences in GCJ-02 read as WGS-84"


@settings(max_examples=25, deadline=None)
@given(
    x=st.floats(-140, 140),
    y=st.floats(-140, 140),
    minutes=st.integers(11, 90),
    accuracy=st.floats(3, 30),
    noise=st.lists(
        st.tuples(st.sampled_from(["cell", "jump"]), st.floats(-3000, 3000), st.integers(1, 90)),
        max_size=4,
    ),
    seed=st.integers(0, 1000),
)
def test_a_true_exposure_is_never_a_false_trigger(
    x: float, y: float, minutes: int, accuracy: float, noise: list[Any], seed: int
) -> None:
    """A real stay of at least min_dwell well inside an active fence is always exposed."""
    trail = Trail("P", FRAME, MORNING).stay(at=(2000, 2000), minutes=5)
    trail.drive(to=(x, y), kmh=20)
    trail.stay(at=(x, y), minutes=minutes, accuracy=accuracy, jitter_m=accuracy / 3, seed=seed)
    for kind, offset, wait in noise:  # cell fixes and GPS jumps anywhere, later on
        if kind == "cell":
            trail.cell_fix(at=(offset, -offset), accuracy=1200, after_s=wait)
        else:
            trail.fix(at=(offset, 2 * offset), after_s=wait).fix(at=(x, y), after_s=30)
    v = verdict_of(trail)
    assert v.verdict.tolist() == ["exposed"]


def test_durations_are_read_or_refused() -> None:
    assert parse_duration("14d") == 14 * 86_400 and parse_duration("12h") == 43_200
    assert parse_duration("90min") == 5400 and parse_duration("30s") == 30
    for bad in ("soon", "-3d", True, -1, "d"):
        with pytest.raises(OptionError, match="not a duration"):
            parse_duration(bad)


def test_the_policy_is_honoured() -> None:
    trail = Trail("P", FRAME, MORNING).stay(at=(-900, 0), minutes=5).drive(to=(0, 0), kmh=30)
    trail.stay(at=(0, 0), minutes=12).drive(to=(900, 0), kmh=30)
    assert verdict_of(trail).verdict.tolist() == ["exposed"]
    strict = Policy(min_dwell_s=30 * 60)
    assert verdict_of(trail, policy=strict).verdict.tolist() == ["passed_through"]


def test_a_driver_with_one_good_fix_and_grazing_cell_fixes_passed_through() -> None:
    """The seed's harm: one GPS fix inside and cell discs grazing the fence is no stay."""
    trail = Trail("D1", FRAME, MORNING).fix(at=(-1800, 0))
    for x in (-900.0, -600.0):
        trail.cell_fix(at=(x, 0), accuracy=1000, after_s=300)
    trail.fix(at=(60, 0), accuracy=10, after_s=180)  # 140 m inside the compound
    for x in (700.0, 1000.0):
        trail.cell_fix(at=(x, 0), accuracy=1100, after_s=300)
    trail.fix(at=(2600, 0), after_s=300)
    index = compound()
    v = judge(pings_of(trail), index)
    assert v.verdict.tolist() == ["passed_through"]
    episode = int(v.decisive[0])
    assert v.episodes.pings[episode] == 5 and v.episodes.credible_pings[episode] == 1
    assert v.episodes.dwell_s[episode] == 0
    # the upper bound stops at the cell fixes either side: 300 s before, 300 s after
    assert v.episodes.dwell_s_max[episode] == 180 + 300


@settings(max_examples=40, deadline=None)
@given(
    passage_min=st.integers(0, 9),
    before=st.lists(
        st.tuples(st.floats(0.5, 12), st.floats(250, 900), st.floats(700, 1500)), max_size=5
    ),
    after=st.lists(
        st.tuples(st.floats(0.5, 12), st.floats(250, 900), st.floats(700, 1500)), max_size=5
    ),
)
def test_non_credible_hits_around_a_passage_never_make_it_a_stay(
    passage_min: int,
    before: list[tuple[float, float, float]],
    after: list[tuple[float, float, float]],
) -> None:
    """Cell fixes whose discs reach the fence, anywhere around a short passage: still a passage."""
    index = compound()
    trail = Trail("D2", FRAME, MORNING).fix(at=(-3000, 0))
    for gap_min, x, accuracy in before:
        trail.cell_fix(at=(-x, 0), accuracy=accuracy, after_s=gap_min * 60)
    trail.fix(at=(-150, 0), after_s=60)
    for _ in range(passage_min):
        trail.fix(at=(-150 + 30 * (_ + 1), 0), after_s=60)
    for gap_min, x, accuracy in after:
        trail.cell_fix(at=(x, 0), accuracy=accuracy, after_s=gap_min * 60)
    trail.fix(at=(3000, 0), after_s=600)
    pings = pings_of(trail)
    alone = judge(pings_of(_passage_only(passage_min)), index)
    v = judge(pings, index)
    assert alone.verdict.tolist() == ["passed_through"]
    assert v.verdict.tolist() == ["passed_through"]
    position = fc.pings.ping_positions(v.hits.ping, pings.row)
    assert (pings.source[position][v.credible] == fc.options.Source.GPS.code).all()
    assert v.episodes.dwell_s.max() == passage_min * 60


def _passage_only(passage_min: int) -> Trail:
    trail = Trail("D2", FRAME, MORNING).fix(at=(-3000, 0))
    trail.fix(at=(-150, 0), after_s=60)
    for k in range(passage_min):
        trail.fix(at=(-150 + 30 * (k + 1), 0), after_s=60)
    return trail.fix(at=(3000, 0), after_s=600)


def _point_fences(positions: list[tuple[float, float]]) -> FenceIndex:
    """Small venues (40 m margins) at these frame positions, active all of May 1st."""
    records = []
    for k, (x, y) in enumerate(positions):
        lon, lat = FRAME.to_lonlat(np.array([x]), np.array([y]))
        records.append(
            {
                "id": f"V{k}",
                "kind": "risk_venue",
                "geometry": shapely.Point(float(lon[0]), float(lat[0])),
                "buffer_m": 40.0,
                "windows": [["2022-05-01", "2022-05-02"]],
            }
        )
    return FenceIndex(fc.FenceSet.from_records(records), FRAME)


def _gcj_displacement() -> np.ndarray:
    """Where a fence at the origin lands when its WGS-84 coordinates are read as GCJ-02's."""
    lon, lat = FRAME.to_lonlat(np.array([0.0]), np.array([0.0]))
    gx, gy = FRAME.to_xy(*fc.datums.wgs84_to_gcj02(lon, lat))
    return np.array([float(gx[0]), float(gy[0])])


@pytest.mark.parametrize(("directions", "specific"), [(1, True), (17, False)])
def test_a_datum_mix_up_is_the_cause_only_when_it_is_specific(
    directions: int, specific: bool
) -> None:
    """One venue where the mix-up puts it: specific. Venues all around: a chance alignment."""
    d = _gcj_displacement()
    assert 300 < np.hypot(*d) < 800
    turns = [2 * np.pi * k / 17 for k in range(directions)]
    positions = [
        (-(np.cos(a) * d[0] - np.sin(a) * d[1]), -(np.sin(a) * d[0] + np.cos(a) * d[1]))
        for a in turns
    ]
    trail = Trail("M", FRAME, MORNING).stay(at=(0, 0), minutes=30, accuracy=8)
    v = verdict_of(trail, _point_fences(positions))
    assert v.verdict.tolist() == ["false_trigger"] and v.reasons[0] == ("datum_shift",)
    evidence = v.upstream[0]
    assert evidence["how"] == "fences in GCJ-02 read as WGS-84"
    assert evidence["alternatives"] == 16
    assert evidence["alternatives_hit"] == directions - 1
    assert evidence["specific"] is specific
    assert abs(evidence["distance_m"] - np.hypot(*d)) < 45  # the fix really was that far off


@pytest.mark.parametrize(("window", "specific"), [
    (["2022-05-01T15:00:00+08:00", "2022-05-01T16:00:00+08:00"], True),
    (["2022-05-01T10:00:00+08:00", "2022-05-03T00:00:00+08:00"], False),
])  # fmt: skip
def test_a_zone_slip_is_judged_against_what_the_window_allows(
    window: list[str], specific: bool
) -> None:
    """A fix at 07:10 and a one-hour window from 15:00: only +8 h brings it in. A window
    from 10:00 over two days: most later shifts would too, so the slip is only possible."""
    trail = Trail("Z", FRAME, "2022-05-01T07:10:00+08:00").stay(at=(0, 0), minutes=20)
    v = verdict_of(trail, compound(windows=[window]))
    assert v.reasons[0] == ("timezone_shift",)
    evidence = v.upstream[0]
    assert evidence["shift"] == 8 * 3_600_000 and evidence["alternatives"] == 22
    assert evidence["specific"] is specific
    assert evidence["t"] - evidence["t_right"] == 8 * 3_600_000


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.booleans(),
            st.sampled_from(
                [
                    float("nan"),
                    float("inf"),
                    -float("inf"),
                    0.5,
                    2.0,
                    float(np.finfo(np.float64).max),
                ]
            ),
        ),
        max_size=40,
    )
)
def test_best_hit_is_the_largest_flagged_value_nan_lowest_first_on_ties(
    rows: list[tuple[int, bool, float]],
) -> None:
    from fencecheck.judging.verdicts import _best_hit

    row = np.array([r[0] for r in rows], dtype=np.int64)
    flags = np.array([r[1] for r in rows], dtype=bool)
    value = np.array([r[2] for r in rows], dtype=np.float64)
    # the ranking of np.nan_to_num(value, nan=-inf): +inf as the largest finite number
    rank = np.nan_to_num(value, nan=-np.inf)
    expected = []
    for g in range(5):
        best = -1
        for k in range(len(rows)):
            if flags[k] and row[k] == g and (best < 0 or rank[k] > rank[best]):
                best = k
        expected.append(best)
    assert _best_hit(row, flags, value, 5).tolist() == expected
