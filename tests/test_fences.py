"""Fences: the model, every check on a fence, windows, repair, and GeoJSON round trips."""

from __future__ import annotations

import copy
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from fencecheck.datums import gcj02_to_wgs84
from fencecheck.errors import FenceCheckError, FenceCheckWarning, FenceDataError
from fencecheck.fences import FenceSet, _merge_windows
from fencecheck.io.fences import read_fences, write_fences
from fencecheck.times import OPEN_END, parse_time

from support import SAMPLES, shared_file

SQUARE = [[116.40, 39.90], [116.41, 39.90], [116.41, 39.91], [116.40, 39.91], [116.40, 39.90]]
HOLE = [
    [116.403, 39.903],
    [116.403, 39.906],
    [116.406, 39.906],
    [116.406, 39.903],
    [116.403, 39.903],
]


def feature(**props: Any) -> dict[str, Any]:
    geometry = props.pop("geometry", {"type": "Polygon", "coordinates": [SQUARE]})
    base: dict[str, Any] = {"id": "F1", "kind": "sealed", "start": "2022-05-01"}
    base.update(props)
    base = {k: v for k, v in base.items() if v is not _DROP}
    return {"type": "Feature", "properties": base, "geometry": geometry}


_DROP = object()


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


# -- the bundled samples -----------------------------------------------------------------------


def test_samples_load_with_every_documented_shape() -> None:
    fences = read_fences(SAMPLES / "fences.geojson")
    assert len(fences) == 7 and len(fences.rejected) == 0
    types = {fid: g.geom_type for fid, g in zip(fences.ids, fences.geometry, strict=True)}
    assert types["F-buildings-2"] == "MultiPolygon"
    assert types["F-venue-1"] == "Point"
    controlled = fences.geometry[fences.position("F-controlled-1")]
    assert len(controlled.interiors) == 1
    # the controlled ring's hole is the sealed compound
    sealed = fences.geometry[fences.position("F-sealed-1")]
    assert shapely.equals(shapely.Polygon(controlled.interiors[0]), sealed)
    assert fences.windows_of("F-controlled-1")[0][1] == OPEN_END
    assert fences.windows_of("F-sealed-1") == [
        (parse_time("2022-04-29T18:00:00+08:00"), parse_time("2022-05-07T00:00:00+08:00"))
    ]
    assert len(fences.windows_of("F-risk-3")) == 2
    assert fences.buffer_m[fences.position("F-venue-1")] == 50.0
    assert fences.tz == "Asia/Shanghai" and fences.datum == "wgs84"


def test_frame_is_centred_on_the_fences() -> None:
    fences = read_fences(SAMPLES / "fences.geojson")
    frame = fences.frame()
    min_lon, min_lat, max_lon, max_lat = fences.bounds
    assert min_lon < frame.lon0 < max_lon and min_lat < frame.lat0 < max_lat


def test_take_keeps_windows_with_their_fences() -> None:
    fences = read_fences(SAMPLES / "fences.geojson")
    picked = fences.take([fences.position("F-risk-3"), fences.position("F-sealed-1")])
    assert picked.ids.tolist() == ["F-risk-3", "F-sealed-1"]
    assert picked.windows_of("F-risk-3") == fences.windows_of("F-risk-3")
    assert picked.windows_of("F-sealed-1") == fences.windows_of("F-sealed-1")
    assert len(picked.window_start) == 3
    with pytest.raises(KeyError):
        picked.windows_of("F-venue-1")


# -- windows -----------------------------------------------------------------------------------


def test_overlapping_and_touching_windows_are_merged_and_sorted() -> None:
    fences = read_fences(
        collection(
            feature(
                start=_DROP,
                windows=[
                    ["2022-05-05", "2022-05-07"],
                    ["2022-05-01", "2022-05-03"],
                    ["2022-05-02", "2022-05-04"],
                    ["2022-05-04", "2022-05-05"],
                    ["2022-05-10", None],
                ],
            )
        )
    )
    assert fences.windows_of("F1") == [
        (parse_time("2022-05-01"), parse_time("2022-05-07")),
        (parse_time("2022-05-10"), OPEN_END),
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), max_size=12))
def test_merged_windows_cover_exactly_the_union(pairs: list[tuple[int, int]]) -> None:
    windows = [(start, start + length) for start, length in pairs]
    merged = _merge_windows([w for w in windows if w[1] > w[0]])
    covered = {t for s, e in windows for t in range(s, e)}
    assert {t for s, e in merged for t in range(s, e)} == covered
    # disjoint, sorted, non-touching, non-empty
    for (s1, e1), (s2, e2) in itertools.pairwise(merged):
        assert s1 < e1 < s2 < e2


