"""Everyday friction on the ping side: impossible fixes, datum hints, natural Python calls,
Chinese time spellings, and messages that say what to do."""

from __future__ import annotations

import csv
import io
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.errors import FenceCheckWarning, OptionError, PingDataError
from fencecheck.pings import MAX_ACCURACY_M, build_pings
from fencecheck.times import format_utc, parse_times

from support import SAMPLES, shared_file

PINGS = SAMPLES / "pings.csv"
FENCES = SAMPLES / "fences.geojson"
T0 = 1651537204  # 2022-05-03T00:20:04Z, 08:20:04 in Beijing


def columns(n: int, **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "person_id": [f"p{i}" for i in range(n)],
        "t": [T0] * n,
        "lon": [116.4] * n,
        "lat": [39.9] * n,
    }
    base.update(overrides)
    return base


def write_csv(path: Path, rows: list[list[object]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        csv.writer(f).writerows(rows)
    return path


# -- 1. impossible pings ---------------------------------------------------------------------


def test_zero_coordinates_are_refused_as_placeholders_without_showing_values() -> None:
    cols = columns(4, lon=[116.4, 0.0, 116.4, 0.0], lat=[39.9, 39.9, 0.0, 0.0])
    table = build_pings(cols, on_error="reject")
    assert table.row.tolist() == [0]
    assert table.rejected.row.tolist() == [1, 2, 3]
    assert table.rejected.field.tolist() == ["lon", "lat", "lon"]
    for reason in table.rejected.reason.tolist():
        assert "placeholder" in reason
        assert "116" not in reason and "39" not in reason
    with pytest.raises(PingDataError) as caught:
        build_pings(cols, origin="p.csv")
    assert (caught.value.row, caught.value.field) == (1, "lon")
    assert str(caught.value).startswith("p.csv: row 1: lon: lon is exactly 0")


@pytest.mark.parametrize("datum", ["gcj02", "bd09"])
def test_a_chinese_datum_outside_china_is_refused(datum: str) -> None:
    cols = columns(3, lon=[116.4, 2.35, -74.0], lat=[39.9, 48.86, 40.7])
    table = build_pings(cols, datum=datum, on_error="reject")
    assert table.row.tolist() == [0]
    assert table.rejected.row.tolist() == [1, 2]
    assert all(datum in r and "48.86" not in r for r in table.rejected.reason.tolist())
    # The same fixes read as WGS-84 are places (GeoLife has pings abroad).
    assert len(build_pings(cols, datum="wgs84")) == 3
    with pytest.raises(PingDataError, match=r"row 1: lon: lon/lat is outside China"):
        build_pings(cols, datum=datum)


def test_absurd_accuracy_is_refused() -> None:
    acc = [20.0, MAX_ACCURACY_M, MAX_ACCURACY_M + 1, 1e9, -1.0]
    table = build_pings(columns(5, accuracy_m=acc), on_error="reject")
    assert table.row.tolist() == [0, 1]
    assert table.rejected.row.tolist() == [2, 3, 4]
    assert "too large (more than 50,000 metres" in table.rejected.reason[1]
    assert "1000000000" not in table.rejected.reason[1]
    with pytest.raises(PingDataError, match=r"row 3: accuracy_m: accuracy_m is too large"):
        build_pings(columns(5, accuracy_m=[1.0, 2.0, 3.0, 1e9, 4.0]))


def test_impossible_rows_in_a_file_follow_on_error(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["person_id", "t", "lon", "lat", "accuracy_m"],
            ["a", "2022-05-03 08:00", "116.4", "39.9", "10"],
            ["a", "2022-05-03 08:01", "0", "0", "10"],
            ["a", "2022-05-03 08:02", "116.4", "39.9", "1e9"],
        ],
    )
    for engine in ("arrow", "python"):
        table = fc.read_pings(path, on_error="reject", engine=engine)
        assert table.rejected.records() == [
            (1, "a", "lon", "lon is exactly 0: a placeholder for a missing fix, not a place", "0"),
            (
                2,
                "a",
                "accuracy_m",
                "accuracy_m is too large (more than 50,000 metres: no usable fix)",
                "1e9",
            ),
        ]
    with pytest.raises(PingDataError, match=r"p\.csv: row 1: lon: "):
        fc.read_pings(path)


# -- 2. a GCJ-02 file read as WGS-84 ---------------------------------------------------------


def test_gcj_names_read_as_wgs84_warn(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["person_id", "t", "gcj_lon", "gcj_lat"],
        ["a", "2022-05-03 08:00", "116.4", "39.9"],
    ]
    path = write_csv(tmp_path / "pings.csv", rows)
    mapping = {"gcj_lon": "lon", "gcj_lat": "lat"}
    with pytest.warns(FenceCheckWarning, match="--ping-datum gcj02"):
        fc.read_pings(path, columns=mapping)
    named = write_csv(tmp_path / "amap_pings.csv", [["person_id", "t", "lon", "lat"], rows[1]])
    with pytest.warns(FenceCheckWarning, match="file name"):
        fc.read_pings(named)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fc.read_pings(path, columns=mapping, datum="gcj02")  # said so: no warning
        fc.read_pings(PINGS)


def test_gcj_warning_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "export_gcj02.csv",
        [["person_id", "t", "lon", "lat"], ["a", "2022-05-03 08:00", "116.4", "39.9"]],
    )
    assert main(["validate", "--pings", str(path)]) == 0
    assert "warning:" in capsys.readouterr().err


