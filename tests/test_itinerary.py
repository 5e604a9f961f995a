"""Typed-in itineraries: read in their datum, checked like stays, set against the pings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.datums import wgs84_to_gcj02
from fencecheck.errors import DataError
from fencecheck.io.itinerary import read_itinerary
from fencecheck.judging.itinerary import check_itinerary

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
SEALED_2 = (116.32298, 40.06498)  # 和乐苑5区 (F-sealed-2), WGS-84; active 05-02 08:00 to 05-09
AT = 1_651_700_000_000  # 2022-05-04T21:33:20Z, for check_itinerary
AT_TEXT = "2022-05-05T05:33:20+08:00"  # the same, for explain
LOOKBACK_S = 14 * 86_400.0


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))


@pytest.fixture(scope="module")
def pings() -> fc.PingTable:
    return fc.read_pings(SAMPLES / "pings.csv")


def _place(person: str, lon: float, lat: float, start: str, end: str, **more: object) -> dict:
    return {"person_id": person, "place": more.pop("place", "朋友家"), "lon": lon, "lat": lat,
            "start": start, "end": end, **more}  # fmt: skip


def _check(index: fc.FenceIndex, rows: list[dict], datum: str = "wgs84", **kw: object):
    places = read_itinerary(rows, datum=datum)
    people = sorted(set(places.person_id.tolist()))
    return check_itinerary(
        places, index, people, [LOOKBACK_S] * len(people), [AT] * len(people), **kw
    )


def test_the_same_place_in_both_datums_gives_the_same_findings(index: fc.FenceIndex) -> None:
    gcj = wgs84_to_gcj02(*SEALED_2)
    as_wgs = _check(index, [_place("X", *SEALED_2, "2022-05-03 10:00", "2022-05-03 12:00")])
    as_gcj = _check(index, [_place("X", *gcj, "2022-05-03 10:00", "2022-05-03 12:00")], "gcj02")
    met_wgs = as_wgs[0].places[0]["fences"]
    met_gcj = as_gcj[0].places[0]["fences"]
    assert [f["fence_id"] for f in met_gcj] == [f["fence_id"] for f in met_wgs] == ["F-sealed-2"]
    assert met_gcj[0]["p_inside"] == pytest.approx(met_wgs[0]["p_inside"], abs=1e-3)
    assert as_gcj[0].places[0]["datum"] == "gcj02"
    assert as_gcj[0].places[0]["lon"] == pytest.approx(gcj[0])  # reported as given
    # An Amap pin read as WGS-84 lands hundreds of metres away, outside the compound.
    wrong = _check(index, [_place("X", *gcj, "2022-05-03 10:00", "2022-05-03 12:00")], "wgs84")
    assert not any(f["credible"] for f in wrong[0].places[0]["fences"])


def test_a_reported_stay_makes_the_person_exposed(
    index: fc.FenceIndex, pings: fc.PingTable
) -> None:
    rows = [_place("P04", *SEALED_2, "2022-05-03 10:00", "2022-05-03 12:00")]
    [plain] = fc.explain(pings, index, person=["P04"], at=AT_TEXT)
    [e] = fc.explain(
        pings, index, person=["P04"], at=AT_TEXT, itinerary=read_itinerary(rows, datum="wgs84")
    )
    assert plain.verdict == "false_trigger"
    assert e.verdict == "exposed" and e.reasons == ()
    report = e.to_dict()
    assert report["decisive"]["source"] == "itinerary"
    assert report["decisive"]["fence_id"] == "F-sealed-2" and report["decisive"]["dwell_s"] == 7200
    assert report["advice"]["key"] == "home_observation"
    assert "reported being at 朋友家" in e.to_text("en") and "和乐苑5区 (F-sealed-2)" in e.to_text(
        "en"
    )
    assert "自述" in e.to_text("zh") and "和乐苑5区 (F-sealed-2)" in e.to_text("zh")


def test_a_short_reported_visit_is_a_passage_and_never_home(
    index: fc.FenceIndex, pings: fc.PingTable
) -> None:
    rows = [_place("P05", *SEALED_2, "2022-05-03 10:00", "2022-05-03 10:05")]
    [e] = fc.explain(
        pings, index, person=["P05"], at=AT_TEXT, itinerary=read_itinerary(rows, datum="wgs84")
    )
    assert e.verdict == "passed_through" and e.decisive["source"] == "itinerary"
    assert e.advice_key == "passage_one_test"
    assert "stay home" not in e.to_text("en").replace("no need to stay home", "")


def test_a_place_outside_the_fences_window_meets_nothing(index: fc.FenceIndex) -> None:
    # F-sealed-2 opens 2022-05-02 08:00 Beijing time.
    [found] = _check(index, [_place("X", *SEALED_2, "2022-05-01 10:00", "2022-05-02 07:59")])
    assert found.places[0]["fences"] == [] and found.verdict is None
    [found] = _check(index, [_place("X", *SEALED_2, "2022-05-02 07:50", "2022-05-02 08:05")])
    assert found.places[0]["fences"][0]["dwell_s"] == 300.0  # only the active part counts


def test_a_disc_that_only_grazes_a_fence_is_not_credible(index: fc.FenceIndex) -> None:
    fence = index.geometry[index.fences.position("F-sealed-2")]
    _, miny, maxx, maxy = fence.bounds
    # 60 m east of the compound's margin (30 m): a 100 m disc reaches in, the pin is outside.
    lon, lat = index.frame.to_lonlat(maxx + 90.0, (miny + maxy) / 2)
    [found] = _check(index, [_place("X", lon, lat, "2022-05-03 10:00", "2022-05-03 12:00")])
    [met] = found.places[0]["fences"]
    assert not met["credible"] and met["p_inside"] < 0.5 and found.verdict is None
    pin = shapely.Point(*index.frame.to_xy(lon, lat))
    assert met["distance_m"] == pytest.approx(
        index.geometry[index.fences.position("F-sealed-2")].distance(pin) - 30.0, abs=0.1
    )
    assert 55 < met["distance_m"] < 91


def test_the_disagreements_are_reported(index: fc.FenceIndex, pings: fc.PingTable) -> None:
    # P01 stayed in F-sealed-1 on 05-01 08:00-13:56 and reports an office 1.5 km away instead.
    rows = [_place("P01", 116.3435, 40.0605, "2022-05-01 09:00", "2022-05-01 18:00", place="公司")]
    [e] = fc.explain(pings, index, person=["P01"], itinerary=read_itinerary(rows, datum="wgs84"))
    [place] = e.itinerary
    assert place["pings"] > 0 and place["pings_agree"] is False and place["nearest_m"] > 1000
    assert [u["fence_id"] for u in e.itinerary_unreported] == ["F-sealed-1"]
    text = e.to_text("en")
    assert "The pings do not come near the reported place 公司" in text
    assert "which the itinerary leaves out" in text
    assert "行程中未填报" in e.to_text("zh")
    # Reporting the compound itself accounts for the stay: no disagreement left.
    sealed_1 = shapely.centroid(index.fences.geometry[index.fences.position("F-sealed-1")])
    rows = [_place("P01", sealed_1.x, sealed_1.y, "2022-05-01 08:00", "2022-05-01 14:00")]
    [e] = fc.explain(pings, index, person=["P01"], itinerary=read_itinerary(rows, datum="wgs84"))
    assert e.itinerary[0]["pings_agree"] is True and e.itinerary_unreported == []


BAD_ROWS = [
    ({"end": "2022-05-03 09:00"}, "end", "ends before it starts"),
    ({"lon": ""}, "lon", "missing pin"),
    ({"lon": 151.2093, "lat": -33.8688}, "lon", "outside China"),
    ({"radius_m": -5}, "radius_m", "radius_m is not"),
    ({"start": "soon"}, "start", "is not an ISO 8601 time"),
    ({"place": ""}, "place", "missing place name"),
]


@pytest.mark.parametrize(("change", "field", "reason"), BAD_ROWS)
def test_bad_rows_are_located_or_set_aside(change: dict, field: str, reason: str) -> None:
    good = _place("X", 116.4040, 39.9150, "2022-05-03 10:00", "2022-05-03 12:00")
    rows = [good, {**good, **change}, good]
    with pytest.raises(DataError) as caught:
        read_itinerary(rows)
    assert (caught.value.row, caught.value.field) == (1, field)
    assert reason in str(caught.value)
    assert "116.404" not in str(caught.value) and "151.2" not in str(caught.value)
    kept = read_itinerary(rows, on_error="reject")
    assert len(kept) == 2 and kept.rows_read == 3 and kept.row.tolist() == [0, 2]
    assert kept.rejected.records()[0][:3] == (1, "X", field)


def test_the_cli_reads_an_itinerary_and_sets_bad_rows_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gcj = wgs84_to_gcj02(*SEALED_2)
    path = tmp_path / "itinerary.csv"
    path.write_text(
        "person_id,place,lon,lat,start,end,radius_m\n"
        f"P04,和乐苑,{gcj[0]:.6f},{gcj[1]:.6f},2022-05-03 10:00,2022-05-03 12:00,50\n"
        "P04,悉尼,151.2093,-33.8688,2022-05-03 13:00,2022-05-03 14:00,\n",
        encoding="utf-8",
    )
    args = ["explain", "--fences", str(SAMPLES / "fences.geojson"), "--pings",
            str(SAMPLES / "pings.csv"), "--person", "P04", "--at", "2022-05-05 08:33",
            "--itinerary", str(path), "--format", "json"]  # fmt: skip
    assert main([*args, "--on-error", "raise"]) == 1
    err = capsys.readouterr().err
    assert "row 1" in err and "lon" in err and "151.2" not in err
    code = main([*args, "--on-error", "reject", "--rejected", str(tmp_path / "bad.csv")])
    captured = capsys.readouterr()
    assert code == 0
    report = json.loads(captured.out)
    assert report["verdict"] == "exposed" and report["decisive"]["source"] == "itinerary"
    assert "2 rows read, 1 place used, 1 rejected" in captured.err
    assert (tmp_path / "bad.itinerary.csv").read_text(encoding="utf-8").count("\n") == 2


@settings(max_examples=40, deadline=None)
@given(
    dx=st.floats(-400, 400),
    dy=st.floats(-400, 400),
    radius=st.sampled_from([10.0, 50.0, 100.0, 300.0]),
)
def test_p_inside_is_the_share_of_the_disc_in_the_fence(
    dx: float, dy: float, radius: float
) -> None:
    """Against a finer reference: the disc as a 1024-gon, intersected with the grown fence."""
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    f = index.fences.position("F-sealed-2")
    centre = shapely.centroid(index.geometry[f])
    x, y = centre.x + dx, centre.y + dy
    lon, lat = index.frame.to_lonlat(x, y)
    row = _place("X", lon, lat, "2022-05-03 10:00", "2022-05-03 12:00", radius_m=radius)
    [found] = _check(index, [row])
    met = {m["fence_id"]: m for m in found.places[0]["fences"]}
    grown = index.grown_geometry(np.array([f]))[0]
    disc = shapely.Point(x, y).buffer(radius, quad_segs=256)
    want = disc.intersection(grown).area / disc.area
    reaches = disc.distance(index.geometry[f]) <= 30.0 + 1e-6
    if "F-sealed-2" in met:
        assert met["F-sealed-2"]["p_inside"] == pytest.approx(want, abs=2e-3)
    else:
        assert not reaches or want < 2e-3