def test_naive_window_times_use_the_zone() -> None:
    doc = collection(feature(start="2022-05-01T08:00", end="2022-05-02T08:00"))
    shanghai = read_fences(doc)
    utc = read_fences(doc, tz="UTC")
    assert shanghai.window_start[0] == utc.window_start[0] - 8 * 3_600_000
    assert utc.tz == "UTC"
    aware = read_fences(collection(feature(start="2022-05-01T00:00:00Z")), tz="UTC")
    assert (
        aware.window_start[0]
        == read_fences(
            collection(feature(start="2022-05-01T08:00:00+08:00")), tz="America/New_York"
        ).window_start[0]
    )


def test_a_fence_with_only_empty_windows_is_kept_and_warned_about() -> None:
    with pytest.warns(FenceCheckWarning, match="never active: F1"):
        fences = read_fences(collection(feature(end="2022-05-01")))
    assert len(fences) == 1 and fences.windows_of("F1") == []


# -- every refusal, raised and rejected ----------------------------------------------------------

BAD_FEATURES = [
    ("missing id", feature(id=_DROP), "#0", "id", "missing id"),
    ("empty id", feature(id="  "), "#0", "id", "empty id"),
    ("id not text", feature(id={"a": 1}), "#0", "id", "id must be text"),
    ("kind not text", feature(kind=3), "F1", "kind", "kind must be text"),
    ("missing start", feature(start=_DROP), "F1", "start", "missing start"),
    ("unreadable start", feature(start="May 1st"), "F1", "start", "unreadable time"),
    ("unreadable end", feature(end="2022-05-32"), "F1", "end", "unreadable time"),
    (
        "end before start",
        feature(start="2022-05-03", end="2022-05-01"),
        "F1",
        "end",
        "is before start",
    ),
    ("both forms", feature(windows=[["2022-05-01", None]]), "F1", "windows", "not both"),
    (
        "window not a pair",
        feature(start=_DROP, windows=[["2022-05-01"]]),
        "F1",
        "windows[0]",
        "[start, end] pair",
    ),
    (
        "window end before start",
        feature(start=_DROP, windows=[["2022-05-03", "2022-05-01"]]),
        "F1",
        "windows[0]",
        "is before start",
    ),
    ("negative margin", feature(buffer_m=-5), "F1", "buffer_m", ">= 0"),
    ("margin as text", feature(buffer_m="30"), "F1", "buffer_m", "number of metres"),
    ("margin infinite", feature(buffer_m=float("inf")), "F1", "buffer_m", "finite"),
    ("no geometry", feature(geometry=None), "F1", "geometry", "missing geometry"),
    (
        "line",
        feature(geometry={"type": "LineString", "coordinates": SQUARE}),
        "F1",
        "geometry",
        "got LineString",
    ),
    (
        "collection",
        feature(geometry={"type": "GeometryCollection", "geometries": []}),
        "F1",
        "geometry",
        "GeometryCollection",
    ),
    (
        "point without margin",
        feature(geometry={"type": "Point", "coordinates": [116.4, 39.9]}),
        "F1",
        "geometry",
        "needs buffer_m > 0",
    ),
    (
        "unclosed ring",
        feature(geometry={"type": "Polygon", "coordinates": [SQUARE[:-1]]}),
        "F1",
        "geometry",
        "not closed",
    ),
    (
        "short ring",
        feature(geometry={"type": "Polygon", "coordinates": [[SQUARE[0], SQUARE[1], SQUARE[0]]]}),
        "F1",
        "geometry",
        "needs at least 4",
    ),
    (
        "empty polygon",
        feature(geometry={"type": "Polygon", "coordinates": []}),
        "F1",
        "geometry",
        "no rings",
    ),
    (
        "empty multipolygon",
        feature(geometry={"type": "MultiPolygon", "coordinates": []}),
        "F1",
        "geometry",
        "empty MultiPolygon",
    ),
    (
        "positions not numbers",
        feature(geometry={"type": "Polygon", "coordinates": [[["a", "b"]] * 4]}),
        "F1",
        "geometry",
        "list of [lon, lat]",
    ),
    (
        "ragged ring",
        feature(geometry={"type": "Polygon", "coordinates": [[[1, 2], [3]]]}),
        "F1",
        "geometry",
        "malformed geometry",
    ),
    (
        "out of range",
        feature(geometry={"type": "Polygon", "coordinates": [[[x + 100, y] for x, y in SQUARE]]}),
        "F1",
        "geometry",
        "outside lon [-180, 180]",
    ),
    (
        "swapped",
        feature(geometry={"type": "Polygon", "coordinates": [[[y, x] for x, y in SQUARE]]}),
        "F1",
        "geometry",
        "look swapped",
    ),
    (
        "not finite",
        feature(geometry={"type": "Point", "coordinates": [float("inf"), 39.9]}, buffer_m=50),
        "F1",
        "geometry",
        "not finite",
    ),
    (
        "self-intersecting",
        feature(
            geometry={
                "type": "Polygon",
                "coordinates": [
                    [
                        [116.40, 39.90],
                        [116.41, 39.91],
                        [116.41, 39.90],
                        [116.40, 39.91],
                        [116.40, 39.90],
                    ]
                ],
            }
        ),
        "F1",
        "geometry",
        "Self-intersection",
    ),
    ("not a feature", "just text", "#0", "feature", "not a GeoJSON Feature"),
]


