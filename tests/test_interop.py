"""pandas / GeoPandas / Arrow interop: fences both ways, hits as points, explanations as tables."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from fencecheck.times import OPEN_END, format_utc
from strategies import HOUR, T0

from support import SAMPLES

gpd = pytest.importorskip("geopandas")
pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SQUARE = shapely.box(116.40, 39.90, 116.41, 39.91)
HOLED = shapely.Polygon(
    SQUARE.exterior.coords, [shapely.box(116.402, 39.902, 116.405, 39.905).exterior.coords]
)
TWO_PARTS = shapely.MultiPolygon([shapely.box(116.42, 39.90, 116.43, 39.91), HOLED])


def _assert_same_fences(got: fc.FenceSet, want: fc.FenceSet, tolerance: float = 0.0) -> None:
    assert got.ids.tolist() == want.ids.tolist()
    assert got.names.tolist() == want.names.tolist()
    assert got.kinds.tolist() == want.kinds.tolist()
    assert got.buffer_m.tolist() == want.buffer_m.tolist()
    assert got.window_fence.tolist() == want.window_fence.tolist()
    assert got.window_start.tolist() == want.window_start.tolist()
    assert got.window_end.tolist() == want.window_end.tolist()
    assert got.extra == want.extra
    for a, b in zip(got.geometry, want.geometry, strict=True):
        assert a.geom_type == b.geom_type
        assert shapely.equals_exact(a, b, tolerance=tolerance), (a, b)


def _fences(windows: list[list[tuple[int, int | None]]]) -> fc.FenceSet:
    shapes = [SQUARE, HOLED, TWO_PARTS, shapely.Point(116.45, 39.95)]
    records = []
    for k, wins in enumerate(windows):
        record: dict[str, Any] = {
            "id": f"F{k}",
            "name": None if k % 2 else f"小区 {k}",
            "kind": ["sealed", "controlled", "precaution", "risk_venue"][k % 4],
            "windows": [[format_utc(s), None if e is None else format_utc(e)] for s, e in wins],
            "geometry": shapes[k % 4],
            "buffer_m": 30.0 if k % 4 == 3 else float(k % 3) * 10.0,
        }
        if k % 3 == 0:
            record["district"] = "朝阳"
        records.append(record)
    return fc.FenceSet.from_records(records)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.integers(0, 40).map(lambda h: T0 + h * HOUR),
                st.one_of(st.none(), st.integers(1, 9).map(lambda h: h * HOUR)),
            ),
            min_size=1,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_fences_survive_a_geodataframe_round_trip(windows: list[list[tuple[int, Any]]]) -> None:
    wins = [[(s, None if d is None else s + d) for s, d in ws] for ws in windows]
    fences = _fences(wins)
    frame = fences.to_geopandas()
    assert frame.crs.to_epsg() == 4326
    single = np.bincount(fences.window_fence, minlength=len(fences)) == 1
    # One window: start / end as tz-aware datetimes; several: a windows list.
    assert frame["start"].notna().to_numpy().tolist() == single.tolist()
    assert frame["windows"].isna().to_numpy().tolist() == single.tolist()
    assert str(frame["start"].dtype).endswith("UTC]")
    _assert_same_fences(fc.read_fences(frame), fences)


def test_fences_in_gcj02_come_back_with_the_datum_said_again() -> None:
    fences = _fences([[(T0, None)], [(T0, T0 + HOUR)], [(T0, T0 + 2 * HOUR)]])
    frame = fences.to_geopandas(datum="gcj02")
    assert frame.crs is None  # GCJ-02 has no EPSG code: the datum is the user's to say
    shifted = shapely.get_coordinates(frame.geometry.iloc[0]) - shapely.get_coordinates(SQUARE)
    assert 200 < np.abs(shifted).max() * 111_000 < 800  # the GCJ-02 offset, hundreds of metres
    back = fc.read_fences(frame, datum="gcj02")
    _assert_same_fences(back, fences, tolerance=1e-8)


def test_sample_fences_survive_geoparquet(tmp_path: Path) -> None:
    fences = fc.read_fences(SAMPLES / "fences.geojson")
    frame = fences.to_geopandas()
    path = tmp_path / "fences.parquet"
    frame.to_parquet(path)  # GeoParquet: what a GeoPandas user saves and hands on
    _assert_same_fences(fc.read_fences(gpd.read_parquet(path)), fences)


# -- hits ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matched() -> tuple[fc.FenceIndex, fc.PingTable, fc.Hits]:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    return index, pings, index.match(pings, mode="disc")


def test_hits_become_points_at_their_fixes(matched: Any) -> None:
    _, pings, hits = matched
    points = hits.to_geopandas(pings)
    assert len(points) == len(hits) > 0
    assert points.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(
        pd.DataFrame(points.drop(columns=["geometry", "accuracy_m", "source"])), hits.to_pandas()
    )
    by_row = pings.to_pandas().set_index("row")
    fixes = by_row.loc[hits.ping]
    assert np.array_equal(points.geometry.x.to_numpy(), fixes.lon.to_numpy())
    assert np.array_equal(points.geometry.y.to_numpy(), fixes.lat.to_numpy())
    assert points.source.tolist() == fixes.source.tolist()
    assert np.array_equal(points.accuracy_m.to_numpy(), fixes.accuracy_m.to_numpy())
    # A GeoPandas user carries on: every hit point lies within reach of its fence.
    fences = fc.read_fences(SAMPLES / "fences.geojson").to_geopandas().set_index("id")
    metric = points.to_crs(fences.loc[points.fence_id].estimate_utm_crs())
    shapes = fences.to_crs(metric.crs).geometry.loc[points.fence_id].to_numpy()
    reach = fences.buffer_m.loc[points.fence_id].to_numpy() + points.accuracy_m.to_numpy()
    gap = shapely.distance(metric.geometry.to_numpy(), shapes)
    assert (gap <= reach + 1.0).all()  # 1 m: UTM is not the index's own frame


def test_hits_of_other_pings_are_refused(matched: Any) -> None:
    _, pings, hits = matched
    with pytest.raises(fc.errors.OptionError, match="do not come from these pings"):
        hits.to_geopandas(pings.take(np.arange(10)))


def test_hits_to_parquet_has_the_formats_types_and_values(matched: Any, tmp_path: Path) -> None:
    _, _, hits = matched
    path = tmp_path / "hits.parquet"
    hits.to_parquet(path)
    table = pq.read_table(path)
    assert table.schema.names == list(fc.io.hits.HIT_FILE_COLUMNS)
    stamp = pa.timestamp("ms", tz="UTC")
    assert [table.schema.field(c).type for c in ("t", "window_start", "window_end")] == [stamp] * 3
    assert table.schema.field("ping").type == pa.int64()
    frame = table.to_pandas()
    expected = hits.to_pandas()
    assert frame.ping.tolist() == expected.ping.tolist()
    assert frame.t.tolist() == expected.t.tolist()
    assert frame.window_end.isna().tolist() == (hits.window_end == OPEN_END).tolist()
    assert np.array_equal(frame.p_inside.to_numpy(), hits.p_inside)
    assert hits.to_arrow().equals(table)


def test_hits_to_csv_is_what_match_writes(matched: Any, tmp_path: Path) -> None:
    _, _, hits = matched
    hits.to_csv(tmp_path / "hits.csv")
    lines = (tmp_path / "hits.csv").read_text().splitlines()
    assert lines[0] == ",".join(fc.io.hits.HIT_FILE_COLUMNS)
    first = lines[1].split(",")
    assert first[0] == str(hits.ping[0]) and first[2] == format_utc(int(hits.t[0]))


# -- explanations -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explanations(matched: Any) -> list[fc.Explanation]:
    index, pings, _ = matched
    return fc.explain(pings, index)


def test_explanation_table_holds_each_reports_fields(explanations: list[Any]) -> None:
    table = fc.judging.explanation_table(explanations)
    frame = table.to_pandas()
    assert len(frame) == len(explanations)
    for row, e in zip(frame.itertuples(), explanations, strict=True):
        report = json.loads(e.to_json())
        assert row.person_id == report["person_id"]
        assert row.verdict == report["verdict"]
        assert row.reasons == ";".join(report["reasons"])
        assert row.advice == report["advice"]["key"]
        assert row.at == pd.Timestamp(report["at"])
        assert row.text == report["text"] and row.text_en == report["text_en"]
        assert row.episodes == len(report["episodes"])
        decisive = report["decisive"]
        if decisive is None:
            assert row.fence_id == "" and pd.isna(row.entry) and np.isnan(row.dwell_s)
            assert row.pings == 0
        else:
            assert row.fence_id == decisive["fence_id"]
            assert row.entry == pd.Timestamp(decisive["entry"])
            assert row.exit == pd.Timestamp(decisive["exit"])
            assert row.dwell_s == decisive["dwell_s"] and row.pings == decisive["pings"]
            assert row.p_inside == decisive["p_inside"]
        near = report["near_misses"]
        assert row.near_fence_id == (near[0]["fence_id"] if near else "")
        assert (row.near_m == near[0]["distance_m"]) if near else np.isnan(row.near_m)
    verdicts = set(frame.verdict)
    assert {"exposed", "false_trigger", "unexplained"} <= verdicts  # the samples tell all stories


def test_episode_table_has_one_row_per_episode_and_marks_the_decisive(
    explanations: list[Any],
) -> None:
    table = fc.judging.episode_table(explanations)
    assert len(table) == sum(len(e.episodes) for e in explanations)
    expected = [
        (e.person_id, ep["fence_id"], ep["entry"]) for e in explanations for ep in e.episodes
    ]
    got = list(
        zip(table["person_id"].tolist(), table["fence_id"].tolist(),
            format_utc(table["entry"]).tolist(), strict=True)
    )  # fmt: skip
    assert got == expected
    decisive_people = [
        e.person_id
        for e in explanations
        if e.decisive is not None and e.decisive.get("source") != "upstream"
    ]
    assert sorted(table["person_id"][table["decisive"]].tolist()) == sorted(decisive_people)


def test_explanation_tables_go_to_parquet_with_utc_timestamps(
    explanations: list[Any], tmp_path: Path
) -> None:
    table = fc.judging.explanation_table(explanations)
    table.to_parquet(tmp_path / "explanations.parquet")
    back = pq.read_table(tmp_path / "explanations.parquet")
    stamp = pa.timestamp("ms", tz="UTC")
    assert [back.schema.field(c).type for c in ("at", "entry", "exit")] == [stamp] * 3
    assert back.schema.field("pings").type == pa.int64()
    assert back.column("entry").null_count == sum(e.decisive is None for e in explanations)
    assert back.column("person_id").to_pylist() == [e.person_id for e in explanations]


def test_empty_explanations_give_empty_tables() -> None:
    assert len(fc.judging.explanation_table([])) == 0
    assert fc.judging.explanation_table([]).to_pandas().columns[0] == "person_id"
    assert len(fc.judging.episode_table([]).to_arrow()) == 0


def test_missing_geopandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    fences = fc.read_fences(SAMPLES / "fences.geojson")
    monkeypatch.setitem(sys.modules, "geopandas", None)
    with pytest.raises(fc.errors.MissingDependencyError, match=r"fencecheck\[geopandas\]"):
        fences.to_geopandas()