# -- 3. natural Python calls -----------------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> tuple[fc.PingTable, fc.FenceSet, fc.FenceIndex]:
    fences = fc.read_fences(FENCES)
    return fc.read_pings(PINGS), fences, fc.FenceIndex.build(fences)


def test_explain_takes_a_path_a_fence_set_and_one_id(
    sample: tuple[fc.PingTable, fc.FenceSet, fc.FenceIndex],
) -> None:
    pings, fences, index = sample
    proper = [e.to_dict() for e in fc.explain(pings, index, person=["P06"])]
    for given_pings in (str(PINGS), PINGS):
        loose = fc.explain(given_pings, fences, person="P06")
        assert isinstance(loose, list)
        assert [e.to_dict() for e in loose] == proper
    assert proper[0]["verdict"] == "false_trigger"


def test_scan_and_match_take_a_dataframe_and_a_fence_set(
    sample: tuple[fc.PingTable, fc.FenceSet, fc.FenceIndex],
) -> None:
    pd = pytest.importorskip("pandas")
    pings, fences, index = sample
    frame = pd.read_csv(PINGS, dtype={"person_id": str})
    a, b = fc.scan(pings, index), fc.scan(frame, fences)
    for name in ("people", "fences", "whatif"):
        assert getattr(a, name).to_pandas().equals(getattr(b, name).to_pandas()), name
    h1, h2 = fc.match(pings, index, mode="disc"), fc.match(frame, fences, mode="disc")
    assert len(h1) > 0
    assert h1.ping.tolist() == h2.ping.tolist() and h1.fence.tolist() == h2.fence.tolist()
    assert np.allclose(h1.p_inside, h2.p_inside)
    h3 = fc.match(str(PINGS), index)
    assert h3.ping.tolist() == fc.match(pings, index).ping.tolist()


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (lambda p, i: fc.explain({"lon": [1]}, i), "explain: pings is a dict; give a PingTable"),
        (lambda p, i: fc.explain(p, [1, 2]), "explain: index is a list; give a FenceIndex"),
        (lambda p, i: fc.scan(p, "fences.geojson"), "scan: index is a str; give a FenceIndex"),
        (lambda p, i: fc.match([1], i), "match: pings is a list; give a PingTable"),
        (lambda p, i: fc.match(p, {}), "match: index is a dict"),
        (lambda p, i: fc.explain(i, p), "the pings come first"),
        (lambda p, i: fc.explain(p, i, person=7), "person: 7 is not a person id"),
        (lambda p, i: fc.read_pings({"lon": [1]}), "read_pings: got a dict"),
        (lambda p, i: fc.read_pings([]), "read_pings: got a list"),
    ],
)
def test_wrong_types_say_what_is_accepted(
    sample: tuple[fc.PingTable, fc.FenceSet, fc.FenceIndex], call: Any, said: str
) -> None:
    pings, _, index = sample
    with pytest.raises(OptionError) as caught:
        call(pings, index)
    assert said in str(caught.value)


def test_an_empty_fence_set_is_named(
    sample: tuple[fc.PingTable, fc.FenceSet, fc.FenceIndex],
) -> None:
    pings, _, _ = sample
    empty = fc.FenceSet.from_records([])
    for call in (fc.explain, fc.scan, fc.match):
        with pytest.raises(OptionError, match="no fence was read"):
            call(pings, empty)