@pytest.mark.parametrize(
    ("bad", "label", "field", "reason"),
    [case[1:] for case in BAD_FEATURES],
    ids=[case[0] for case in BAD_FEATURES],
)
def test_each_bad_feature_is_refused_naming_it(
    bad: Any, label: str, field: str, reason: str | None
) -> None:
    good = feature(id="G0")
    with pytest.raises(FenceDataError) as info:
        read_fences(collection(bad, good))
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, FenceCheckError)
    assert err.feature == label and err.field == field
    assert f"feature {label}: {field}: " in str(err)
    if reason:
        assert reason in err.reason


@pytest.mark.parametrize(
    ("bad", "label", "field", "reason"),
    [case[1:] for case in BAD_FEATURES],
    ids=[case[0] for case in BAD_FEATURES],
)
def test_each_bad_feature_is_set_aside_under_reject(
    bad: Any, label: str, field: str, reason: str | None
) -> None:
    good = feature(id="G0")
    fences = read_fences(collection(good, bad), on_error="reject")
    assert fences.ids.tolist() == ["G0"]
    assert len(fences) + len(fences.rejected) == 2
    ((row, ident, got_field, got_reason, _),) = fences.rejected.records()
    assert row == 1 and got_field == field
    assert ident == ("" if label.startswith("#") else label)
    if reason:
        assert reason in got_reason


def test_duplicate_ids_name_the_first_holder() -> None:
    doc = collection(feature(id="A"), feature(id="B"), feature(id="A"))
    with pytest.raises(
        FenceDataError,
        match=r"feature A: id: duplicate id 'A' \(first used by "
        r"feature #0\)",
    ):
        read_fences(doc)
    fences = read_fences(doc, on_error="reject")
    assert fences.ids.tolist() == ["A", "B"]
    assert fences.rejected.row.tolist() == [2]


def test_missing_margin_means_none() -> None:
    fences = read_fences(
        collection(feature(id="a", buffer_m=None), feature(id="b", buffer_m=float("nan")))
    )
    assert fences.buffer_m.tolist() == [0.0, 0.0]


def test_numeric_feature_ids_become_text() -> None:
    doc = collection(feature(id=_DROP))
    doc["features"][0]["id"] = 110113
    assert read_fences(doc).ids.tolist() == ["110113"]


def test_unknown_kinds_are_refused_and_missing_kind_is_unspecified() -> None:
    # Unknown kinds used to be kept as given; since "Everyday friction" they are refused
    # (tests/test_fence_friction.py covers the names and kind_map).
    fences = read_fences(
        collection(feature(id="a", kind="quarantine_hotel"), feature(id="b", kind=_DROP)),
        on_error="reject",
    )
    assert fences.kinds.tolist() == ["unspecified"]
    assert fences.rejected.field.tolist() == ["kind"]


