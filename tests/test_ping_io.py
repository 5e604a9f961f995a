"""Reading pings: CSV, Parquet and DataFrame agree; row numbers, chunks, bad rows, encodings."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck import iter_pings, read_pings
from fencecheck.datums import bd09_to_wgs84, gcj02_to_wgs84
from fencecheck.errors import FenceCheckError, OptionError, PingDataError
from fencecheck.io import pings as ping_io
from fencecheck.options import Source
from fencecheck.pings import DEFAULT_ACCURACY_M, PingTable


@pytest.fixture(autouse=True, params=["arrow", "python"])
def csv_engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with each CSV engine in the place of engine="auto"."""
    choose = ping_io._csv_engine
    forced: str = request.param
    monkeypatch.setattr(
        ping_io, "_csv_engine", lambda engine: choose(forced if engine == "auto" else engine)
    )
    return forced


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "pings.csv"
HEADER = ["person_id", "t", "lon", "lat", "accuracy_m", "source"]
UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
HOUR = 3_600_000
COLUMNS = ("row", "t", "lon", "lat", "accuracy_m", "source", "accuracy_filled")


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER if header is None else header)
        writer.writerows(rows)
    return path


def sample_rows() -> list[list[str]]:
    with open(SAMPLE, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def variant_rows() -> list[list[str]]:
    """The sample with some accuracies and sources left out (to exercise the defaults)."""
    rows = sample_rows()
    for i, row in enumerate(rows):
        if i % 10 == 3:
            row[4] = ""
        if i % 7 == 2:
            row[5] = ""
    return rows


def ms_of(text: str, tz: str = "Asia/Shanghai") -> int:
    """The reference reading of one ISO time, by the standard library."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return (value - EPOCH) // dt.timedelta(milliseconds=1)


def contents(table: PingTable) -> dict[str, Any]:
    out = {name: getattr(table, name).tolist() for name in COLUMNS}
    out["person_id"] = table.person_ids().tolist()
    return out


def assert_same(got: PingTable, expected: PingTable) -> None:
    for name in COLUMNS:
        a, b = getattr(got, name), getattr(expected, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert got.person_ids().tolist() == expected.person_ids().tolist()
    assert got.rows_read == expected.rows_read
    assert got.rejected.records() == expected.rejected.records()


@pytest.fixture
def variant_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "variant.csv", variant_rows())


@pytest.fixture
def reference(variant_csv: Path) -> PingTable:
    return read_pings(variant_csv)


# -- the CSV reading itself, against the standard library --------------------------------------


def test_csv_values_match_a_plain_reading(variant_csv: Path) -> None:
    rows = variant_rows()
    table = read_pings(variant_csv)
    assert len(table) == table.rows_read == len(rows) == 400
    assert table.row.tolist() == list(range(400))
    assert table.person_ids().tolist() == [r[0] for r in rows]
    assert table.person_ids()[0] == "008"
    assert table.t.tolist() == [ms_of(r[1]) for r in rows]
    assert table.lon.tolist() == [float(r[2]) for r in rows]
    assert table.lat.tolist() == [float(r[3]) for r in rows]
    sources = [r[5] or "gps" for r in rows]
    assert table.source_names().tolist() == sources
    expected_acc = [
        float(r[4]) if r[4] else DEFAULT_ACCURACY_M[Source(s)]
        for r, s in zip(rows, sources, strict=True)
    ]
    assert table.accuracy_m.tolist() == np.array(expected_acc, dtype=np.float32).tolist()
    assert table.accuracy_filled.tolist() == [r[4] == "" for r in rows]
    assert table.accuracy_filled.sum() == 40


# -- the three readers agree -------------------------------------------------------------------


def _frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"person_id": str})


def _utc_ms() -> np.ndarray:
    return np.array([ms_of(r[1]) for r in variant_rows()], dtype=np.int64)


def _wall_ms(ms: np.ndarray, tz: str) -> np.ndarray:
    """UTC instants as naive wall-clock ms in tz (standard library)."""
    zone = ZoneInfo(tz)
    return np.array(
        [
            (
                (EPOCH + dt.timedelta(milliseconds=int(v))).astimezone(zone).replace(tzinfo=None)
                - dt.datetime(1970, 1, 1)
            )
            // dt.timedelta(milliseconds=1)
            for v in ms
        ],
        dtype=np.int64,
    )


PARQUET_TIMES = {
    "strings": (lambda ms, texts: pa.array(texts, pa.string()), {}),
    "large strings": (lambda ms, texts: pa.array(texts, pa.large_string()), {}),
    "timestamp[ms, UTC]": (lambda ms, texts: pa.array(ms, pa.timestamp("ms", tz="UTC")), {}),
    "timestamp[us, Asia/Shanghai]": (
        lambda ms, texts: pa.array(ms * 1000, pa.timestamp("us", tz="Asia/Shanghai")),
        {},
    ),
    "naive timestamp[ms], Beijing wall clock": (
        lambda ms, texts: pa.array(_wall_ms(ms, "Asia/Shanghai"), pa.timestamp("ms")),
        {},
    ),
    "naive timestamp[ns], UTC wall clock, tz=UTC": (
        lambda ms, texts: pa.array(ms * 1_000_000, pa.timestamp("ns")),
        {"tz": "UTC"},
    ),
    "naive timestamp[s], New York wall clock": (
        lambda ms, texts: pa.array(_wall_ms(ms, "America/New_York") // 1000, pa.timestamp("s")),
        {"tz": "America/New_York"},
    ),
    "int64 epoch seconds": (lambda ms, texts: pa.array(ms // 1000, pa.int64()), {}),
    "int64 epoch ms": (lambda ms, texts: pa.array(ms, pa.int64()), {"epoch_unit": "ms"}),
}


@pytest.mark.parametrize("variant", list(PARQUET_TIMES))
def test_parquet_reads_like_csv(
    variant: str, variant_csv: Path, reference: PingTable, tmp_path: Path
) -> None:
    make, options = PARQUET_TIMES[variant]
    frame = _frame(variant_csv)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    ms = _utc_ms()
    column = make(ms, [r[1] for r in variant_rows()])
    table = table.set_column(table.schema.get_field_index("t"), "t", column)
    path = tmp_path / "pings.parquet"
    pq.write_table(table, path)
    person_type = pq.read_schema(path).field("person_id").type
    assert pa.types.is_string(person_type) or pa.types.is_large_string(person_type)
    got = read_pings(path, **options)
    assert_same(got, reference)
    assert got.person_ids()[0] == "008"


DATAFRAME_TIMES = {
    "strings": (lambda ms, frame: frame.t, {}),
    "tz-aware UTC datetime64": (lambda ms, frame: pd.to_datetime(ms, unit="ms", utc=True), {}),
    "tz-aware Beijing datetime64[ns]": (
        lambda ms, frame: (
            pd.to_datetime(ms, unit="ms", utc=True).tz_convert("Asia/Shanghai").as_unit("ns")
        ),
        {},
    ),
    "naive datetime64, Beijing wall clock": (
        lambda ms, frame: pd.to_datetime(_wall_ms(ms, "Asia/Shanghai"), unit="ms"),
        {},
    ),
    "naive datetime64, UTC wall clock, tz=UTC": (
        lambda ms, frame: pd.to_datetime(ms, unit="ms"),
        {"tz": "UTC"},
    ),
    "python datetimes": (
        lambda ms, frame: pd.Series(
            [EPOCH + dt.timedelta(milliseconds=int(v)) for v in ms], dtype=object
        ),
        {},
    ),
    "int64 epoch seconds": (lambda ms, frame: ms // 1000, {}),
    "int64 epoch ms": (lambda ms, frame: ms, {"epoch_unit": "ms"}),
}


@pytest.mark.parametrize("variant", list(DATAFRAME_TIMES))
def test_dataframe_reads_like_csv(variant: str, variant_csv: Path, reference: PingTable) -> None:
    make, options = DATAFRAME_TIMES[variant]
    frame = _frame(variant_csv)
    frame["t"] = make(_utc_ms(), frame)
    if variant == "python datetimes":
        assert frame.t.dtype == object
    before = frame.copy()
    got = read_pings(frame, **options)
    assert_same(got, reference)
    pd.testing.assert_frame_equal(frame, before)  # the input is not changed


@pytest.mark.parametrize(
    "index",
    [
        np.arange(400)[::-1] * 10 + 7,
        [f"label-{i}" for i in range(400)],
        pd.date_range("2022-01-01", periods=400, freq="h"),
    ],
    ids=["reversed ints", "strings", "dates"],
)
def test_dataframe_rows_are_positions_not_labels(
    index: Any, variant_csv: Path, reference: PingTable
) -> None:
    frame = _frame(variant_csv)
    frame.index = index
    assert_same(read_pings(frame), reference)
    for k in (1, 33, 400):
        assert_same(PingTable.concat(list(iter_pings(frame, chunk_rows=k))), reference)
    # a slice starts again at row 0
    part = read_pings(frame.iloc[100:150])
    assert part.row.tolist() == list(range(50))
    assert part.t.tolist() == reference.t[100:150].tolist()


def test_readers_agree_on_bad_rows(tmp_path: Path) -> None:
    rows = variant_rows()[:60]
    rows[3][2] = "east"  # lon not a number
    rows[7][3] = "116.35"  # lat and lon swapped
    rows[7][2] = "40.07"
    rows[11][1] = "2022-05-02 25:00"  # no such hour
    rows[12][0] = ""  # no person
    rows[20][5] = "bike"
    rows[33][4] = "-3"
    rows[59][3] = ""
    path = write_csv(tmp_path / "bad.csv", rows)
    from_csv = read_pings(path, on_error="reject")
    assert from_csv.rejected.row.tolist() == [3, 7, 11, 12, 20, 33, 59]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    from_frame = read_pings(frame, on_error="reject")
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "bad.parquet")
    from_parquet = read_pings(tmp_path / "bad.parquet", on_error="reject")
    assert_same(from_frame, from_csv)
    assert_same(from_parquet, from_csv)
    # missing values as NaN / None / null read like empty CSV cells
    frame_nan = pd.read_csv(path, dtype={"person_id": str})
    assert frame_nan.lat.isna().sum() == 1
    got = read_pings(frame_nan, on_error="reject")
    assert got.rejected.records()[-1] == (59, rows[59][0], "lat", "missing lat", "")
    assert got.rejected.records()[3] == (12, "", "person_id", "missing person_id", "")


def test_dataframe_missing_times_are_rejected_whatever_the_dtype() -> None:
    base = {"person_id": ["a", "b", "c"], "lon": [116.4] * 3, "lat": [39.9] * 3}
    variants = {
        "text with NaN": pd.Series(["2022-05-01 08:00", np.nan, "2022-05-01T00:00Z"]),
        "objects with None": pd.Series(
            ["2022-05-01 08:00", None, "2022-05-01T00:00Z"], dtype=object
        ),
        "datetime64 with NaT": pd.Series(
            pd.to_datetime(["2022-05-01 08:00", None, "2022-05-01 08:00"])
        ),
        "aware with NaT": pd.Series(
            pd.to_datetime(["2022-05-01T00:00Z", None, "2022-05-01T00:00Z"])
        ),
        "float epochs with NaN": pd.Series([1651363200.0, np.nan, 1651363200.0]),
    }
    instant = ms_of("2022-05-01T00:00:00+00:00")
    for name, times in variants.items():
        table = read_pings(pd.DataFrame({**base, "t": times}), on_error="reject")
        assert table.t.tolist() == [instant, instant], name
        assert table.rejected.records() == [(1, "b", "t", "missing time", "")], name


# -- row numbers: row groups and chunks --------------------------------------------------------


def test_parquet_row_numbers_run_across_row_groups(tmp_path: Path) -> None:
    rows = variant_rows()
    for i in (0, 36, 37, 150, 399):
        rows[i][3] = "91.5"
    frame = pd.read_csv(write_csv(tmp_path / "p.csv", rows), dtype={"person_id": str})
    path = tmp_path / "groups.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=37)
    assert pq.ParquetFile(path).num_row_groups == 11
    expected = [i for i in range(400) if i not in (0, 36, 37, 150, 399)]
    for k in (1, 10, 37, 38, 100, 1_000_000):
        table = read_pings(path, on_error="reject", chunk_rows=k)
        assert table.row.tolist() == expected
        assert table.rejected.row.tolist() == [0, 36, 37, 150, 399]
        assert table.rows_read == 400
    only = rows[:]
    only[0], only[36], only[37], only[399] = (variant_rows()[i] for i in (0, 36, 37, 399))
    frame = pd.read_csv(write_csv(tmp_path / "q.csv", only), dtype={"person_id": str})
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=37)
    with pytest.raises(PingDataError, match=r"groups\.parquet: row 150: lat: lat is outside"):
        read_pings(path, chunk_rows=64)


def _bad_mixture(tmp_path: Path) -> Path:
    """The sample with bad rows, rows of the wrong width and blank lines."""
    rows = variant_rows()
    rows[0][1] = "soon"
    rows[5][3] = "nan"
    rows[64][0] = ""
    rows[65] = rows[65] + ["extra"]
    rows[199] = rows[199][:3]
    rows[200][2] = "200"
    rows[399][4] = "inf"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    for i, row in enumerate(rows):
        writer.writerow(row)
        if i in (3, 4, 100, 250):
            buffer.write("\n")
    buffer.write("\n\n")
    path = tmp_path / "mixture.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


BAD_IN_MIXTURE = [0, 5, 64, 65, 199, 200, 399]


@pytest.mark.parametrize("kind", ["csv", "parquet", "dataframe"])
def test_chunks_give_the_table_and_rejected_of_one_read(kind: str, tmp_path: Path) -> None:
    source: Any = _bad_mixture(tmp_path)
    bad = BAD_IN_MIXTURE
    if kind != "csv":  # no ragged rows outside CSV
        rows = variant_rows()
        for i, (col, value) in {
            0: (1, "soon"),
            5: (3, "nan"),
            64: (0, ""),
            200: (2, "200"),
        }.items():
            rows[i][col] = value
        frame = pd.read_csv(write_csv(tmp_path / "m.csv", rows), dtype=str, keep_default_na=False)
        bad = [0, 5, 64, 200]
        source = frame
        if kind == "parquet":
            source = tmp_path / "m.parquet"
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False), source, row_group_size=50
            )
    whole = read_pings(source, on_error="reject")
    assert whole.rows_read == 400 == len(whole) + len(whole.rejected)
    assert whole.rejected.row.tolist() == bad
    assert whole.row.tolist() == [i for i in range(400) if i not in bad]
    for k in (1, 2, 7, 64, 199, 399, 400, 401):
        chunks = list(iter_pings(source, on_error="reject", chunk_rows=k))
        assert len(chunks) == -(-400 // k)
        assert all(c.rows_read <= k for c in chunks)
        assert all(c.rows_read == k for c in chunks[:-1])
        registry = chunks[0].persons
        assert all(c.persons is registry for c in chunks)
        joined = PingTable.concat(chunks)
        assert_same(joined, whole)
        # person codes agree: the same id has the same code in every chunk
        np.testing.assert_array_equal(joined.person, whole.person)
        assert registry.ids().tolist() == whole.persons.ids().tolist()


def test_blank_lines_are_not_rows_whatever_the_chunk_size(tmp_path: Path) -> None:
    rows = variant_rows()[:6]
    text = "\n\n" + ",".join(HEADER) + "\n\n" + "\n\n\n".join(",".join(r) for r in rows) + "\n\n"
    path = tmp_path / "blank.csv"
    path.write_text(text, encoding="utf-8")
    for k in (1, 2, 3, 6, 100):
        table = read_pings(path, chunk_rows=k)
        assert table.row.tolist() == list(range(6)), k
        assert table.rows_read == 6
        assert table.lon.tolist() == [float(r[2]) for r in rows]


# -- bad rows ----------------------------------------------------------------------------------

GOOD = ["P01", "2022-05-01T08:00:00+08:00", "116.40", "39.90", "12", "gps"]


def _with(position: int, value: str) -> list[str]:
    row = GOOD[:]
    row[position] = value
    return row


BAD_ROWS: dict[str, tuple[list[str], str, str, str]] = {
    # name: (row, field, reason fragment, raw value)
    "unparseable time": (
        _with(1, "01/05/2022 8am"),
        "t",
        "is not an ISO 8601 time",
        "01/05/2022 8am",
    ),
    "empty time": (_with(1, ""), "t", "missing time", ""),
    "time out of range": (_with(1, "1651363200000"), "t", "milliseconds?", "1651363200000"),
    "NaN lon": (_with(2, "NaN"), "lon", "missing lon", "NaN"),
    "inf lon": (_with(2, "inf"), "lon", "lon is not finite", "inf"),
    "empty lon": (_with(2, ""), "lon", "missing lon", ""),
    "text lon": (_with(2, "116.4E"), "lon", "lon is not a number", "116.4E"),
    "NaN lat": (_with(3, "nan"), "lat", "missing lat", "nan"),
    "inf lat": (_with(3, "-Infinity"), "lat", "lat is not finite", "-Infinity"),
    "empty lat": (_with(3, " "), "lat", "missing lat", " "),
    "text lat": (_with(3, "39°54'"), "lat", "lat is not a number", "39°54'"),
    "lat out of range": (_with(3, "-95"), "lat", "lat is outside [-90, 90]", "-95"),
    "lon out of range": (_with(2, "216.4"), "lon", "lon is outside [-180, 180]", "216.4"),
    "swapped": (
        ["P01", GOOD[1], "39.9", "116.4", "12", "gps"],
        "lat",
        "lat is outside [-90, 90]; lon and lat look swapped",
        "116.4",
    ),
    "negative accuracy": (
        _with(4, "-5"),
        "accuracy_m",
        "must be a finite number of metres >= 0",
        "-5",
    ),
    "infinite accuracy": (_with(4, "inf"), "accuracy_m", "accuracy_m must be a finite", "inf"),
    "text accuracy": (_with(4, "10m"), "accuracy_m", "accuracy_m is not a number", "10m"),
    "unknown source": (_with(5, "GNSS"), "source", "'gnss' is not one of gps, wifi, cell", "GNSS"),
    "empty person_id": (_with(0, ""), "person_id", "missing person_id", ""),
    "blank person_id": (_with(0, "   "), "person_id", "missing person_id", "   "),
    "too many fields": ([*GOOD, "x"], "row", "has 7 fields, the header has 6 (line 4)", ""),
    "too few fields": (GOOD[:4], "row", "has 4 fields, the header has 6 (line 4)", ""),
    "too few fields, padded id": (
        [" 007 ", *GOOD[1:5]],
        "row",
        "has 5 fields, the header has 6 (line 4)",
        "",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_row_raises_naming_file_row_and_field(case: str, tmp_path: Path) -> None:
    row, field, reason, _ = BAD_ROWS[case]
    path = write_csv(tmp_path / "bad.csv", [GOOD, _with(0, "P02"), row, GOOD])
    with pytest.raises(PingDataError) as info:
        read_pings(path)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, FenceCheckError)
    message = str(err)
    assert message.startswith(str(path) + ": row 2")
    assert f": {field}: " in message
    assert reason.replace(" (line 4)", "") in message
    assert (err.source, err.row, err.field) == (str(path), 2, field)
    if field == "row":
        assert message.startswith(f"{path}: row 2 (line 4): row: ")


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_bad_row_is_rejected_with_row_id_field_reason_value(case: str, tmp_path: Path) -> None:
    row, field, reason, raw = BAD_ROWS[case]
    path = write_csv(tmp_path / "bad.csv", [GOOD, _with(0, "P02"), row, GOOD])
    table = read_pings(path, on_error="reject")
    assert table.row.tolist() == [0, 1, 3]
    assert table.person_ids().tolist() == ["P01", "P02", "P01"]
    assert table.rows_read == 4 == len(table) + len(table.rejected)
    [(got_row, pid, got_field, got_reason, got_raw)] = table.rejected.records()
    assert (got_row, got_field) == (2, field)
    assert pid == row[0].strip()
    assert reason in got_reason
    if field == "row":
        assert got_raw == ",".join(row)
    else:
        assert got_raw == raw


def test_first_bad_row_raises_even_before_a_ragged_one(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "two.csv", [GOOD, _with(3, "95"), GOOD[:3], GOOD])
    with pytest.raises(PingDataError, match=r"two\.csv: row 1: lat: lat is outside"):
        read_pings(path)
    path = write_csv(tmp_path / "three.csv", [GOOD, GOOD[:3], _with(3, "95")])
    with pytest.raises(PingDataError, match=r"three\.csv: row 1 \(line 3\): row: has 3 fields"):
        read_pings(path)


@pytest.mark.parametrize("on_error", ["raise", "reject"])
@pytest.mark.parametrize("missing", ["person_id", "t", "lon", "lat"])
def test_missing_required_column_raises_and_names_it(
    missing: str, on_error: str, tmp_path: Path
) -> None:
    keep = [i for i, name in enumerate(HEADER) if name != missing]
    header = [HEADER[i] for i in keep]
    path = write_csv(tmp_path / "cols.csv", [[GOOD[i] for i in keep]], header=header)
    pattern = rf"cols\.csv: missing required column\(s\) {missing};"
    with pytest.raises(PingDataError, match=pattern):
        read_pings(path, on_error=on_error)
    frame = pd.DataFrame([[GOOD[i] for i in keep]], columns=header)
    with pytest.raises(PingDataError, match=rf"DataFrame: missing required column\(s\) {missing};"):
        read_pings(frame, on_error=on_error)
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "cols.parquet")
    with pytest.raises(
        PingDataError, match=rf"cols\.parquet: missing required column\(s\) {missing}"
    ):
        read_pings(tmp_path / "cols.parquet", on_error=on_error)


def test_doubled_column_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "twice.csv", [[*GOOD, "116.5"]], header=[*HEADER, "LON"])
    with pytest.raises(PingDataError, match="column 'lon' appears twice"):
        read_pings(path)


def test_columns_can_be_renamed(tmp_path: Path) -> None:
    header = ["uid", "time", "lng", "Lat", "acc", "source"]
    path = write_csv(tmp_path / "renamed.csv", [GOOD], header=header)
    with pytest.raises(PingDataError, match="missing required column"):
        read_pings(path)
    table = read_pings(
        path, columns={"uid": "person_id", "time": "t", "LNG": "lon", "acc": " Accuracy_M "}
    )
    assert table.person_ids().tolist() == ["P01"]
    assert (table.lon[0], table.lat[0], table.accuracy_m[0]) == (116.40, 39.90, 12.0)
    assert table.accuracy_filled.tolist() == [False]
    frame = pd.DataFrame([GOOD[:4]], columns=["person_id", "t", "lng", "lat"])
    assert read_pings(frame, columns={"lng": "lon"}).lon.tolist() == [116.40]
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "renamed.parquet")
    assert read_pings(tmp_path / "renamed.parquet", columns={"lng": "lon"}).lon.tolist() == [116.40]


# -- the invariant: rows read = loaded + rejected, exactly the bad rows rejected ---------------

BAD_KINDS: dict[str, tuple[int | None, str | None, str, str]] = {
    # kind: (column to replace or None for width, new value, field, reason fragment)
    "bad time": (1, "yesterday", "t", "not an ISO 8601 time"),
    "empty time": (1, "", "t", "missing time"),
    "nan lon": (2, "nan", "lon", "missing lon"),
    "inf lat": (3, "inf", "lat", "not finite"),
    "empty lon": (2, "", "lon", "missing lon"),
    "text lat": (3, "north", "lat", "is not a number"),
    "lat range": (3, "95.5", "lat", "outside [-90, 90]"),
    "lon range": (2, "-190.25", "lon", "outside [-180, 180]"),
    "negative accuracy": (4, "-2.5", "accuracy_m", ">= 0"),
    "infinite accuracy": (4, "inf", "accuracy_m", "finite"),
    "text accuracy": (4, "good", "accuracy_m", "is not a number"),
    "unknown source": (5, "bluetooth", "source", "gps, wifi, cell"),
    "empty person": (0, "", "person_id", "missing person_id"),
    "too many fields": (None, "extra", "row", "has 7 fields"),
    "too few fields": (None, None, "row", "has 3 fields"),
}

person_ids = st.one_of(
    st.from_regex(r"[0-9]{1,4}", fullmatch=True),
    st.sampled_from(["008", "P01", "张三", "a,b", 'say "hi"', " 007 "]),
    st.text(alphabet="abcXYZ_-.012", min_size=1, max_size=6),
)
instants = st.integers(946_684_800_000, 2_208_988_800_000)  # 2000 .. 2040
TIME_STYLES = ["+08:00", "Z", "-05:00", "naive", "naive T", "epoch"]
SOURCES = ["", "gps", "wifi", "cell", "GPS", " Wifi "]


@st.composite
def good_rows(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    pid = draw(person_ids)
    ms = draw(instants)
    style = draw(st.sampled_from(TIME_STYLES))
    moment = EPOCH + dt.timedelta(milliseconds=ms)
    if style == "epoch":
        ms -= ms % 1000
        text = str(ms // 1000)
    elif style == "+08:00":
        text = moment.astimezone(ZoneInfo("Asia/Shanghai")).isoformat(timespec="milliseconds")
    elif style == "Z":
        text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    elif style == "-05:00":
        fixed = dt.timezone(dt.timedelta(hours=-5))
        text = moment.astimezone(fixed).isoformat(timespec="milliseconds")
    else:
        wall = moment.astimezone(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
        text = wall.isoformat(sep=" " if style == "naive" else "T", timespec="milliseconds")
    lon = draw(st.floats(-180, 180).filter(bool))  # exactly 0 is refused as a placeholder
    lat = draw(st.floats(-90, 90).filter(bool))
    accuracy = draw(st.one_of(st.just(""), st.floats(0, 5e4).map(repr)))
    source = draw(st.sampled_from(SOURCES))
    source_name = source.strip().lower() or "gps"
    expected = {
        "person_id": pid.strip(),
        "t": ms,
        "lon": lon,
        "lat": lat,
        "accuracy_m": float(
            np.float32(float(accuracy) if accuracy else DEFAULT_ACCURACY_M[Source(source_name)])
        ),
        "accuracy_filled": accuracy == "",
        "source": source_name,
    }
    return [pid, text, repr(lon), repr(lat), accuracy, source], expected


@st.composite
def bad_rows(draw: st.DrawFn) -> tuple[list[str], dict[str, Any]]:
    row, _ = draw(good_rows())
    kind = draw(st.sampled_from(list(BAD_KINDS)))
    column, value, field, reason = BAD_KINDS[kind]
    if kind == "too many fields":
        row = [*row, "extra"]
    elif kind == "too few fields":
        row = row[:3]
    else:
        assert column is not None and value is not None
        row[column] = value
        if kind == "lat range":
            row[2] = "116.4"  # a longitude that does not look swapped
    return row, {"field": field, "reason": reason, "id": row[0].strip()}


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.one_of(
            good_rows().map(lambda r: ("good", *r)),
            bad_rows().map(lambda r: ("bad", *r)),
            st.just(("blank", [], {})),
        ),
        max_size=25,
    ),
    chunk_rows=st.integers(1, 30),
)
def test_every_row_is_loaded_or_rejected(
    rows: list[tuple[str, list[str], dict[str, Any]]],
    chunk_rows: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    good: dict[int, dict[str, Any]] = {}
    bad: dict[int, dict[str, Any]] = {}
    number = 0
    for kind, fields, expected in rows:
        if kind == "blank":
            buffer.write("\n")
            continue
        writer.writerow(fields)
        (good if kind == "good" else bad)[number] = expected
        number += 1
    path = tmp_path_factory.mktemp("mixed") / "mixed.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")

    table = read_pings(path, on_error="reject", chunk_rows=chunk_rows)
    assert table.rows_read == number == len(table) + len(table.rejected)
    assert table.row.tolist() == sorted(good)
    assert table.rejected.row.tolist() == sorted(bad)
    for row, pid, field, reason, _ in table.rejected.records():
        assert field == bad[row]["field"]
        assert bad[row]["reason"] in reason
        assert pid == bad[row]["id"]
    got = contents(table)
    expected_rows = [good[r] for r in sorted(good)]
    for name in ("person_id", "t", "lon", "lat", "accuracy_m", "accuracy_filled"):
        assert got[name] == [e[name] for e in expected_rows], name
    assert table.source_names().tolist() == [e["source"] for e in expected_rows]

    if bad:
        first = min(bad)
        with pytest.raises(PingDataError) as info:
            read_pings(path, chunk_rows=chunk_rows)
        assert info.value.row == first
        assert info.value.field == bad[first]["field"]
    else:
        assert_same(read_pings(path, chunk_rows=chunk_rows), table)


# -- time zones, epochs, datums ----------------------------------------------------------------


def test_naive_times_are_read_in_tz(tmp_path: Path) -> None:
    times = ["2022-05-01 08:00:00", "2022-05-01T23:59:59.250", "2022-05-02"]
    path = write_csv(tmp_path / "naive.csv", [[*GOOD[:1], t, *GOOD[2:]] for t in times])
    beijing = read_pings(path)
    assert beijing.tz == "Asia/Shanghai"
    assert beijing.t.tolist() == [ms_of(t) for t in times]
    utc = read_pings(path, tz="UTC")
    assert (utc.t - beijing.t).tolist() == [8 * HOUR] * 3
    assert utc.tz == "UTC"
    new_york = read_pings(path, tz="America/New_York")  # EDT, UTC-4, in May
    assert (new_york.t - beijing.t).tolist() == [12 * HOUR] * 3
    assert new_york.t.tolist() == [ms_of(t, "America/New_York") for t in times]


def test_offsets_are_honoured_whatever_the_tz(tmp_path: Path) -> None:
    times = ["2022-05-01T08:00:00+08:00", "2022-05-01T00:00:00Z", "2022-04-30T19:00-05:00"]
    path = write_csv(tmp_path / "aware.csv", [[*GOOD[:1], t, *GOOD[2:]] for t in times])
    expected = [ms_of("2022-05-01T00:00:00+00:00")] * 3
    for tz in (None, "UTC", "Asia/Shanghai", "America/New_York", "-03:30"):
        assert read_pings(path, tz=tz).t.tolist() == expected


def test_epoch_seconds_and_milliseconds(tmp_path: Path) -> None:
    seconds = write_csv(tmp_path / "s.csv", [[*GOOD[:1], "1651363200", *GOOD[2:]]])
    millis = write_csv(tmp_path / "ms.csv", [[*GOOD[:1], "1651363200123", *GOOD[2:]]])
    instant = ms_of("2022-05-01T00:00:00+00:00")
    assert read_pings(seconds).t.tolist() == [instant]
    assert read_pings(seconds, tz="UTC").t.tolist() == [instant]  # epochs have no zone
    assert read_pings(millis, epoch_unit="ms").t.tolist() == [instant + 123]
    with pytest.raises(PingDataError, match=r"row 0: t: .*milliseconds\? use epoch unit 'ms'"):
        read_pings(millis)


def test_ping_datums_are_converted(variant_csv: Path) -> None:
    rows = variant_rows()
    lon = np.array([float(r[2]) for r in rows])
    lat = np.array([float(r[3]) for r in rows])
    wgs = read_pings(variant_csv, datum="wgs84")
    assert wgs.lon.tolist() == lon.tolist() and wgs.lat.tolist() == lat.tolist()
    for datum, convert in (("gcj02", gcj02_to_wgs84), ("bd09", bd09_to_wgs84)):
        table = read_pings(variant_csv, datum=datum)
        expected_lon, expected_lat = convert(lon, lat)
        np.testing.assert_array_equal(table.lon, expected_lon)
        np.testing.assert_array_equal(table.lat, expected_lat)
        assert np.all(np.hypot(table.lon - lon, table.lat - lat) > 1e-3)  # really moved
        assert table.t.tolist() == wgs.t.tolist()


# -- encodings and compression -----------------------------------------------------------------

CHINESE = [["张三", *GOOD[1:]], ["李四", *GOOD[1:]], ["008", *GOOD[1:]], ["王五", *GOOD[1:]]]


def _write_encoded(path: Path, rows: list[list[str]], encoding: str, lead: int = 0) -> Path:
    lines = [",".join(HEADER)] + [",".join(GOOD)] * lead + [",".join(r) for r in rows]
    data = ("\n".join(lines) + "\n").encode(encoding)
    if str(path).endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("name", ["gb.csv", "gb.csv.gz"])
def test_gb18030_file(name: str, tmp_path: Path) -> None:
    path = _write_encoded(tmp_path / name, CHINESE, "gb18030")
    table = read_pings(path, encoding="gb18030")
    assert table.person_ids().tolist() == ["张三", "李四", "008", "王五"]
    with pytest.raises(PingDataError) as info:
        read_pings(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line 2: not valid utf-8 text")
    assert "encoding='gb18030'" in message and "--encoding" in message
    assert not isinstance(info.value, UnicodeDecodeError)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_undecodable_line_is_found_exactly_far_into_the_file(tmp_path: Path) -> None:
    # text is decoded in blocks ahead of the CSV reader: the line must still be the right one
    path = _write_encoded(tmp_path / "late.csv", CHINESE, "gb18030", lead=3000)
    with pytest.raises(PingDataError, match=r"late\.csv: line 3002: not valid utf-8"):
        read_pings(path, chunk_rows=500)
    assert len(read_pings(path, encoding="GB18030")) == 3004


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8", "utf-8-sig"])
def test_utf8_byte_order_mark(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + ",".join(HEADER) + "\n" + ",".join(CHINESE[0]) + "\n").encode())
    table = read_pings(path, encoding=encoding)
    assert table.person_ids().tolist() == ["张三"]
    assert table.rows_read == 1


def test_gzip_csv_reads_like_csv(variant_csv: Path, reference: PingTable, tmp_path: Path) -> None:
    path = tmp_path / "pings.csv.gz"
    path.write_bytes(gzip.compress(variant_csv.read_bytes()))
    assert_same(read_pings(path), reference)
    assert_same(PingTable.concat(list(iter_pings(path, chunk_rows=77))), reference)
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"person_id,t,lon,lat\n")
    with pytest.raises(PingDataError, match=r"broken\.csv\.gz: cannot be read: Not a gzipped file"):
        read_pings(broken)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(PingDataError, match=r"cut\.csv\.gz: cannot be read"):
        read_pings(cut)


def test_unknown_encoding_is_an_option_error(variant_csv: Path) -> None:
    with pytest.raises(OptionError, match="encoding: 'klingon' is not a known text encoding"):
        read_pings(variant_csv, encoding="klingon")


# -- defaults ----------------------------------------------------------------------------------


def test_missing_accuracy_and_source_take_the_defaults(tmp_path: Path) -> None:
    rows = [["a", GOOD[1], "116.4", "39.9", "", s] for s in ("gps", "wifi", "cell", "")]
    table = read_pings(write_csv(tmp_path / "acc.csv", rows), default_source="wifi")
    assert table.source_names().tolist() == ["gps", "wifi", "cell", "wifi"]
    assert table.accuracy_m.tolist() == [20.0, 60.0, 1000.0, 60.0]
    assert table.accuracy_filled.all()
    header = ["person_id", "t", "lon", "lat"]
    path = write_csv(tmp_path / "bare.csv", [r[:4] for r in rows], header=header)
    for default, accuracy in (("gps", 20.0), ("cell", 1000.0)):
        table = read_pings(path, default_source=default)
        assert table.source_names().tolist() == [default] * 4
        assert table.accuracy_m.tolist() == [accuracy] * 4
        assert table.accuracy_filled.tolist() == [True] * 4


# -- empty, missing and odd inputs -------------------------------------------------------------


def test_header_only_gives_an_empty_table(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "header.csv", [])
    (path.parent / "blank.csv").write_text(",".join(HEADER) + "\n\n\n", encoding="utf-8")
    for source in (path, path.parent / "blank.csv"):
        chunks = list(iter_pings(source, chunk_rows=3))
        assert len(chunks) == 1
        table = read_pings(source)
        assert (len(table), table.rows_read, len(table.rejected)) == (0, 0, 0)
        assert table.t.dtype == np.int64 and table.lon.dtype == np.float64
    frame = pd.DataFrame({name: pd.Series([], dtype=str) for name in HEADER})
    assert read_pings(frame).rows_read == 0
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "empty.parquet")
    assert len(read_pings(tmp_path / "empty.parquet")) == 0


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"\n\n"], ids=["empty", "bom", "blank"])
def test_empty_file_raises_naming_it(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(PingDataError, match=rf"^{path}: empty file: no header row$"):
        read_pings(path, on_error="reject")


@pytest.mark.parametrize("name", ["nowhere.csv", "nowhere.csv.gz", "nowhere.parquet"])
def test_nonexistent_file_raises_no_such_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    with pytest.raises(PingDataError, match=rf"^{path}: no such file$"):
        read_pings(path)
    with pytest.raises(PingDataError, match="no such file"):
        next(iter_pings(str(path)))


def test_directory_and_damaged_parquet_raise_data_errors(tmp_path: Path) -> None:
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(PingDataError, match="is a directory"):
        read_pings(folder)
    a_file = write_csv(tmp_path / "file.csv", [GOOD])
    with pytest.raises(PingDataError, match=r"file\.csv/x\.csv: cannot be opened: Not a directory"):
        read_pings(a_file / "x.csv")
    not_parquet = tmp_path / "text.parquet"
    not_parquet.write_text("person_id,t,lon,lat\n", encoding="utf-8")
    with pytest.raises(PingDataError, match=r"text\.parquet: not readable as Parquet"):
        read_pings(not_parquet)
    # a file whose footer is fine but whose pages are damaged
    n = 5000
    table = pa.table(
        {
            "person_id": [f"P{i % 50:03d}" for i in range(n)],
            "t": np.arange(n) + 1651363200,
            "lon": np.linspace(116.0, 116.5, n),
            "lat": np.linspace(39.8, 40.1, n),
        }
    )
    path = tmp_path / "damaged.parquet"
    pq.write_table(table, path, compression="snappy", row_group_size=1000)
    column = pq.ParquetFile(path).metadata.row_group(2).column(2)
    data = bytearray(path.read_bytes())
    start = column.data_page_offset
    data[start : start + column.total_compressed_size] = b"\xab" * column.total_compressed_size
    path.write_bytes(bytes(data))
    with pytest.raises(PingDataError, match=r"damaged\.parquet: not readable as Parquet"):
        read_pings(path)


def test_unreadable_csv_raises_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "huge_field.csv"
    path.write_text(",".join(HEADER) + "\n" + "P01," + "9" * 200_000 + ",116.4,39.9,,\n")
    with pytest.raises(PingDataError, match=r"huge_field\.csv: line 2: not readable as CSV"):
        read_pings(path)


def test_format_is_guessed_or_given(
    variant_csv: Path, reference: PingTable, tmp_path: Path
) -> None:
    odd = tmp_path / "pings.dat"
    odd.write_bytes(variant_csv.read_bytes())
    with pytest.raises(OptionError, match="cannot tell the format"):
        read_pings(odd)
    assert_same(read_pings(odd, file_format="CSV"), reference)
    with pytest.raises(OptionError, match="file_format: 'xlsx' is not one of"):
        read_pings(odd, file_format="xlsx")


@pytest.mark.parametrize("chunk_rows", [0, -1, True, 2.5])
def test_chunk_rows_must_be_a_positive_whole_number(chunk_rows: Any, variant_csv: Path) -> None:
    with pytest.raises(OptionError, match="chunk_rows"):
        read_pings(variant_csv, chunk_rows=chunk_rows)


def test_the_arrow_engine_reads_a_clean_file_without_the_standard_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_engine: str
) -> None:
    path = write_csv(tmp_path / "clean.csv", variant_rows())
    expected = read_pings(path, engine="python")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the standard-library reader was used")

    monkeypatch.setattr(ping_io, "_csv_chunks", refuse)
    assert_same(read_pings(path, engine="arrow", chunk_rows=64), expected)


def test_the_arrow_engine_hands_over_mid_file_at_the_right_row(tmp_path: Path) -> None:
    rows = variant_rows() * 30  # 12,000 rows
    rows[9_000] = [*rows[9_000], "extra"]  # one row with a field too many, far in
    path = write_csv(tmp_path / "late.csv", rows)
    python = read_pings(path, engine="python", on_error="reject", chunk_rows=1_000)
    arrow = read_pings(path, engine="arrow", on_error="reject", chunk_rows=1_000)
    assert_same(arrow, python)
    assert arrow.rejected.row.tolist() == [9_000]
    with pytest.raises(PingDataError, match=r"row 9000 \(line 9002\)"):
        read_pings(path, engine="arrow")


def test_engine_option_is_checked() -> None:
    with pytest.raises(OptionError, match="engine: 'fast' is not one of"):
        read_pings("x.csv", engine="fast")