def test_a_dask_dataframe_is_refused_with_the_way_forward() -> None:
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    frame = dd.from_pandas(pd.read_csv(PINGS, dtype={"person_id": str}), npartitions=2)
    with pytest.raises(OptionError) as caught:
        fc.read_pings(frame)
    assert "fencecheck.dask" in str(caught.value) and ".compute()" in str(caught.value)
    assert len(fc.read_pings(frame.compute())) == len(fc.read_pings(PINGS))


# -- 4. time spellings -----------------------------------------------------------------------


SPELLINGS = [
    "2022/05/03 08:20:04",
    "2022/5/3 8:20:04",
    "2022年5月3日 08:20:04",
    "2022年05月03日 8时20分04秒",
    "2022/05/03T08:20:04",
    "2022.05.03 08:20:04",
]


def test_chinese_spellings_read_like_naive_iso() -> None:
    parsed = parse_times([*SPELLINGS, "2022年05月03日", "2022/5/3 8:20"])
    assert not parsed.bad.any(), parsed.reasons
    assert set(parsed.ms[:-2].tolist()) == {T0 * 1000}
    assert format_utc(int(parsed.ms[-2])) == "2022-05-02T16:00:00Z"
    assert int(parsed.ms[-1]) == (T0 - 4) * 1000
    in_utc = parse_times(["2022/05/03 00:20:04"], tz="UTC")
    assert in_utc.ms.tolist() == [T0 * 1000]
    # Day-first and impossible dates stay refused: no guessing.
    refused = parse_times(["03/05/2022 08:20", "2022/13/03", "2022年2月30日"])
    assert refused.bad.all()


@pytest.mark.parametrize("engine", ["arrow", "python"])
def test_a_gb18030_file_with_slashed_times(tmp_path: Path, engine: str) -> None:
    rows: list[list[object]] = [["person_id", "t", "lon", "lat", "备注"]]
    rows += [[f"居民{i}", t, "116.4", "39.9", "小区门口"] for i, t in enumerate(SPELLINGS)]
    path = write_csv(tmp_path / "导出.csv", rows, encoding="gb18030")
    table = fc.read_pings(path, encoding="gb18030", engine=engine)
    assert len(table.rejected) == 0
    assert table.t.tolist() == [T0 * 1000] * len(SPELLINGS)
    assert table.person_ids().tolist()[0] == "居民0"


def test_time_format_for_anything_else(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [
            ["person_id", "t", "lon", "lat"],
            ["a", "03/05/2022 08:20", "116.4", "39.9"],
            ["a", "03-05-2022 8h20", "116.4", "39.9"],
        ],
    )
    for engine in ("arrow", "python"):
        table = fc.read_pings(path, time_format="%d/%m/%Y %H:%M", on_error="reject", engine=engine)
        assert table.t.tolist() == [(T0 - 4) * 1000]
        assert table.rejected.reason.tolist() == [
            "'03-05-2022 8h20' does not match the time format '%d/%m/%Y %H:%M'"
        ]
    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(path, dtype=str)
    assert fc.read_pings(frame, time_format="%d/%m/%Y %H:%M", on_error="reject").t.tolist() == [
        (T0 - 4) * 1000
    ]
    with pytest.raises(OptionError, match="strptime pattern"):
        fc.read_pings(path, time_format="dd/mm/yyyy")
    code = main(["validate", "--pings", str(path), "--time-format", "%d/%m/%Y %H:%M"])
    err = capsys.readouterr().err
    assert code == 1
    assert "row 1: t: '03-05-2022 8h20' does not match the time format '%d/%m/%Y %H:%M'" in err


def test_iso_reading_is_not_slowed(tmp_path: Path) -> None:
    """The spellings are a fallback: ISO text never reaches the regular expression."""
    import fencecheck.times as times

    calls = []
    original = times._retry_spellings

    def spy(values: list[str], *args: Any) -> None:
        calls.append(len(values))
        original(values, *args)

    times._retry_spellings = spy  # type: ignore[assignment]
    try:
        fc.read_pings(PINGS, engine="python")
        fc.read_pings(PINGS)
    finally:
        times._retry_spellings = original  # type: ignore[assignment]
    assert calls == []