def test_point_and_multipoint_venues_with_a_margin() -> None:
    fences = read_fences(
        collection(
            feature(
                id="v1",
                kind="risk_venue",
                buffer_m=50,
                geometry={"type": "Point", "coordinates": [116.4, 39.9]},
            ),
            feature(
                id="v2",
                kind="risk_venue",
                buffer_m=30,
                geometry={"type": "MultiPoint", "coordinates": [[116.4, 39.9], [116.5, 39.9]]},
            ),
        )
    )
    assert [g.geom_type for g in fences.geometry] == ["Point", "MultiPoint"]
    assert fences.buffer_m.tolist() == [50.0, 30.0]


def test_polygon_with_hole_and_multipolygon_are_kept_exactly() -> None:
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE, HOLE], [[[x + 0.02, y] for x, y in SQUARE]]],
    }
    fences = read_fences(collection(feature(geometry=geometry)))
    expected = shapely.geometry.shape(geometry)
    assert shapely.equals_exact(fences.geometry[0], expected, tolerance=0)


# -- files --------------------------------------------------------------------------------------


def test_file_level_errors_name_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [\n  {"type": }\n]}')
    with pytest.raises(FenceDataError, match=r"broken.geojson: line 2: not valid JSON: .*line 2"):
        read_fences(broken)
    gbk = tmp_path / "gbk.geojson"
    gbk.write_bytes(
        json.dumps(collection(feature(name="封控区")), ensure_ascii=False).encode("gb18030")
    )
    with pytest.raises(FenceDataError, match=r"gbk\.geojson: not UTF-8"):
        read_fences(gbk)
    with pytest.raises(FenceDataError, match=r"missing\.geojson: no such file"):
        read_fences(tmp_path / "missing.geojson")
    with pytest.raises(FenceDataError, match="expected a FeatureCollection"):
        read_fences({"type": "Polygon", "coordinates": [SQUARE]})
    with pytest.raises(FenceDataError, match="no 'features' list"):
        read_fences({"type": "FeatureCollection"})
    with pytest.raises(FenceDataError, match="crs 'EPSG:3857'"):
        read_fences(
            {
                "type": "FeatureCollection",
                "features": [],
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}},
            }
        )


def test_a_single_feature_and_an_old_wgs84_crs_member_are_accepted() -> None:
    assert read_fences(feature()).ids.tolist() == ["F1"]
    doc = collection(feature())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(read_fences(doc)) == 1


def test_round_trip_is_lossless(tmp_path: Path) -> None:
    original = read_fences(SAMPLES / "fences.geojson")
    first = tmp_path / "first.geojson"
    write_fences(original, first)
    again = read_fences(first)
    assert again.ids.tolist() == original.ids.tolist()
    assert again.names.tolist() == original.names.tolist()
    assert again.kinds.tolist() == original.kinds.tolist()
    assert again.buffer_m.tolist() == original.buffer_m.tolist()
    for name in ("window_fence", "window_start", "window_end"):
        assert np.array_equal(getattr(again, name), getattr(original, name))
    # the samples are RFC 7946-oriented already, so coordinates come back bit for bit
    assert all(
        shapely.equals_exact(a, b, tolerance=0)
        for a, b in zip(again.geometry, original.geometry, strict=True)
    )
    second = tmp_path / "second.geojson"
    write_fences(again, second)
    assert first.read_bytes() == second.read_bytes()


def test_round_trip_keeps_extra_properties_and_orients_rings(tmp_path: Path) -> None:
    clockwise = list(reversed(SQUARE))
    fences = read_fences(
        collection(
            feature(
                geometry={"type": "Polygon", "coordinates": [clockwise]},
                adcode=110113,
                note={"source": "street office"},
                buffer_m=12.5,
            )
        )
    )
    path = tmp_path / "out.geojson"
    write_fences(fences, path)
    written = json.loads(path.read_text(encoding="utf-8"))["features"][0]
    assert written["properties"]["adcode"] == 110113
    assert written["properties"]["note"] == {"source": "street office"}
    assert written["properties"]["start"] == "2022-04-30T16:00:00Z"
    assert written["properties"]["end"] is None
    ring = shapely.LinearRing(written["geometry"]["coordinates"][0])
    assert ring.is_ccw
    back = read_fences(path)
    assert shapely.equals(back.geometry[0], fences.geometry[0])
    assert back.buffer_m.tolist() == [12.5] and back.extra[0]["adcode"] == 110113


