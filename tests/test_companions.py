"""The companion rule against a per-slot loop written as docs/domain.md words it."""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import rice

import fencecheck as fc
from fencecheck.errors import DataError, OptionError
from fencecheck.frame import MetricFrame
from fencecheck.judging.companions import PAIR_COLUMNS, companions, rice_cdf
from fencecheck.pings import PingTable, build_pings
from fencecheck.policy import Policy
from fencecheck.tables import NO_TIME

ORIGIN = (116.40, 39.90)
FRAME = MetricFrame(*ORIGIN)
T0 = 1_651_370_400_000  # 2022-05-01T02:00Z, a whole minute
MINUTE = 60_000


def _table(rows: list[tuple[str, int, float, float, float]], datum: str = "wgs84") -> PingTable:
    """Pings from (id, t ms, x, y, accuracy) in the test frame (converted to ``datum``)."""
    who, t, x, y, acc = (list(c) for c in zip(*rows, strict=True))
    lon, lat = FRAME.to_lonlat(np.array(x, dtype=float), np.array(y, dtype=float))
    if datum == "gcj02":
        lon, lat = fc.datums.wgs84_to_gcj02(lon, lat)
    return build_pings(
        {
            "person_id": np.array(who, dtype=object),
            "t": np.array(t, dtype=np.int64),
            "lon": lon,
            "lat": lat,
            "accuracy_m": np.array(acc, dtype=float),
        },
        epoch_unit="ms",
        datum=datum,
    )


# -- the slow reference: one slot at a time, as docs/domain.md says ------------------------------


def _tracks(
    table: PingTable, frame: MetricFrame
) -> dict[str, list[tuple[int, float, float, float]]]:
    """Per owner, pings by time; of pings with equal t, only the last row counts."""
    x, y = frame.to_xy(table.lon, table.lat)
    out: dict[str, dict[int, tuple[int, float, float, float]]] = {}
    for k in np.argsort(table.row, kind="stable").tolist():
        who = str(table.person_ids()[k])
        t = int(table.t[k])
        out.setdefault(who, {})[t] = (t, float(x[k]), float(y[k]), float(table.accuracy_m[k]))
    return {who: [pings[t] for t in sorted(pings)] for who, pings in out.items()}


def _position(track: list[tuple[int, float, float, float]], e: int, hold: int) -> Any:
    """The position at slot end e: the last ping before e, held or interpolated to the next."""
    k = bisect.bisect_left([p[0] for p in track], e) if len(track) < 64 else _bisect(track, e)
    if k == 0:
        return None
    a = track[k - 1]  # the last ping with t < e
    if e - a[0] > hold:
        return None
    if k < len(track) and track[k][0] - a[0] <= hold:
        b = track[k]
        f = (e - a[0]) / (b[0] - a[0])
        return (a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2]), a[3] + f * (b[3] - a[3]))
    return a[1], a[2], a[3]


_TIMES: dict[int, list[int]] = {}


def _bisect(track: list[tuple[int, float, float, float]], e: int) -> int:
    times = _TIMES.setdefault(id(track), [p[0] for p in track])
    return bisect.bisect_left(times, e)


