"""The left-the-region check: spells of credible fixes outside a region, in its right datum."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.datums import gcj02_to_wgs84
from fencecheck.errors import DataError
from fencecheck.io.region import read_region
from fencecheck.judging.left_region import left_region_spells
from fencecheck.pings import build_pings
from fencecheck.probability import gaussian_mass, sigma_from_accuracy
from fencecheck.region import Region

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "beijing_polygons"
OUTLINE = SHARED / "beijing_municipality_outline_datav_gcj02.geojson"
DISTRICTS = SHARED / "beijing_districts_datav_gcj02.geojson"
needs_outline = pytest.mark.skipif(
    not OUTLINE.exists(), reason=f"{OUTLINE} is absent (../shared/data is not checked out)"
)
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
TIANJIN = (117.2008, 39.0842)  # 天津站 area, WGS-84
TIANANMEN = (116.3975, 39.9087)
DAY = 86_400_000


def _pings(person: list[str], t: list[str], lon: list[float], lat: list[float], acc: list[float]):
    return build_pings(
        {"person_id": person, "t": t, "lon": lon, "lat": lat, "accuracy_m": acc,
         "source": ["gps" if a < 100 else "cell" for a in acc]}
    )  # fmt: skip


@pytest.fixture(scope="module")
def beijing() -> Region:
    if not OUTLINE.exists():
        pytest.skip(f"{OUTLINE} is absent (../shared/data is not checked out)")
    return read_region(OUTLINE, datum="gcj02")


def _day_in_tianjin() -> fc.PingTable:
    times = ["2022-05-01 08:00", "2022-05-01 09:00", "2022-05-02 10:00", "2022-05-02 12:30",
             "2022-05-02 16:00", "2022-05-02 21:00", "2022-05-03 08:00"]  # fmt: skip
    lon = [TIANANMEN[0], TIANANMEN[0], TIANJIN[0], TIANJIN[0], TIANJIN[0] + 0.01, TIANANMEN[0],
           TIANANMEN[0]]  # fmt: skip
    lat = [TIANANMEN[1], TIANANMEN[1], TIANJIN[1], TIANJIN[1], TIANJIN[1], TIANANMEN[1],
           TIANANMEN[1]]  # fmt: skip
    return _pings(["R1"] * 7, times, lon, lat, [15.0] * 7)


@needs_outline
def test_a_day_in_tianjin_is_one_spell(beijing: Region) -> None:
    pings = _day_in_tianjin()
    [spells] = left_region_spells(pings, beijing, [0], [pings.t.max()], 14 * DAY)
    [spell] = spells
    assert (spell["start"], spell["end"]) == ("2022-05-02T02:00:00Z", "2022-05-02T08:00:00Z")
    assert spell["pings"] == 3
    assert (spell["left_after"], spell["back_by"]) == (
        "2022-05-01T01:00:00Z",
        "2022-05-02T13:00:00Z",
    )
    # The farthest fix's distance, measured independently: UTM zone 50 on the WGS-84 outline.
    utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    outline = shapely.transform(
        beijing.geometry, lambda c: np.column_stack(utm.transform(c[:, 0], c[:, 1]))
    )
    far = [
        outline.distance(shapely.Point(*utm.transform(lon, TIANJIN[1])))
        for lon in (TIANJIN[0], TIANJIN[0] + 0.01)
    ]
    assert spell["farthest_km"] == pytest.approx(max(far) / 1000.0, abs=0.1)
    assert 5 < spell["farthest_km"] < 80


@needs_outline
def test_a_day_in_tianjin_reads_in_the_report(beijing: Region) -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    [e] = fc.explain(_day_in_tianjin(), index, region=beijing)
    assert e.to_dict()["left_region"] == e.left_region and len(e.left_region) == 1
    assert e.to_dict()["region"] == "北京市"
    assert "Left 北京市 in the lookback: 1 spell outside" in e.to_text("en")
    assert "05-02 10:00 to 05-02 16:00" in e.to_text("en")
    assert "回溯期内曾离开北京市 1 次" in e.to_text("zh")


def _border_point(region: Region, beyond_m: float) -> tuple[float, float]:
    """A WGS-84 point ``beyond_m`` outside the region, straight out from its southernmost vertex."""
    coords = shapely.get_coordinates(region.planar)
    x, y = coords[np.argmin(coords[:, 1])]
    lon, lat = region.frame.to_lonlat(x, y - beyond_m)
    return float(lon), float(lat)


@needs_outline
def test_a_cell_fix_over_the_border_is_not_a_spell(beijing: Region) -> None:
    lon, lat = _border_point(beijing, 300.0)
    assert 250 < float(beijing.distance_outside_m([lon], [lat])[0]) <= 300.5
    times = ["2022-05-01 08:00", "2022-05-01 12:00", "2022-05-01 16:00"]
    lons, lats = [TIANANMEN[0], lon, TIANANMEN[0]], [TIANANMEN[1], lat, TIANANMEN[1]]
    cell = _pings(["R2"] * 3, times, lons, lats, [15.0, 1500.0, 15.0])
    [spells] = left_region_spells(cell, beijing, [0], [cell.t.max()], 14 * DAY)
    assert spells == []
    gps = _pings(["R2"] * 3, times, lons, lats, [15.0, 10.0, 15.0])
    [spells] = left_region_spells(gps, beijing, [0], [gps.t.max()], 14 * DAY)
    assert [s["pings"] for s in spells] == [1]


@needs_outline
def test_a_location_jump_out_of_the_region_is_not_a_spell(beijing: Region) -> None:
    times = ["2022-05-01 08:00", "2022-05-01 08:01", "2022-05-01 08:02"]
    lons = [TIANANMEN[0], TIANJIN[0], TIANANMEN[0]]
    lats = [TIANANMEN[1], TIANJIN[1], TIANANMEN[1]]
    pings = _pings(["R3"] * 3, times, lons, lats, [15.0, 15.0, 15.0])
    [spells] = left_region_spells(pings, beijing, [0], [pings.t.max()], 14 * DAY)
    assert spells == []


@needs_outline
def test_the_outline_is_read_in_its_datum() -> None:
    as_gcj = read_region(OUTLINE, datum="gcj02")
    as_wgs = read_region(OUTLINE)
    document = json.loads(OUTLINE.read_text(encoding="utf-8"))
    first = document["features"][0]["geometry"]["coordinates"][0][0][0]
    want = gcj02_to_wgs84(first[0], first[1])
    got = shapely.get_coordinates(as_gcj.geometry)[0]
    assert got == pytest.approx(want, abs=1e-9)
    # Read in the wrong datum, the border moves by hundreds of metres.
    shift = as_gcj.frame.to_xy(*got)
    raw = as_gcj.frame.to_xy(*shapely.get_coordinates(as_wgs.geometry)[0])
    assert 100 < float(np.hypot(shift[0] - raw[0], shift[1] - raw[1])) < 1000


@pytest.mark.skipif(not DISTRICTS.exists(), reason=f"{DISTRICTS} is absent")
def test_a_self_intersecting_outline_is_refused_without_coordinates(tmp_path: Path) -> None:
    document = json.loads(DISTRICTS.read_text(encoding="utf-8"))
    shunyi = [f for f in document["features"] if f["properties"]["name"] == "顺义区"]
    path = tmp_path / "shunyi.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": shunyi}), "utf-8")
    with pytest.raises(DataError, match="Self-intersection") as caught:
        read_region(path, datum="gcj02")
    assert "116." not in str(caught.value) and "40." not in str(caught.value)
    repaired = read_region(path, datum="gcj02", invalid="repair")
    assert repaired.geometry.is_valid and repaired.name == "顺义区"


def test_a_region_must_be_polygonal(tmp_path: Path) -> None:
    path = tmp_path / "point.geojson"
    path.write_text(json.dumps({"type": "Point", "coordinates": [116.4, 39.9]}), "utf-8")
    with pytest.raises(DataError, match="not a 'Point'"):
        read_region(path)
    code = main(["explain", "--fences", str(SAMPLES / "fences.geojson"), "--pings",
                 str(SAMPLES / "pings.csv"), "--region", str(path)])  # fmt: skip
    assert code == 1


BOX = Region.from_geometry(shapely.box(116.0, 39.5, 117.0, 40.5), name="box")


@settings(max_examples=60, deadline=None)
@given(
    dx=st.floats(-3_000, 3_000),
    dy=st.floats(-3_000, 3_000),
    accuracy=st.sampled_from([0.0, 5.0, 30.0, 300.0, 1500.0]),
    corner=st.booleans(),
)
def test_p_outside_is_one_minus_the_gaussian_mass(
    dx: float, dy: float, accuracy: float, corner: bool
) -> None:
    """The nine-σ shortcut changes nothing: the same as the exact mass everywhere."""
    coords = shapely.get_coordinates(BOX.planar)
    x0, y0 = coords[0] if corner else (coords[0] + coords[1]) / 2
    lon, lat = BOX.frame.to_lonlat(x0 + dx, y0 + dy)
    got = float(BOX.p_outside([lon], [lat], [accuracy])[0])
    x, y = BOX.frame.to_xy(lon, lat)
    want = 1.0 - gaussian_mass(BOX.planar, x, y, float(sigma_from_accuracy(accuracy)))
    assert got == pytest.approx(want, abs=1e-12)


def _reference_spells(states: list[int], times: list[int]) -> list[tuple[int, int, int]]:
    """Runs of +1 among the non-zero states, as (start, end, count): the definition, by hand."""
    out: list[tuple[int, int, int]] = []
    current: list[int] | None = None
    for state, t in zip(states, times, strict=True):
        if state == 1:
            current = [t, t, 1] if current is None else [current[0], t, current[2] + 1]
        elif state == -1 and current is not None:
            out.append((current[0], current[1], current[2]))
            current = None
    if current is not None:
        out.append((current[0], current[1], current[2]))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["in", "out", "border"]), min_size=1, max_size=25))
def test_spells_follow_the_definition(where: list[str]) -> None:
    """Fixes inside, far outside, and cell fixes on the border (deciding nothing)."""
    minx, miny, maxx, _ = BOX.planar.bounds
    x0, y0 = (minx + maxx) / 2, miny  # the middle of the south edge
    place = {"in": (x0, y0 + 20_000, 10.0), "out": (x0, y0 - 20_000, 10.0),
             "border": (x0, y0 - 100, 2_000.0)}  # fmt: skip
    # Hours apart, so that no fix is a location jump.
    times = [k * 3 * 3_600_000 for k in range(len(where))]
    xs, ys, acc = zip(*(place[w] for w in where), strict=True)
    lon, lat = BOX.frame.to_lonlat(np.array(xs), np.array(ys))
    pings = build_pings(
        {"person_id": ["A"] * len(where), "t": np.array(times) // 1000, "lon": lon, "lat": lat,
         "accuracy_m": list(acc)}
    )  # fmt: skip
    [spells] = left_region_spells(pings, BOX, [0], [max(times)], 100 * DAY)
    states = [{"in": -1, "out": 1, "border": 0}[w] for w in where]
    want = _reference_spells(states, times)
    got = [(fc_ms(s["start"]), fc_ms(s["end"]), s["pings"]) for s in spells]
    assert got == want


def fc_ms(text: str) -> int:
    from fencecheck.times import parse_time

    return parse_time(text)


@needs_outline
def test_the_cli_writes_left_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pings = tmp_path / "pings.csv"
    table = _day_in_tianjin()
    rows = ["person_id,t,lon,lat,accuracy_m"] + [
        f"R1,{int(t) // 1000},{lon},{lat},15"
        for t, lon, lat in zip(table.t, table.lon, table.lat, strict=True)
    ]
    pings.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fences = str(SAMPLES / "fences.geojson")
    code = main(["explain", "--fences", fences, "--pings", str(pings), "--region", str(OUTLINE),
                 "--region-datum", "gcj02", "--format", "json"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    report = json.loads(out)
    assert [s["pings"] for s in report["left_region"]] == [3]
    assert "北京市" in report["text"]


def test_geolife_users_leave_beijing_where_shapely_says(beijing: Region) -> None:
    """Real trajectories: user 005 leaves Beijing twice, user 001 never; checked fix by fix."""
    from support import shared_file

    path = shared_file("geolife/geolife_sample_skmob_users001_005.csv")
    pings = fc.read_pings(path, columns={"user_id": "person_id"})
    codes = np.array([pings.persons.code("001"), pings.persons.code("005")])
    at = [int(pings.t[pings.person == c].max()) for c in codes]
    none, two = left_region_spells(pings, beijing, codes, at, 10 * 365 * DAY)
    assert none == [] and len(two) == 2
    # Fix by fix: shapely on the WGS-84 outline, away from a 100 m band along the border.
    mine = pings.person == codes[1]
    lon, lat = pings.lon[mine], pings.lat[mine]
    outside = ~shapely.contains_xy(beijing.geometry, lon, lat)
    clear = np.abs(beijing.signed_distance_m(lon, lat)) > 100.0
    t = pings.t[mine]
    counted = np.zeros(t.shape[0], dtype=bool)
    for spell in two:
        lo, hi = fc_ms(spell["start"]), fc_ms(spell["end"])
        counted |= (t >= lo) & (t <= hi) & outside
    assert np.array_equal(counted[clear], outside[clear])
    assert sum(s["pings"] for s in two) == int(counted.sum())