def test_gcj02_fences_are_stored_in_wgs84_and_written_back(tmp_path: Path) -> None:
    doc = collection(feature())
    fences = read_fences(doc, datum="gcj02")
    lon, lat = gcj02_to_wgs84(np.array(SQUARE)[:, 0], np.array(SQUARE)[:, 1])
    assert np.allclose(
        shapely.get_coordinates(fences.geometry[0]), np.column_stack([lon, lat]), rtol=0, atol=1e-12
    )
    assert fences.datum == "gcj02"
    path = tmp_path / "gcj.geojson"
    write_fences(fences, path, datum="gcj02")
    back = json.loads(path.read_text())["features"][0]["geometry"]["coordinates"][0]
    # within 1e-8 degrees (about a millimetre) of what was read
    assert np.abs(np.array(back) - np.array(SQUARE)).max() < 1e-8


def test_from_records_with_shapely_geometry() -> None:
    fences = FenceSet.from_records(
        [
            {
                "id": "F1",
                "start": "2022-05-01",
                "geometry": shapely.box(116.4, 39.9, 116.41, 39.91),
            },
        ]
    )
    assert fences.source == "<records>" and len(fences) == 1
    with pytest.raises(FenceDataError, match=r"feature F1: geometry: .*outside"):
        FenceSet.from_records(
            [{"id": "F1", "start": "2022-05-01", "geometry": shapely.box(200, 0, 201, 1)}]
        )


def test_repr_counts_kinds() -> None:
    assert "sealed 3" in repr(read_fences(SAMPLES / "fences.geojson"))


# -- real data ----------------------------------------------------------------------------------


def _districts() -> dict[str, Any]:
    path = shared_file("beijing_polygons/beijing_districts_datav_gcj02.geojson")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for item in doc["features"]:
        item["properties"]["id"] = str(item["properties"]["adcode"])
        item["properties"]["start"] = "2022-04-25"
    return doc


def test_real_self_intersecting_district_is_refused_then_repaired() -> None:
    doc = _districts()
    with pytest.raises(FenceDataError) as info:
        read_fences(doc, datum="gcj02")
    # SOURCES.md: Shunyi (110113) self-intersects at (116.603686, 40.05295) in GCJ-02
    assert info.value.feature == "110113"
    # The place is named by GeoJSON position, never by its coordinates (docs/privacy.md).
    message = str(info.value)
    assert "Self-intersection on the edge from coordinates[0][0][" in message
    assert "116.60" not in message and "40.05" not in message
    where = re.findall(r"coordinates\[0\]\[0\]\[(\d+)\]", message)
    ring = doc["features"][[f["properties"]["id"] for f in doc["features"]].index("110113")]
    ring = ring["geometry"]["coordinates"][0][0]
    a, b = (np.array(ring[int(k)][:2]) for k in where)
    # the named edge passes through the published point (116.603686, 40.05295)
    point = np.array([116.603686, 40.05295])
    t = np.clip(np.dot(point - a, b - a) / np.dot(b - a, b - a), 0, 1)
    assert np.hypot(*(a + t * (b - a) - point)) < 1e-6
    fences = read_fences(copy.deepcopy(doc), datum="gcj02", invalid="repair")
    assert list(fences.repaired) == ["110113"]
    assert len(fences) == 16 and all(shapely.is_valid(fences.geometry))
    shunyi = fences.geometry[fences.position("110113")]
    raw = shapely.geometry.shape(
        doc["features"][fences.feature[fences.position("110113")]]["geometry"]
    )
    # repair keeps the district's area (to 0.1 %, measured in the districts' own frame)
    frame = fences.frame()
    repaired_area = frame.project_geometry(shunyi).area
    raw_area = frame.project_geometry(
        shapely.make_valid(raw)
    ).area  # GCJ-02 area, within a hair of WGS-84's
    assert abs(repaired_area - raw_area) / raw_area < 1e-3