def slow_companions(
    pings: PingTable, cases: PingTable, origin: tuple[float, float], policy: Policy
) -> dict[tuple[str, str], dict[str, Any]]:
    frame = MetricFrame(*origin)
    people, victims = _tracks(pings, frame), _tracks(cases, frame)
    slot, hold, cell = round(policy.slot_s * 1000), round(policy.hold_s * 1000), policy.cell_m
    times = [p[0] for track in [*people.values(), *victims.values()] for p in track]
    first_e = (min(times) // slot + 1) * slot
    last_e = max(times) + hold
    out = {}
    for who, mine in people.items():
        for case, theirs in victims.items():
            grid, close, credible, best_p = [0, 0, 0, 0], 0, 0, 0.0
            min_d, first, last, first_close, last_close = math.inf, None, None, None, None
            for e in range(first_e, last_e + 1, slot):
                p, c = _position(mine, e, hold), _position(theirs, e, hold)
                if p is None or c is None:
                    continue
                d = math.hypot(c[0] - p[0], c[1] - p[1])
                min_d = min(min_d, d)
                counted = False
                for g, (ox, oy) in enumerate(
                    [(0, 0), (cell / 2, 0), (0, cell / 2), (cell / 2, cell / 2)]
                ):
                    if math.floor((p[0] + ox) / cell) == math.floor(
                        (c[0] + ox) / cell
                    ) and math.floor((p[1] + oy) / cell) == math.floor((c[1] + oy) / cell):
                        grid[g] += 1
                        counted = counted or g == 0
                if d <= policy.close_m:
                    close += 1
                    counted = True
                    first_close = e - slot if first_close is None else first_close
                    last_close = e
                    sigma = math.hypot(p[2] / 1.5096, c[2] / 1.5096)
                    p_close = float(rice.cdf(policy.close_m / sigma, d / sigma))
                    best_p = max(best_p, p_close)
                    credible += p_close >= policy.credible_p
                if counted:
                    first = e - slot if first is None else first
                    last = e
            if grid[0] or close:
                need = policy.min_together_s / policy.slot_s
                fires = [g >= need for g in grid]
                out[(who, case)] = {
                    "grid_minutes": grid[0] * slot / 60_000,
                    "close_minutes": close * slot / 60_000,
                    "credible_minutes": credible * slot / 60_000,
                    "min_distance_m": min_d,
                    "first_together": first,
                    "last_together": last,
                    "grid_rule": fires[0],
                    "grid_robust": all(f == fires[0] for f in fires),
                    "max_p_close": best_p,
                    "first_close": NO_TIME if first_close is None else first_close,
                    "last_close": NO_TIME if last_close is None else last_close,
                }
    return out


def _as_dict(result: fc.judging.companions.Companions) -> dict[tuple[str, str], dict[str, Any]]:
    table = result.table
    out = {}
    for k in range(len(table)):
        row = {name: table[name][k] for name in PAIR_COLUMNS}
        out[(row.pop("person_id"), row.pop("case_id"))] = row
    return out


def assert_same(got: fc.judging.companions.Companions, expected: dict[Any, Any]) -> None:
    mine = _as_dict(got)
    assert set(mine) == set(expected)
    for key, want in expected.items():
        have = mine[key]
        for name in (
            "grid_minutes",
            "close_minutes",
            "credible_minutes",
            "grid_rule",
            "grid_robust",
        ):
            assert have[name] == want[name], (key, name, have[name], want[name])
        for name in ("first_together", "last_together", "first_close", "last_close"):
            assert have[name] == want[name], (key, name)
        assert math.isclose(have["min_distance_m"], want["min_distance_m"], abs_tol=1e-9), key
        assert math.isclose(have["max_p_close"], want["max_p_close"], abs_tol=1e-12), key


# -- property tests ------------------------------------------------------------------------------

_ON_EDGES = st.sampled_from([0.0, 800.0, -800.0, 400.0, 1600.0, 799.999, 800.001])
_COORD = st.one_of(st.floats(-1500, 2500, allow_nan=False), _ON_EDGES)
_PING = st.tuples(
    st.integers(0, 90),  # minute
    st.sampled_from([0, 0, 1, 29_999, 30_000, 59_999]),  # ms into it: slot boundaries, ties
    _COORD,
    _COORD,
    st.sampled_from([5.0, 20.0, 60.0, 900.0]),
)


@settings(max_examples=60, deadline=None)
@given(
    people=st.lists(st.lists(_PING, min_size=1, max_size=12), min_size=1, max_size=3),
    cases=st.lists(st.lists(_PING, min_size=1, max_size=12), min_size=1, max_size=2),
    hold_min=st.sampled_from([5, 15]),
    datum=st.sampled_from(["wgs84", "gcj02"]),
)
def test_the_pair_table_equals_the_per_slot_loop(
    people: list[list[tuple[int, int, float, float, float]]],
    cases: list[list[tuple[int, int, float, float, float]]],
    hold_min: int,
    datum: str,
) -> None:
    def rows(tracks: list[Any], prefix: str) -> list[tuple[str, int, float, float, float]]:
        return [
            (f"{prefix}{k}", T0 + m * MINUTE + ms, x, y, acc)
            for k, track in enumerate(tracks)
            for m, ms, x, y, acc in track
        ]

    pings, case_pings = _table(rows(people, "P")), _table(rows(cases, "C"), datum)
    policy = Policy(hold_s=hold_min * 60)
    got = companions(pings, case_pings, grid_origin=ORIGIN, policy=policy)
    assert got.grid_origin == ORIGIN
    assert_same(got, slow_companions(pings, case_pings, ORIGIN, policy))


def test_a_gap_longer_than_the_hold_is_not_bridged() -> None:
    # the person's fixes 20 minutes apart: known for 15 minutes after each, held, not interpolated
    person = _table([("P", T0, 0.0, 0.0, 10.0), ("P", T0 + 20 * MINUTE, 50.0, 0.0, 10.0)])
    case = _table([("C", T0 + k * MINUTE, 10.0, 0.0, 10.0) for k in range(40)])
    got = _as_dict(companions(person, case, grid_origin=ORIGIN))[("P", "C")]
    assert got["grid_minutes"] == 15 + 15  # slots 1..15 after each fix
    assert got["first_together"] == T0 and got["last_together"] == T0 + 35 * MINUTE
    assert got["min_distance_m"] == pytest.approx(10.0, abs=1e-6)


def test_same_cell_hundreds_of_metres_apart_fires_the_grid_rule_but_is_never_close() -> None:
    person = _table([("P", T0 + k * MINUTE, 20.0, 20.0, 10.0) for k in range(30)])
    case = _table([("C", T0 + k * MINUTE, 620.0, 700.0, 10.0) for k in range(30)])
    [row] = _as_dict(companions(person, case, grid_origin=ORIGIN)).values()
    assert row["grid_rule"] and row["grid_minutes"] >= 10
    assert row["close_minutes"] == 0 and row["credible_minutes"] == 0
    assert 900 < row["min_distance_m"] < 910
    # moved by half a cell the two are in different cells: the rule is not robust
    assert not row["grid_robust"]


def test_close_across_a_cell_edge_is_close_without_a_grid_minute() -> None:
    person = _table([("P", T0 + k * MINUTE, 795.0, 10.0, 5.0) for k in range(20)])
    case = _table([("C", T0 + k * MINUTE, 805.0, 10.0, 5.0) for k in range(20)])
    [row] = _as_dict(companions(person, case, grid_origin=ORIGIN)).values()
    assert row["grid_minutes"] == 0 and not row["grid_rule"]
    assert row["close_minutes"] == row["credible_minutes"] == 34


def test_p_close_is_the_rice_cdf_and_agrees_with_monte_carlo() -> None:
    rng = np.random.default_rng(7)
    for d, sigma_p, sigma_c in [(0.0, 10.0, 10.0), (60.0, 30.0, 40.0), (150.0, 80.0, 20.0),
                                (20.0, 600.0, 10.0)]:  # fmt: skip
        n = 200_000
        truth_p = rng.normal(0.0, sigma_p, (n, 2))
        truth_c = rng.normal(0.0, sigma_c, (n, 2)) + np.array([d, 0.0])
        monte_carlo = float(np.mean(np.hypot(*(truth_c - truth_p).T) <= 100.0))
        sigma = math.hypot(sigma_p, sigma_c)
        p = float(rice_cdf(np.array([100.0 / sigma]), np.array([d / sigma]))[0])
        assert abs(p - monte_carlo) < 0.01, (d, sigma_p, sigma_c, p, monte_carlo)


def test_a_case_id_that_is_a_person_id_is_refused() -> None:
    person = _table([("X1", T0, 0.0, 0.0, 10.0)])
    case = _table([("X1", T0, 0.0, 0.0, 10.0)])
    with pytest.raises(DataError, match="case id 'X1' is also a person id"):
        companions(person, case)


@pytest.mark.parametrize("origin", ["116.4", "a,b", (116.4, 95.0), "116.4,39.9,1"])
def test_a_grid_origin_that_is_not_a_lon_lat_pair_is_refused(origin: Any) -> None:
    person = _table([("P", T0, 0.0, 0.0, 10.0)])
    with pytest.raises(OptionError, match="grid origin"):
        companions(person, person.take(np.zeros(0, dtype=np.int64)), grid_origin=origin)


def test_no_cases_no_pairs_and_the_default_origin_is_the_cases_centre() -> None:
    person = _table([("P", T0 + k * MINUTE, 0.0, 0.0, 10.0) for k in range(5)])
    empty = companions(person, person.take(np.zeros(0, dtype=np.int64)))
    assert len(empty) == 0 and empty.table.names == PAIR_COLUMNS
    case = _table([("C", T0, -500.0, 0.0, 10.0), ("C", T0 + MINUTE, 500.0, 0.0, 10.0)])
    result = companions(person, case)
    lon, lat = FRAME.to_lonlat(np.array([0.0]), np.array([0.0]))
    assert result.grid_origin == pytest.approx((float(lon[0]), float(lat[0])), abs=1e-5)
    assert (result.table["first_together"] != NO_TIME).all()


def test_a_gap_of_exactly_the_hold_is_interpolated() -> None:
    # 15 minutes from x = 0 to x = 1,600 m: 106.7 m a slot, so in the case's cell for 7 slots;
    # held at x = 0 instead, it would be 15
    person = _table([("P", T0, 0.0, 10.0, 10.0), ("P", T0 + 15 * MINUTE, 1600.0, 10.0, 10.0)])
    case = _table([("C", T0 + k * MINUTE, 10.0, 10.0, 10.0) for k in range(40)])
    result = companions(person, case, grid_origin=ORIGIN)
    assert _as_dict(result)[("P", "C")]["grid_minutes"] == 7
    assert_same(result, slow_companions(person, case, ORIGIN, Policy()))


def _csv(path: Any, table: PingTable) -> None:
    lines = ["person_id,t,lon,lat,accuracy_m"]
    for k in range(len(table)):
        lines.append(
            f"{table.person_ids()[k]},{fc.times.format_utc(int(table.t[k]))},"
            f"{float(table.lon[k])!r},{float(table.lat[k])!r},{float(table.accuracy_m[k])!r}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_command_writes_the_library_pair_table(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    person = _table(
        [("P", T0 + k * MINUTE, 20.0, 20.0, 10.0) for k in range(30)]
        + [("Q", T0 + k * MINUTE, 30.0, 25.0, 10.0) for k in range(30)]
    )
    case = _table([("C", T0 + k * MINUTE, 620.0, 700.0, 10.0) for k in range(30)]
                  + [("D", T0 + k * MINUTE, 35.0, 20.0, 10.0) for k in range(12)])  # fmt: skip
    _csv(tmp_path / "p.csv", person)
    _csv(tmp_path / "c.csv", case)
    out = tmp_path / "pairs.csv"
    args = ["companions", "--pings", str(tmp_path / "p.csv"), "--cases", str(tmp_path / "c.csv")]
    assert main([*args, "--grid-origin", "116.40,39.90", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "4 pairs of 2 people with 2 cases; the grid rule fires for 4, of which 2 were" in err
    assert "grid origin 116.400000,39.900000, cells of 800 m, slots of 60 s" in err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(PAIR_COLUMNS)
    expected = companions(person, case, grid_origin=ORIGIN).table
    assert [line.split(",")[:3] for line in lines[1:]] == [
        [p, c, repr(float(g))]
        for p, c, g in zip(
            expected["person_id"], expected["case_id"], expected["grid_minutes"], strict=True
        )
    ]
    assert {line.split(",")[8] for line in lines[1:]} == {"true"}
    # the rule's numbers are options, durations spelled as --lookback takes them
    assert main([*args, "--grid-origin", "116.40,39.90", "--min-together", "30min"]) == 0
    assert "the grid rule fires for 2," in capsys.readouterr().err
    assert main([*args, "--grid-origin", "116.40"]) == 2
    assert "grid origin: '116.40' is not a lon,lat pair" in capsys.readouterr().err
    assert main([*args, "--slot", "soon"]) == 2
    with pytest.raises(SystemExit) as usage:
        main(["companions", "--pings", str(tmp_path / "p.csv")])
    assert usage.value.code == 2


# -- verdicts: the most serious over fences and cases ---------------------------------------------


def _far_fence_index() -> fc.FenceIndex:
    import shapely

    box = shapely.box(20_000, 20_000, 20_200, 20_200)
    lonlat = shapely.transform(box, lambda c: np.column_stack(FRAME.to_lonlat(c[:, 0], c[:, 1])))
    fences = fc.FenceSet.from_records(
        [{"id": "FAR", "kind": "sealed", "geometry": lonlat, "windows": [["2022-04-01", None]]}]
    )
    return fc.FenceIndex(fences, FRAME)


def _explain(person: PingTable, case: PingTable) -> fc.Explanation:
    [e] = fc.explain(person, _far_fence_index(), cases=case, grid_origin=ORIGIN, track=False)
    return e


def _walk(who: str, points: list[tuple[float, float]], acc: float = 8.0) -> PingTable:
    return _table([(who, T0 + k * MINUTE, x, y, acc) for k, (x, y) in enumerate(points)])


def test_time_together_close_to_a_case_is_an_exposure_that_names_the_case() -> None:
    e = _explain(_walk("P", [(30.0, 0.0)] * 25), _walk("C", [(0.0, 0.0)] * 25))
    assert e.verdict == "exposed" and e.reasons == ()
    d = e.decisive
    assert d is not None and d["source"] == "case" and d["case_id"] == "C"
    assert d["credible_minutes"] >= 10 and d["grid_rule"]
    assert e.not_checked == () and [p["case_id"] for p in e.companions or []] == ["C"]
    en = e.to_text("en")
    assert f"credibly within 100 m of case C for {d['credible_minutes']:.0f} minutes" in en
    assert "as close as 30 m" in en and "病例 C" in e.to_text("zh")
    assert e.advice_key == "companion_three_days_two_tests"


def test_a_brief_close_contact_is_a_passage_and_never_told_to_stay_home() -> None:
    path = [(30.0, 0.0)] * 3 + [(2000.0 + 100 * k, 0.0) for k in range(20)]
    e = _explain(_walk("P", path), _walk("C", [(0.0, 0.0)] * 23))
    assert e.verdict == "passed_through"
    assert e.decisive is not None and 0 < e.decisive["credible_minutes"] < 10
    assert e.advice_key == "passage_one_test"
    assert "a brief contact" in e.to_text("en") and "短暂接触" in e.to_text("zh")


def test_the_same_cell_far_apart_is_a_false_trigger_the_grid_is_coarse() -> None:
    e = _explain(_walk("P", [(20.0, 20.0)] * 30), _walk("C", [(620.0, 700.0)] * 30))
    assert e.verdict == "false_trigger" and e.reasons == ("grid_coarse",)
    assert e.decisive is not None and e.decisive["credible_minutes"] == 0
    en = e.to_text("en")
    assert "shared a 800 m grid cell with case C" in en
    assert "the two phones were never closer than 907 m" in en and "grid rule is coarse" in en
    assert "网格规则过粗" in e.to_text("zh")
    assert e.advice_key == "one_negative_test"


def test_a_fence_exposure_outranks_a_coarse_grid_and_both_are_said() -> None:
    import shapely

    box = shapely.box(-100, -100, 100, 100)
    lonlat = shapely.transform(box, lambda c: np.column_stack(FRAME.to_lonlat(c[:, 0], c[:, 1])))
    index = fc.FenceIndex(
        fc.FenceSet.from_records(
            [{"id": "F1", "name": "小区", "kind": "sealed", "geometry": lonlat,
              "windows": [["2022-04-01", None]]}]
        ),
        FRAME,
    )  # fmt: skip
    [e] = fc.explain(
        _walk("P", [(20.0, 20.0)] * 30), index, cases=_walk("C", [(620.0, 700.0)] * 30),
        grid_origin=ORIGIN, track=False,
    )  # fmt: skip
    assert e.verdict == "exposed" and e.decisive is not None and e.decisive["fence_id"] == "F1"
    assert "Also: in the same 800 m cell as case C" in e.to_text("en")


def test_without_a_companion_risk_persons_are_checked_all_the_same() -> None:
    e = _explain(_walk("P", [(5000.0, 0.0)] * 10), _walk("C", [(0.0, 0.0)] * 10))
    assert e.verdict == "unexplained" and e.companions == [] and e.not_checked == ()
    assert "Not checked" not in e.to_text("en") and "未核查" not in e.to_text("zh")
    [plain] = fc.explain(_walk("P", [(5000.0, 0.0)] * 10), _far_fence_index(), track=False)
    assert plain.not_checked == ("risk_person",)


def test_scan_names_the_deciding_case_as_explain_does() -> None:
    person = _table(
        [("P", T0 + k * MINUTE, 30.0, 0.0, 8.0) for k in range(25)]
        + [("Q", T0 + k * MINUTE, 1620.0, 20.0, 8.0) for k in range(30)]
        + [("R", T0 + k * MINUTE, 9000.0, 0.0, 8.0) for k in range(30)]
    )
    case = _table(
        [("C", T0 + k * MINUTE, 0.0, 0.0, 8.0) for k in range(25)]
        + [("D", T0 + k * MINUTE, 2220.0, 700.0, 8.0) for k in range(30)]
    )
    index = _far_fence_index()
    result = fc.scan(person, index, cases=case, grid_origin=ORIGIN)
    people = result.people
    row = {pid: k for k, pid in enumerate(people["person_id"].tolist())}
    for e in fc.explain(person, index, cases=case, grid_origin=ORIGIN, track=False):
        if e.verdict == "unexplained":
            assert e.person_id not in row or people["verdict"][row[e.person_id]] == "not_flagged"
            continue
        k = row[e.person_id]
        assert people["verdict"][k] == e.verdict
        assert people["reasons"][k] == ";".join(e.reasons)
        assert e.decisive is not None and people["case_id"][k] == e.decisive["case_id"]
    assert people["case_id"][row["P"]] == "C" and people["verdict"][row["P"]] == "exposed"
    assert people["case_id"][row["Q"]] == "D" and people["reasons"][row["Q"]] == "grid_coarse"


def test_explain_and_scan_take_cases_on_the_command_line_fences_optional(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from fencecheck.cli import main

    _csv(tmp_path / "p.csv", _walk("P", [(20.0, 20.0)] * 30))
    _csv(tmp_path / "c.csv", _walk("C", [(620.0, 700.0)] * 30))
    args = ["--pings", str(tmp_path / "p.csv"), "--cases", str(tmp_path / "c.csv")]
    assert main(["explain", *args, "--grid-origin", "116.4,39.9", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "false_trigger" and doc["reasons"] == ["grid_coarse"]
    assert doc["decisive"]["case_id"] == "C" and doc["decisive"]["grid_origin"] == [116.4, 39.9]
    assert doc["not_checked"] == [] and len(doc["companions"]) == 1
    assert main(["scan", *args, "--grid-origin", "116.4,39.9", "--out", str(tmp_path / "s")]) == 0
    people = (tmp_path / "s" / "people.csv").read_text(encoding="utf-8").splitlines()
    header = people[0].split(",")
    row = dict(zip(header, people[1].split(","), strict=True))
    assert (row["verdict"], row["reasons"], row["case_id"]) == ("false_trigger", "grid_coarse", "C")
    with pytest.raises(SystemExit) as usage:
        main(["explain", "--pings", str(tmp_path / "p.csv")])
    assert usage.value.code == 2


def test_the_demo_has_a_case_for_each_companion_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    from fencecheck.cli import main

    assert main(["demo", "--format", "json"]) == 0
    docs = {d["person_id"]: d for d in map(json.loads, capsys.readouterr().out.splitlines())}
    assert (docs["008"]["verdict"], docs["008"]["decisive"]["case_id"]) == ("exposed", "C01")
    assert (docs["P04"]["verdict"], docs["P04"]["decisive"]["case_id"]) == ("passed_through", "C03")
    assert docs["P04"]["reasons"] == [] and docs["P04"]["advice"]["key"] == "passage_one_test"
    assert docs["P06"]["reasons"] == ["datum_shift", "grid_coarse"]
    assert docs["P06"]["evidence"]["grid_coarse"]["case_id"] == "C02"
    assert all(d["not_checked"] == [] for d in docs.values())


def test_bad_case_rows_are_set_aside_and_counted_and_an_empty_case_file_finds_nothing(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    _csv(tmp_path / "p.csv", _walk("P", [(30.0, 0.0)] * 20))
    _csv(tmp_path / "c.csv", _walk("C", [(0.0, 0.0)] * 20))
    lines = (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",39.", ",99.", 1)  # data row 2: latitude out of range
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["companions", "--pings", str(tmp_path / "p.csv"), "--cases", str(tmp_path / "c.csv")]
    assert main([*args, "--out", str(tmp_path / "pairs.csv")]) == 1
    assert "row 2" in capsys.readouterr().err
    rejected = tmp_path / "bad.csv"
    assert (
        main([*args, "--on-error", "reject", "--rejected", str(rejected),
              "--out", str(tmp_path / "pairs.csv")])
        == 0
    )  # fmt: skip
    err = capsys.readouterr().err
    assert "1 row set aside (lat 1)" in err
    assert rejected.read_text(encoding="utf-8").count("\n") == 2
    (tmp_path / "empty.csv").write_text("person_id,t,lon,lat,accuracy_m\n", encoding="utf-8")
    empty = [
        "companions",
        "--pings",
        str(tmp_path / "p.csv"),
        "--cases",
        str(tmp_path / "empty.csv"),
    ]
    assert main([*empty, "--out", str(tmp_path / "none.csv")]) == 0
    assert (tmp_path / "none.csv").read_text(encoding="utf-8").splitlines() == [
        ",".join(PAIR_COLUMNS)
    ]
    assert "0 pairs of 0 people with 0 cases" in capsys.readouterr().err


def test_real_geolife_tracks_as_cases_equal_the_per_slot_loop() -> None:
    """User 001's busiest real day as a case; user 005's busiest day moved onto the same date,
    and user 001's own day three minutes later, as people."""
    from support import shared_file

    path = shared_file("geolife/geolife_sample_skmob_users001_005.csv")
    real = fc.read_pings(path, columns={"user_id": "person_id"}, tz="UTC")
    day_ms = 86_400_000

    def busiest(user: str) -> Any:
        mine = real.take(real.person_ids() == user)
        days, counts = np.unique(mine.t // day_ms, return_counts=True)
        return mine.take(mine.t // day_ms == days[np.argmax(counts)])

    one, five = busiest("001"), busiest("005")
    shift = (int(one.t[0]) // day_ms - int(five.t[0]) // day_ms) * day_ms

    def as_table(part: Any, who: str, offset: int) -> PingTable:
        return build_pings(
            {"person_id": np.full(len(part), who, dtype=object), "t": part.t + offset,
             "lon": part.lon, "lat": part.lat, "accuracy_m": part.accuracy_m},
            epoch_unit="ms",
        )  # fmt: skip

    case = as_table(one, "C001", 0)
    # user 005's day moved onto the date; user 001's own day walked three minutes late
    people = build_pings(
        {"person_id": np.array(["U005"] * len(five) + ["F001"] * len(one), dtype=object),
         "t": np.concatenate([five.t + shift, one.t + 3 * MINUTE]),
         "lon": np.concatenate([five.lon, one.lon]), "lat": np.concatenate([five.lat, one.lat]),
         "accuracy_m": np.concatenate([five.accuracy_m, one.accuracy_m])},
        epoch_unit="ms",
    )  # fmt: skip
    origin = (116.32, 39.98)
    got = companions(people, case, grid_origin=origin)
    expected = slow_companions(people, case, origin, Policy())
    assert ("F001", "C001") in expected and expected[("F001", "C001")]["credible_minutes"] > 60
    assert_same(got, expected)


def test_scan_with_cases_adds_a_case_table_and_companion_what_ifs() -> None:
    from fencecheck import samples
    from fencecheck.judging.case_scan import COMPANION_RULES

    index = fc.FenceIndex.build(fc.read_fences(samples.path("fences.geojson")))
    pings = fc.read_pings(samples.path("pings.csv"))
    cases = fc.read_pings(samples.path("cases.csv"))
    result = fc.scan(pings, index, cases=cases)
    assert result.tables[-1] == "cases" and result.cases is not None
    table = {row: k for k, row in enumerate(result.cases["case_id"].tolist())}
    assert result.cases["exposed"][table["C01"]] == 1 == result.cases["decisive_for"][table["C01"]]
    assert result.cases["grid_coarse"][table["C02"]] == 1
    assert result.cases["false_share"][table["C02"]] == 1.0
    assert result.cases["passed_through"][table["C03"]] == 1
    # each companion what-if row, recounted: flagged by a fence today, or by the varied grid rule
    plain = {e.person_id: e.verdict for e in fc.explain(pings, index, track=False)}
    last = {pid: int(pings.t[pings.person_ids() == pid].max()) for pid in plain}
    lo = np.full(len(pings.persons), np.iinfo(np.int64).min // 4, dtype=np.int64)
    hi = lo.copy()
    for pid, at in last.items():
        code = pings.persons.code(pid)
        lo[code], hi[code] = at - 14 * 86_400_000, at
    origin = (index.frame.lon0, index.frame.lat0)
    variants = {
        "grid_400m": Policy(cell_m=400.0),
        "grid_200m": Policy(cell_m=200.0),
        "together_30min": Policy(min_together_s=1800.0),
        "companions_no_cell_fixes": Policy(),
    }
    whatif = {rule: k for k, rule in enumerate(result.whatif["rule"].tolist())}
    for rule, _ in COMPANION_RULES:
        theirs = cases if rule != "companions_no_cell_fixes" else cases.take(cases.source != 2)
        mine = pings if rule != "companions_no_cell_fixes" else pings.take(pings.source != 2)
        pairs = companions(mine, theirs, grid_origin=origin, policy=variants[rule],
                           windows=(lo, hi))  # fmt: skip
        fired = set(pairs.table["person_id"][pairs.table["grid_rule"]].tolist())
        expected = {pid for pid, verdict in plain.items() if verdict != "unexplained"} | fired
        assert result.whatif["flagged"][whatif[rule]] == len(expected), rule
