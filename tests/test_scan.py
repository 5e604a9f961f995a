"""scan: every table equals a slow, obvious recomputation from explain, person by person.

A small seeded city (fences with holes, a multi-part fence, a venue point,
margins, windows; one fence drawn in GCJ-02) and people whose stories cover every
verdict: stays, drives, cell fixes, jumps, time-zone slips, neighbours. Each
person is then explained on their own, and the per-fence counts, the what-if
numbers and the timeline are recounted from those explanations.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import shapely

import fencecheck as fc
from builders import Trail, pings_of
from fencecheck.frame import MetricFrame
from fencecheck.index import FenceIndex
from fencecheck.judging.scan import OUTCOMES, WHATIF_RULES, scan
from fencecheck.judging.verdicts import REASONS
from fencecheck.options import Source
from fencecheck.pings import PingTable
from fencecheck.times import parse_time

from support import SAMPLES

FRAME = MetricFrame(116.40, 39.90)
AT = "2022-05-06T00:00:00+08:00"
DWELL_RULES = {"min_dwell_0min": 0, "min_dwell_5min": 300, "min_dwell_10min": 600,
               "min_dwell_30min": 1800}  # fmt: skip


def _lonlat(shape: Any, gcj: bool = False) -> Any:
    def convert(c: Any) -> Any:
        lon, lat = FRAME.to_lonlat(c[:, 0], c[:, 1])
        if gcj:
            lon, lat = fc.datums.wgs84_to_gcj02(lon, lat)
        return np.column_stack([lon, lat])

    return shapely.transform(shape, convert)


def small_city(seed: int) -> tuple[FenceIndex, PingTable, list[tuple[float, float]]]:
    """Twelve fences on a 4 km grid and thirty people with varied stories."""
    rng = np.random.default_rng(seed)
    centres = [(float(x), float(y)) for x in (-3000, 0, 3000, 6000) for y in (-3000, 0, 3000)]
    records = []
    for k, (cx, cy) in enumerate(centres):
        half = float(rng.uniform(150, 400))
        shape: Any = shapely.box(cx - half, cy - half, cx + half, cy + half)
        if k % 4 == 1:  # a courtyard: a hole
            shape = shape.difference(shapely.box(cx - half / 3, cy - half / 3, cx, cy))
        if k % 4 == 2:  # two buildings
            shape = shapely.MultiPolygon(
                [
                    shapely.box(cx - half, cy - half, cx, cy),
                    shapely.box(cx + 50, cy, cx + half, cy + half),
                ]
            )
        if k == 7:
            shape = shapely.Point(cx, cy)
        day = int(rng.integers(1, 4))
        records.append(
            {
                "id": f"F{k:02d}",
                "kind": ["sealed", "controlled", "precaution", "risk_area"][k % 4]
                if k != 7
                else "risk_venue",
                "geometry": _lonlat(shape, gcj=k == 10),
                "windows": [[f"2022-05-0{day}T08:00:00+08:00", f"2022-05-0{day + 2}"]],
                "buffer_m": 60.0 if k == 7 else float(rng.choice([0.0, 20.0, 50.0])),
            }
        )
    index = FenceIndex(fc.FenceSet.from_records(records), FRAME)
    days = [int(r["windows"][0][0][9]) for r in records]
    # Stories told once each, so that every verdict and reason is there.
    jumper = Trail("jump", FRAME, f"2022-05-0{days[0]}T12:00:00+08:00")
    jumper.stay(at=(centres[0][0] - 6000, centres[0][1]), minutes=10)
    jumper.fix(at=centres[0], accuracy=20).fix(at=(centres[0][0] - 6000, centres[0][1]))
    early = Trail("early", FRAME, f"2022-05-0{days[3]}T01:00:00+08:00")  # seen 8 h later
    early.stay(at=centres[3], minutes=30)
    cell = Trail("cell", FRAME, f"2022-05-0{days[4]}T12:00:00+08:00")
    cell.stay(at=(centres[4][0], centres[4][1] + 1400), minutes=10, accuracy=15)
    cell.cell_fix(at=(centres[4][0], centres[4][1] + 900), accuracy=1200)
    trails = [jumper, early, cell]
    for p in range(27):
        trail = Trail(f"p{p:02d}", FRAME, f"2022-05-0{int(rng.integers(1, 5))}T09:00:00+08:00")
        home = (float(rng.uniform(-4000, 7000)), float(rng.uniform(-4000, 4000)))
        trail.stay(at=home, minutes=float(rng.uniform(5, 30)), every_s=120, jitter_m=5, seed=p)
        for _ in range(int(rng.integers(1, 4))):
            cx, cy = centres[int(rng.integers(0, len(centres)))]
            story = int(rng.integers(0, 4))
            target = (cx + float(rng.normal(0, 150)), cy + float(rng.normal(0, 150)))
            if story == 0:  # a stay
                trail.drive(to=target, kmh=30, every_s=60)
                trail.stay(at=target, minutes=float(rng.uniform(2, 45)), jitter_m=8, seed=p)
            elif story == 1:  # a drive through
                trail.drive(to=target, kmh=40, every_s=30).drive(to=(cx + 2000, cy), kmh=40)
            elif story == 2:  # coarse cell fixes nearby
                for _ in range(3):
                    trail.cell_fix(at=(cx + float(rng.normal(0, 800)), cy + 900), after_s=300)
            else:  # one fix jumps into the fence and back
                trail.fix(at=(cx + 6000, cy + 2000), after_s=60).fix(at=(cx, cy), accuracy=30)
                trail.fix(at=(cx + 6000, cy + 2000), after_s=60)
            trail.wait(float(rng.uniform(10, 300)))
        trails.append(trail)
    return index, pings_of(*trails), centres


def slow_explanations(pings: PingTable, index: FenceIndex, **options: Any) -> dict[str, Any]:
    """explain, one person at a time (a person without pings maps to None)."""
    out = {}
    for person in sorted(set(pings.person_ids().tolist())):
        (e,) = fc.explain(pings, index, person=[person], at=AT, **options)
        out[person] = e
    return out


def flagged_by(e: Any, upstream: bool) -> bool:
    return bool(e is not None and (e.episodes or upstream))


def slow_fence_counts(explanations: dict[str, Any], min_dwell: float) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for e in explanations.values():
        per_fence: dict[str, list[dict[str, Any]]] = {}
        for ep in e.episodes:
            per_fence.setdefault(ep["fence_id"], []).append(ep)
        for fid, eps in per_fence.items():
            row = counts.setdefault(fid, {})
            if any(ep["credible_pings"] and ep["dwell_s"] >= min_dwell for ep in eps):
                outcome = "exposed"
            elif any(ep["credible_pings"] for ep in eps):
                outcome = "passed_through"
            else:
                outcome = "false_trigger"
                if any(ep["pings"] - ep["credible_pings"] - ep["jump_pings"] for ep in eps):
                    row["boundary_uncertainty"] = row.get("boundary_uncertainty", 0) + 1
                if any(ep["jump_pings"] for ep in eps):
                    row["location_jump"] = row.get("location_jump", 0) + 1
            row[outcome] = row.get(outcome, 0) + 1
            row["people"] = row.get("people", 0) + 1
        for reason in ("timezone_shift", "datum_shift"):
            if reason in e.reasons:
                row = counts.setdefault(e.evidence[reason]["fence_id"], {})
                for name in ("people", "false_trigger", reason):
                    row[name] = row.get(name, 0) + 1
    return counts


@pytest.fixture(scope="module", params=[1, 2])
def city(request: Any) -> tuple[FenceIndex, PingTable, Any, dict[str, Any]]:
    index, pings, _ = small_city(request.param)
    result = scan(pings, index, at=AT)
    return index, pings, result, slow_explanations(pings, index)


def test_the_city_has_every_verdict_and_reason(city: Any) -> None:
    _, _, result, slow = city
    verdicts = {e.verdict for e in slow.values()}
    reasons = {r for e in slow.values() for r in e.reasons}
    assert {"exposed", "passed_through", "false_trigger"} <= verdicts
    assert {"boundary_uncertainty", "location_jump", "timezone_shift"} <= reasons
    assert len(result.people) > 10


def test_verdicts_and_decisive_episodes_equal_explain(city: Any) -> None:
    _, _, result, slow = city
    people = result.people
    rows = {pid: k for k, pid in enumerate(people["person_id"].tolist())}
    for pid, e in slow.items():
        expected = "not_flagged" if e.verdict == "unexplained" else e.verdict
        if expected == "not_flagged" and not e.near_misses:
            assert pid not in rows
            continue
        k = rows[pid]
        assert people["verdict"][k] == expected
        assert people["reasons"][k] == ";".join(e.reasons)
        if e.decisive:
            assert people["fence_id"][k] == e.decisive["fence_id"]
            assert fc.times.format_utc(int(people["entry"][k])) == e.decisive["entry"]
            assert people["dwell_s"][k] == e.decisive["dwell_s"]
            assert people["pings"][k] == e.decisive["pings"]
            assert round(float(people["p_inside"][k]), 6) == e.decisive["p_inside"]
            # every column of the row describes the one decisive finding: its exit, its
            # bounds, and the pop-up when it began (its first hit, credible or not)
            assert fc.times.format_utc(int(people["exit"][k])) == e.decisive["exit"]
            upper = people["dwell_s_max"][k]
            assert (np.isnan(upper) and e.decisive["dwell_s_max"] is None) or (
                upper == e.decisive["dwell_s_max"]
            )
            popup = int(people["popup"][k])
            assert fc.times.format_utc(popup) == e.decisive["first_hit"]
            assert popup <= parse_time(e.decisive["entry"])
            if e.decisive.get("source") == "upstream":
                assert e.reasons[0] in ("timezone_shift", "datum_shift")
                assert e.decisive["entry"] == e.evidence[e.reasons[0]]["t_right"]
            else:
                assert e.decisive in e.episodes
        if expected == "not_flagged":
            near = e.near_misses[0]
            assert people["near_fence_id"][k] == near["fence_id"]
            assert round(float(people["near_m"][k]), 1) == near["distance_m"]
        for reason in ("timezone_shift", "datum_shift"):
            if reason in e.reasons:
                assert people["fence_id"][k] == e.evidence[reason]["fence_id"]
    assert len(people) == sum(
        1 for e in slow.values() if e.verdict != "unexplained" or e.near_misses
    )


def test_fence_counts_equal_a_recount_from_explain(city: Any) -> None:
    _, _, result, slow = city
    expected = slow_fence_counts(slow, fc.Policy().min_dwell_s)
    fences = result.fences
    names = ("people", *OUTCOMES, *REASONS)
    for k, fid in enumerate(fences["fence_id"].tolist()):
        want = expected.get(fid, {})
        got = {name: int(fences[name][k]) for name in names}
        assert got == {name: want.get(name, 0) for name in names}, fid
        share = fences["false_share"][k]
        if got["people"]:
            assert share == pytest.approx(got["false_trigger"] / got["people"])
        else:
            assert np.isnan(share)
        dwell = [ep["dwell_s"] for e in slow.values() for ep in e.episodes if ep["fence_id"] == fid]
        if dwell:
            assert fences["median_dwell_s"][k] == pytest.approx(float(np.median(dwell)))
        else:
            assert np.isnan(fences["median_dwell_s"][k])
    assert int(fences["people"].sum()) > 0


def _halved(index: FenceIndex) -> FenceIndex:
    fences = index.fences
    return FenceIndex(replace(fences, buffer_m=fences.buffer_m / 2), index.frame)


def test_whatif_equals_explain_under_each_rule(city: Any) -> None:
    index, pings, result, slow = city
    upstream = {
        pid: any(r in e.reasons for r in ("timezone_shift", "datum_shift"))
        for pid, e in slow.items()
    }
    no_cell = pings.take(pings.source != Source.CELL.code)
    changed = {
        "ignore_cell_fixes": {},
        "point_mode": slow_explanations(pings, index, mode="point"),
        "margins_halved": slow_explanations(pings, _halved(index)),
    }
    for person in slow:
        if person in set(no_cell.person_ids().tolist()):
            (changed["ignore_cell_fixes"][person],) = fc.explain(
                no_cell, index, person=[person], at=AT
            )
        else:
            changed["ignore_cell_fixes"][person] = None
    today = {pid: e.verdict for pid, e in slow.items()}
    w = result.whatif
    assert [str(r) for r in w["rule"]] == [rule for rule, _ in WHATIF_RULES]
    for r, (rule, _) in enumerate(WHATIF_RULES):
        if rule in DWELL_RULES:
            flagged = {
                pid: upstream[pid] or any(ep["dwell_s"] >= DWELL_RULES[rule] for ep in e.episodes)
                for pid, e in slow.items()
            }
        else:
            flagged = {pid: flagged_by(e, upstream[pid]) for pid, e in changed[rule].items()}
        assert int(w["flagged"][r]) == sum(flagged.values()), rule
        for column, verdict in (
            ("avoided_false_triggers", "false_trigger"),
            ("avoided_passed_through", "passed_through"),
            ("missed_exposures", "exposed"),
        ):
            want = sum(1 for pid, v in today.items() if v == verdict and not flagged[pid])
            assert int(w[column][r]) == want, (rule, column)
    # at least one rule changes something, or the test proves little
    assert int(w["flagged"].min()) < int(w["flagged"][0])


def test_the_timeline_counts_each_flagged_person_once(city: Any) -> None:
    _, _, result, slow = city
    t = result.timeline
    for name in OUTCOMES:
        assert int(t[name].sum()) == sum(1 for e in slow.values() if e.verdict == name)
    assert (t["total"] == sum(t[name] for name in OUTCOMES)).all()
    assert (np.diff(t["hour"]) == 3_600_000).all()
    assert (t["hour"] % 3_600_000 == 0).all()


@pytest.mark.parametrize("shuffled", [False, True], ids=["grouped by person", "shuffled"])
def test_batches_of_people_give_the_same_tables(city: Any, shuffled: bool) -> None:
    index, pings, result, _ = city
    if shuffled:  # batches are then gathered, not sliced
        pings = pings.take(np.random.default_rng(5).permutation(len(pings)))
    else:
        assert (np.diff(pings.person) >= 0).all()  # batches are slices of the table
    small = scan(pings, index, at=AT, batch_pings=40)
    for name in ("people", "fences", "timeline", "whatif", "flags", "triggers"):
        a, b = getattr(result, name), getattr(small, name)
        assert a.names == b.names
        for column in a.names:
            x, y = a[column], b[column]
            if x.dtype.kind == "f":
                np.testing.assert_array_equal(x, y)
            else:
                assert x.tolist() == y.tolist(), (name, column)


def test_default_at_is_each_persons_last_ping() -> None:
    pings = fc.read_pings(SAMPLES / "pings.csv")
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    result = scan(pings, index)
    explained = {e.person_id: e.verdict for e in fc.explain(pings, index)}
    got = dict(
        zip(result.people["person_id"].tolist(), result.people["verdict"].tolist(), strict=True)
    )
    assert got == {p: ("not_flagged" if v == "unexplained" else v) for p, v in explained.items()}


def test_tables_go_to_csv_parquet_and_pandas(tmp_path: Any) -> None:
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    pings = fc.read_pings(SAMPLES / "pings.csv")
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    result = scan(pings, index)
    written = result.write(tmp_path / "csv")
    assert sorted(p.rsplit("/", 1)[1] for p in written) == [
        "fences.csv", "people.csv", "timeline.csv", "whatif.csv",
    ]  # fmt: skip
    people = pd.read_csv(tmp_path / "csv" / "people.csv", dtype={"person_id": str})
    assert people["person_id"].tolist() == result.people["person_id"].tolist()
    assert people["entry"].dropna().str.endswith("Z").all()
    result.write(tmp_path / "pq", "parquet")
    back = pd.read_parquet(tmp_path / "pq" / "people.parquet")
    assert str(back["popup"].dtype) == "datetime64[ms, UTC]"
    frames = result.to_pandas()
    assert frames["fences"]["people"].sum() == result.fences["people"].sum()
    with pytest.raises(fc.errors.OptionError, match="format"):
        result.write(tmp_path / "x", "xlsx")


def test_verdicts_computed_with_only_the_needed_p_inside_are_the_same(city: Any) -> None:
    """judge(evidence="verdicts"), which scan uses, against judge computing every p_inside."""
    from fencecheck.judging.verdicts import judge
    from fencecheck.matching import p_inside_bound

    index, pings, _, _ = city
    full = judge(pings, index, at=AT)
    lazy = judge(pings, index, at=AT, evidence="verdicts")
    assert full.verdict.tolist() == lazy.verdict.tolist()
    assert full.reasons.tolist() == lazy.reasons.tolist()
    assert full.decisive.tolist() == lazy.decisive.tolist()
    d = full.decisive[full.decisive >= 0]
    assert full.episodes.p_best[d].tolist() == lazy.episodes.p_best[d].tolist()
    p, q = full.hits.p_inside, lazy.hits.p_inside
    known = ~np.isnan(q)
    assert (p[known] == q[known]).all()
    assert (p[~known] < fc.Policy().credible_p).all()
    assert (~known).any() and known.any()  # both paths are exercised
    # the bound is an upper bound of the exact value, everywhere
    accuracy = pings.accuracy_m[fc.pings.ping_positions(full.hits.ping, pings.row)]
    sure, bound = p_inside_bound(index, full.hits.fence, accuracy, full.hits.depth_m)
    assert (p <= bound + 1e-12).all()
    assert (p[sure] == 1.0).all()


def test_evidence_must_be_known() -> None:
    from fencecheck.judging.verdicts import judge

    pings = fc.read_pings(SAMPLES / "pings.csv")
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    with pytest.raises(fc.errors.OptionError, match="evidence"):
        judge(pings, index, evidence="some")