def test_real_districts_move_by_the_gcj02_offset() -> None:
    doc = _districts()
    with pytest.warns(FenceCheckWarning, match="DataV"):  # the datum mix-up this test makes
        as_wgs84 = read_fences(doc, invalid="repair")
    from_gcj = read_fences(doc, datum="gcj02", invalid="repair")
    frame = as_wgs84.frame()
    a = frame.project_geometry(shapely.centroid(as_wgs84.geometry))
    b = frame.project_geometry(shapely.centroid(from_gcj.geometry))
    shift = shapely.distance(a, b)
    # GCJ-02 is offset from WGS-84 by a few hundred metres in Beijing
    assert np.all((shift > 100) & (shift < 800)), shift


def test_real_case_residences_as_risk_venues() -> None:
    import csv

    path = shared_file("risk_points/beijing_2022_case_residences_twang2218.csv")
    with path.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["name_missing"] == "False"]
    features = [
        feature(
            id=f"R{i}",
            kind="risk_venue",
            name=r["name"],
            buffer_m=100,
            start=r["date"],
            end=None,
            geometry={"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]},
        )
        for i, r in enumerate(rows)
    ]
    fences = read_fences(collection(*features))
    assert len(fences) == len(rows) > 800
    assert set(fences.kinds.tolist()) == {"risk_venue"}
    min_lon, min_lat, max_lon, max_lat = fences.bounds
    assert 115.9 < min_lon < max_lon < 116.9 and 39.5 < min_lat < max_lat < 40.5
    assert fc.MetricFrame.around([min_lon, max_lon], [min_lat, max_lat]) == fences.frame()


# -- GeoDataFrame -------------------------------------------------------------------------------


def test_geodataframe_reads_like_the_geojson_file() -> None:
    gpd = pytest.importorskip("geopandas")
    pd = pytest.importorskip("pandas")
    original = read_fences(SAMPLES / "fences.geojson")
    single = [i for i in range(len(original)) if (original.window_fence == i).sum() == 1]
    subset = original.take(single)
    starts = subset.window_start
    ends = np.where(subset.window_end == OPEN_END, np.iinfo(np.int64).min, subset.window_end)
    frame = gpd.GeoDataFrame(
        {
            "id": subset.ids,
            "name": subset.names,
            "kind": subset.kinds,
            "start": pd.to_datetime(starts, unit="ms", utc=True).tz_convert("Asia/Shanghai"),
            "end": pd.to_datetime(ends, unit="ms", utc=True, errors="coerce"),
            "buffer_m": np.where(subset.buffer_m > 0, subset.buffer_m, np.nan),
        },
        geometry=list(subset.geometry),
        crs="EPSG:4326",
    )
    frame.loc[subset.window_end == OPEN_END, "end"] = pd.NaT
    from_frame = read_fences(frame)
    assert from_frame.source == "GeoDataFrame"
    assert from_frame.ids.tolist() == subset.ids.tolist()
    assert np.array_equal(from_frame.window_start, subset.window_start)
    assert np.array_equal(from_frame.window_end, subset.window_end)
    assert from_frame.buffer_m.tolist() == subset.buffer_m.tolist()
    assert all(
        shapely.equals_exact(a, b, tolerance=0)
        for a, b in zip(from_frame.geometry, subset.geometry, strict=True)
    )


def test_geodataframe_in_a_projected_crs_is_reprojected() -> None:
    gpd = pytest.importorskip("geopandas")
    box = shapely.box(116.40, 39.90, 116.41, 39.91)
    frame = gpd.GeoDataFrame(
        {"id": ["F1"], "windows": [[["2022-05-01", None]]]}, geometry=[box], crs="EPSG:4326"
    ).to_crs("EPSG:3857")
    fences = read_fences(frame)
    assert np.allclose(shapely.bounds(fences.geometry[0]), shapely.bounds(box), atol=1e-9)
    assert fences.windows_of("F1") == [(parse_time("2022-05-01"), OPEN_END)]
    with pytest.raises(FenceDataError, match="projected CRS"):
        read_fences(frame, datum="gcj02")


def test_geodataframe_bad_row_names_the_feature() -> None:
    gpd = pytest.importorskip("geopandas")
    frame = gpd.GeoDataFrame(
        {"id": ["ok", "bad"], "start": ["2022-05-01", "someday"]},
        geometry=[shapely.box(116.4, 39.9, 116.41, 39.91)] * 2,
        crs="EPSG:4326",
    )
    with pytest.raises(FenceDataError, match="GeoDataFrame: feature bad: start: unreadable time"):
        read_fences(frame)