def test_real_geolife_times_respelled(tmp_path: Path) -> None:
    source = shared_file("geolife/geolife_sample_skmob_users001_005.csv")
    with open(source, encoding="utf-8") as f:
        head = [next(f) for _ in range(2001)]
    original = tmp_path / "geolife.csv"
    original.write_text("".join(head), encoding="utf-8")
    options: dict[str, Any] = {"columns": {"user_id": "person_id"}, "tz": "UTC"}
    iso = fc.read_pings(original, **options)
    assert len(iso.rejected) == 0 and len(iso) == 2000  # no real fix refused by the new checks
    respelled = tmp_path / "geolife_slashes.csv"
    stamp = re.compile(r"(\d{4})-(\d\d)-(\d\d)T([0-9:]+)Z")
    lines = [head[0]] + [stamp.sub(r"\1/\2/\3 \4", line) for line in head[1:]]
    respelled.write_text("".join(lines), encoding="gb18030")
    assert "/" in lines[1]
    slashed = fc.read_pings(respelled, encoding="gb18030", **options)
    assert slashed.t.tolist() == iso.t.tolist()


# -- 5. messages -----------------------------------------------------------------------------


def test_a_backwards_column_mapping_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [["person_id", "t", "longitude", "lat"], ["a", "2022-05-03 08:00", "116.4", "39.9"]],
    )
    assert main(["validate", "--pings", str(path), "--column", "lon=longitude"]) == 2
    err = capsys.readouterr().err
    assert "did you mean longitude=lon" in err
    assert "--column longitude=lon" in err
    assert "reads the input column 'longitude' as lon" in err
    assert main(["validate", "--pings", str(path), "--column", "longitude=lon"]) == 0


def test_a_mapped_column_that_is_absent_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path / "p.csv",
        [["person_id", "t", "lon", "lat", "acc"], ["a", "2022-05-03 08:00", "116.4", "39.9", "5"]],
    )
    assert main(["validate", "--pings", str(path), "--column", "foo=lon"]) == 2
    err = capsys.readouterr().err
    assert "foo" in err and "found person_id, t, lon, lat, acc" in err
    # a mapping that leaves a required field missing says what was mapped and the direction
    other = write_csv(
        tmp_path / "q.csv",
        [["person_id", "t", "lng", "latitude"], ["a", "2022-05-03 08:00", "116.4", "39.9"]],
    )
    with pytest.raises(PingDataError) as caught:
        fc.read_pings(other, columns={"latitude": "lat"})
    message = str(caught.value)
    assert "missing required column(s) lon; found person_id, t, lng, latitude" in message
    assert "mapped latitude=lat" in message and "NAME=FIELD" in message


def test_numbers_in_messages_are_plain(tmp_path: Path) -> None:
    table = build_pings(
        columns(2, t=np.array([T0 * 1000.0, T0]), source=np.array(["gps", 1.0], dtype=object)),
        on_error="reject",
    )
    reasons = " ".join(table.rejected.reason.tolist())
    assert "epoch value 1651537204000 is outside" in reasons
    assert "source 1 is not one of" in reasons
    assert "np." not in reasons and ".0'" not in reasons and "1651537204000.0" not in reasons
    path = write_csv(
        tmp_path / "ms.csv",
        [["person_id", "t", "lon", "lat"], ["a", str(T0 * 1000), "116.4", "39.9"]],
    )
    with pytest.raises(PingDataError) as caught:
        fc.read_pings(path)
    assert "epoch value 1651537204000 is outside" in str(caught.value)


def test_no_fence_read_is_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "none.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    assert main(["validate", "--fences", str(empty)]) == 0
    assert "warning: " in capsys.readouterr().err
    for sub in (["explain"], ["scan", "--out", str(tmp_path / "out")]):
        code = main([*sub, "--fences", str(empty), "--pings", str(PINGS)])
        err = capsys.readouterr().err
        assert code != 0
        assert "no fence was read" in err and "give one" not in err


def test_messages_hold_no_coordinate(tmp_path: Path) -> None:
    """The privacy rule holds for the new refusals: reasons name row and field only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["person_id", "t", "lon", "lat", "accuracy_m"])
    writer.writerow(["a", "2022-05-03 08:00", "2.3522219", "48.856614", "5"])
    writer.writerow(["a", "2022-05-03 08:00", "116.3974301", "0", "5"])
    path = tmp_path / "p.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    table = fc.read_pings(path, datum="gcj02", on_error="reject")
    assert len(table.rejected) == 2
    for reason in table.rejected.reason.tolist():
        assert not any(v in reason for v in ("2.352", "48.85", "116.39"))
