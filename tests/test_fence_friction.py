"""Everyday friction on the fence side: kinds, DataV files, other formats, field names, files."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from fencecheck.cli import build_parser, load_fences, main, split_fence_datum
from fencecheck.datums import gcj02_to_wgs84
from fencecheck.errors import (
    FenceCheckWarning,
    FenceDataError,
    MissingDependencyError,
    OptionError,
)
from fencecheck.fences import KNOWN_KINDS, FenceSet
from fencecheck.io.fences import read_fences, write_fences
from fencecheck.times import OPEN_END, parse_time

from support import shared_file

DATAV = "beijing_polygons/beijing_districts_datav_gcj02.geojson"
SQUARE = [[[116.40, 39.90], [116.41, 39.90], [116.41, 39.91], [116.40, 39.91], [116.40, 39.90]]]


def feature(coords: Any = None, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Polygon", "coordinates": coords or SQUARE},
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def datav_fences(**options: Any) -> FenceSet:
    return read_fences(
        shared_file(DATAV),
        id_field="adcode",
        kind="precaution",
        window=("2022-05-01", None),
        **options,
    )


# -- 1. kinds ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "known"),
    [
        ("Sealed", "sealed"),
        (" SEALED ", "sealed"),
        ("Risk Area", "risk_area"),
        ("risk-venue", "risk_venue"),
        ("封控区", "sealed"),
        ("管控区", "controlled"),
        ("防范区", "precaution"),
        ("风险区域", "risk_area"),
        ("风险区", "risk_area"),
        ("高风险区", "risk_area"),
        ("风险点位", "risk_venue"),
        ("风险场所", "risk_venue"),
        ("unspecified", "unspecified"),
    ],
)
def test_kind_spellings_map_to_known_kinds(written: str, known: str) -> None:
    fences = read_fences(collection(feature(id="F1", kind=written, start="2022-05-01")))
    assert fences.kinds.tolist() == [known]


def test_unknown_kind_is_refused_naming_the_known_kinds() -> None:
    doc = collection(feature(id="F1", kind="中风险区", start="2022-05-01"))
    with pytest.raises(FenceDataError) as caught:
        read_fences(doc)
    message = str(caught.value)
    assert "feature F1: kind: unknown kind '中风险区'" in message
    assert all(kind in message for kind in KNOWN_KINDS)
    assert "--kind-map" in message
    rejected = read_fences(doc, on_error="reject").rejected
    assert rejected.field.tolist() == ["kind"] and rejected.id.tolist() == ["F1"]


def test_missing_kind_stays_unspecified_and_round_trips(tmp_path: Path) -> None:
    fences = read_fences(collection(feature(id="F1", start="2022-05-01")))
    assert fences.kinds.tolist() == ["unspecified"]
    write_fences(fences, tmp_path / "f.geojson")
    assert read_fences(tmp_path / "f.geojson").kinds.tolist() == ["unspecified"]


def test_kind_map_maps_your_vocabulary_and_checks_its_targets() -> None:
    doc = collection(
        feature(id="a", kind="Lockdown", start="2022-05-01"),
        feature(id="b", kind="小区管控", start="2022-05-01"),
        feature(id="c", kind="sealed", start="2022-05-01"),
    )
    fences = read_fences(doc, kind_map={"lockdown": "封控区", "小区管控": "controlled"})
    assert fences.kinds.tolist() == ["sealed", "controlled", "sealed"]
    records = [{**f["properties"], "geometry": f["geometry"]} for f in doc["features"]]
    assert FenceSet.from_records(
        records, kind_map={"Lockdown": "sealed", "小区管控": "sealed"}
    ).kinds.tolist() == ["sealed", "sealed", "sealed"]
    with pytest.raises(OptionError, match="'hotel' is not a known kind"):
        read_fences(doc, kind_map={"Lockdown": "hotel"})


# -- 2. DataV files read as WGS-84 -------------------------------------------------------


def test_datav_file_read_as_wgs84_warns_and_as_gcj02_does_not() -> None:
    with pytest.warns(FenceCheckWarning, match=r"DataV.*--fence-datum gcj02"):
        datav_fences(invalid="repair")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        datav_fences(datum="gcj02", invalid="repair")
    assert not [w for w in caught if "DataV" in str(w.message)]


def test_adcode_alone_is_no_datav_signature() -> None:
    doc = collection(feature(adcode=110101, start="2022-05-01"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", FenceCheckWarning)
        assert read_fences(doc, id_field="adcode").ids.tolist() == ["110101"]
    doc["features"][0]["properties"]["centroid"] = [116.4, 39.9]
    with pytest.warns(FenceCheckWarning, match="DataV"):
        read_fences(doc, id_field="adcode")


def test_cli_prints_the_datav_warning(capsys: pytest.CaptureFixture[str]) -> None:
    path = shared_file(DATAV)
    args = ["validate", "--fences", str(path), "--id-field", "adcode", "--kind", "防范区"]
    args += ["--window", "2022-05-01/", "--invalid", "repair"]
    assert main(args) == 0
    assert "fencecheck: warning:" in capsys.readouterr().err
    assert main([*args, "--fence-datum", "gcj02"]) == 0
    assert "DataV" not in capsys.readouterr().err


# -- 4. properties under other names -----------------------------------------------------


def test_real_datav_districts_with_field_options() -> None:
    fences = datav_fences(datum="gcj02", on_error="reject")
    assert len(fences) == 15 and len(fences.rejected) == 1
    assert fences.rejected.id.tolist() == ["110113"]  # 顺义区 self-intersects
    assert "invalid polygon" in fences.rejected.reason[0]
    assert set(fences.kinds.tolist()) == {"precaution"}
    assert "110101" in fences.ids.tolist() and "东城区" in fences.names.tolist()
    assert fences.window_start.tolist() == [parse_time("2022-05-01", tz="Asia/Shanghai")] * 15
    assert set(fences.window_end.tolist()) == {OPEN_END}
    repaired = datav_fences(datum="gcj02", invalid="repair")
    assert len(repaired) == 16 and list(repaired.repaired) == ["110113"]


def test_without_id_field_every_datav_district_is_refused() -> None:
    fences = read_fences(shared_file(DATAV), datum="gcj02", on_error="reject")
    assert len(fences) == 0 and set(fences.rejected.field.tolist()) == {"id"}


def test_field_names_defaults_and_which_wins() -> None:
    doc = collection(
        feature(code=7.0, 名称="一号", 类型="封控区", 开始="2022-05-02", 结束="2022-05-03", 缓冲=5),
        feature(code=8, 名称="二号"),
        feature(code=9, 类型="sealed", windows=[["2022-06-01", None]]),
    )
    fences = read_fences(
        doc,
        id_field="code",
        name_field="名称",
        kind_field="类型",
        start_field="开始",
        end_field="结束",
        buffer_field="缓冲",
        kind="precaution",
        window=("2022-05-01", "2022-05-08"),
    )
    assert fences.ids.tolist() == ["7", "8", "9"]
    assert fences.names.tolist() == ["一号", "二号", None]
    # a feature's own kind and window win over the defaults
    assert fences.kinds.tolist() == ["sealed", "precaution", "sealed"]
    assert fences.buffer_m.tolist() == [5.0, 0.0, 0.0]
    day = 86_400_000
    assert fences.windows_of("7")[0][1] - fences.windows_of("7")[0][0] == day
    assert fences.windows_of("8")[0][1] - fences.windows_of("8")[0][0] == 7 * day
    assert fences.windows_of("9")[0][1] == OPEN_END
    assert "code" not in fences.extra[0] and "名称" not in fences.extra[0]


def test_refusal_names_your_field_and_bad_defaults_are_option_errors() -> None:
    doc = collection(feature(name="x", start="2022-05-01"))
    with pytest.raises(FenceDataError, match=r"feature #0: adcode: missing id"):
        read_fences(doc, id_field="adcode")
    with pytest.raises(OptionError, match="not a known kind"):
        read_fences(doc, kind="hotel")
    with pytest.raises(OptionError, match="before start"):
        read_fences(doc, window=("2022-05-08", "2022-05-01"))
    with pytest.raises(FenceDataError, match="id must be text or a whole number"):
        read_fences(collection(feature(id=1.5, start="2022-05-01")))


# -- 3. other formats ----------------------------------------------------------------------


def _frame(crs: str | None = "EPSG:4326") -> Any:
    geopandas = pytest.importorskip("geopandas")
    return geopandas.GeoDataFrame(
        {
            "code": [110101, 110102],
            "kind": ["封控区", "Controlled"],
            "start": ["2022-05-01T00:00:00+08:00", "2022-05-02T00:00:00+08:00"],
        },
        geometry=[
            shapely.box(116.40, 39.90, 116.41, 39.91),
            shapely.box(116.42, 39.90, 116.43, 39.91),
        ],
        crs=crs,
    )


@pytest.mark.parametrize("suffix", [".shp", ".gpkg", ".fgb", ".parquet"])
def test_other_formats_are_read_through_geopandas(tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("pyogrio")
    frame = _frame()
    path = tmp_path / f"fences{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    fences = read_fences(path, id_field="code")
    # FlatGeobuf's spatial index may reorder the features
    fences = fences.take([fences.position("110101"), fences.position("110102")])
    assert fences.ids.tolist() == ["110101", "110102"]
    assert fences.kinds.tolist() == ["sealed", "controlled"]
    assert fences.source == str(path)
    assert np.allclose(shapely.bounds(fences.geometry[0]), (116.40, 39.90, 116.41, 39.91))


def test_plain_parquet_and_missing_files_are_data_errors(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    pd.DataFrame({"id": ["a"]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(FenceDataError, match="not a GeoParquet file"):
        read_fences(tmp_path / "plain.parquet")
    with pytest.raises(FenceDataError, match="no such file"):
        read_fences(tmp_path / "absent.gpkg")


def test_other_formats_without_geopandas_name_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "geopandas", None)
    with pytest.raises(MissingDependencyError, match=r"fencecheck\[geopandas\]"):
        read_fences(tmp_path / "fences.shp")


def test_projected_frame_is_reprojected_and_frame_without_crs_is_in_datum() -> None:
    frame = _frame()
    as_4326 = read_fences(frame, id_field="code")
    projected = read_fences(frame.to_crs("EPSG:3857"), id_field="code")
    assert np.allclose(
        shapely.get_coordinates(projected.geometry), shapely.get_coordinates(as_4326.geometry)
    )
    bare = read_fences(frame.set_crs(None, allow_override=True), id_field="code", datum="gcj02")
    lon, lat = gcj02_to_wgs84(np.array([116.40]), np.array([39.90]))
    assert np.allclose(shapely.bounds(bare.geometry[0])[:2], [lon[0], lat[0]])


# -- 5. several fence files on the command line --------------------------------------------


def test_split_fence_datum_only_takes_a_final_datum() -> None:
    assert split_fence_datum("B.geojson:gcj02") == ("B.geojson", "gcj02")
    assert split_fence_datum("a:b/B.geojson:BD09") == ("a:b/B.geojson", "bd09")
    assert split_fence_datum("a:b/B.geojson") == ("a:b/B.geojson", None)
    assert split_fence_datum("B.geojson:utm") == ("B.geojson:utm", None)


def _write(path: Path, *features: dict[str, Any]) -> Path:
    path.write_text(json.dumps(collection(*features), ensure_ascii=False), encoding="utf-8")
    return path


def test_several_fence_files_each_in_its_datum(tmp_path: Path) -> None:
    folder = tmp_path / "with:colon"
    folder.mkdir()
    a = _write(folder / "a.geojson", feature(id="A1", 类型="Sealed", start="2022-05-01"))
    b = _write(tmp_path / "b.geojson", feature(id="B1", 类型="封控", start="2022-05-01"))
    files = ["--fences", str(a), "--fences", f"{b}:gcj02", "--fence-datum", "wgs84"]
    args = build_parser().parse_args(
        ["match", *files, "--kind-field", "类型", "--kind-map", "封控=sealed"]
    )
    assert args.fences == str(a)
    fences = load_fences(args)
    assert fences.ids.tolist() == ["A1", "B1"] and fences.kinds.tolist() == ["sealed", "sealed"]
    only_b = read_fences(b, datum="gcj02", kind_field="类型", kind_map={"封控": "sealed"})
    assert shapely.equals_exact(fences.geometry[1], only_b.geometry[0], 1e-12)
    assert not shapely.equals_exact(fences.geometry[0], fences.geometry[1], 1e-6)


def test_duplicate_ids_across_files_name_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _write(tmp_path / "a.geojson", feature(id="X", start="2022-05-01"))
    b = _write(tmp_path / "b.geojson", feature(id="X", start="2022-05-01"))
    assert main(["validate", "--fences", str(a), "--fences", f"{b}:wgs84"]) == 1
    err = capsys.readouterr().err
    assert "duplicate id 'X'" in err and str(a) in err and str(b) in err


def test_cli_field_flags_and_bad_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "f.geojson", feature(编号=1, start="2022-05-01"))
    assert main(["validate", "--fences", str(path), "--id-field", "编号", "--kind", "管控区"]) == 0
    assert "controlled 1" in capsys.readouterr().err
    assert main(["validate", "--fences", str(path), "--kind-map", "nothing"]) == 2
    assert "--kind-map" in capsys.readouterr().err
    assert main(["validate", "--fences", str(path), "--id-field", "编号", "--window", "x"]) == 2
    assert "--window" in capsys.readouterr().err
