"""PingTable and build_pings: columns, defaults, checks, zones, datums, memory."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck.datums import bd09_to_wgs84, gcj02_to_wgs84
from fencecheck.errors import FenceCheckError, PingDataError
from fencecheck.options import Source
from fencecheck.pings import (
    DEFAULT_ACCURACY_M,
    MAX_ACCURACY_M,
    PersonRegistry,
    PingTable,
    build_pings,
)
from fencecheck.rejected import Rejected
from fencecheck.times import parse_times

UTC = dt.timezone.utc
MAY1_0800_BJ = int(dt.datetime(2022, 5, 1, tzinfo=UTC).timestamp()) * 1000  # 08:00 Beijing
HOUR = 3_600_000


def columns(n: int = 3, **changes: object) -> dict[str, object]:
    """Good text columns for n pings (Beijing, 1 May 2022, one minute apart), then changes."""
    cols: dict[str, object] = {
        "person_id": ["001", "002", "001", "003", "002"][:n],
        "t": [f"2022-05-01 08:0{i}:00" for i in range(n)],
        "lon": ["116.40", "116.41", "116.42", "116.43", "116.44"][:n],
        "lat": ["39.90", "39.91", "39.92", "39.93", "39.94"][:n],
        "accuracy_m": ["12", "", "30.5", "", "7"][:n],
        "source": ["gps", "wifi", "cell", "cell", ""][:n],
    }
    cols.update(changes)
    return cols


# -- the model ---------------------------------------------------------------------------------


def test_columns_values_and_dtypes() -> None:
    table = build_pings(columns(5))
    assert len(table) == table.rows_read == 5
    assert table.row.tolist() == [0, 1, 2, 3, 4]
    assert table.person_ids().tolist() == ["001", "002", "001", "003", "002"]
    assert table.person.tolist() == [0, 1, 0, 2, 1]
    assert table.t.tolist() == [MAY1_0800_BJ + i * 60_000 for i in range(5)]
    assert table.lon.tolist() == [116.40, 116.41, 116.42, 116.43, 116.44]
    assert table.lat.tolist() == [39.90, 39.91, 39.92, 39.93, 39.94]
    assert table.source_names().tolist() == ["gps", "wifi", "cell", "cell", "gps"]
    # given accuracies are kept; missing ones take the row's source default
    assert table.accuracy_m.tolist() == [12.0, 60.0, 30.5, 1000.0, 7.0]
    assert table.accuracy_filled.tolist() == [False, True, False, True, False]
    assert {name: getattr(table, name).dtype for name in ("row", "person", "t")} == {
        "row": np.int64,
        "person": np.int32,
        "t": np.int64,
    }
    assert table.accuracy_m.dtype == np.float32
    assert table.source.dtype == np.int8
    assert table.accuracy_filled.dtype == np.bool_
    assert len(table.rejected) == 0
    assert table.tz == "Asia/Shanghai"
    assert table.datum == "wgs84"


def test_default_accuracy_per_source_is_documented_value() -> None:
    assert DEFAULT_ACCURACY_M == {Source.GPS: 20.0, Source.WIFI: 60.0, Source.CELL: 1000.0}
    for source, expected in DEFAULT_ACCURACY_M.items():
        table = build_pings(columns(2, accuracy_m=["", "nan"], source=[source.value] * 2))
        assert table.accuracy_m.tolist() == [expected, expected]
        assert table.accuracy_filled.tolist() == [True, True]


def test_without_source_or_accuracy_columns_default_source_is_used() -> None:
    cols = columns(3)
    del cols["source"], cols["accuracy_m"]
    for default in ("gps", "wifi", "cell"):
        table = build_pings(cols, default_source=default)
        assert table.source_names().tolist() == [default] * 3
        assert table.accuracy_m.tolist() == [DEFAULT_ACCURACY_M[Source(default)]] * 3
        assert table.accuracy_filled.all()
    # an empty source cell also takes the default source
    table = build_pings(columns(3, source=["", " ", "GPS "]), default_source="cell")
    assert table.source_names().tolist() == ["cell", "cell", "gps"]


def test_person_ids_are_text_and_keep_leading_zeros() -> None:
    ids = np.array(["008", "0", "00", " 008 ", "张三"], dtype=object)
    table = build_pings(columns(5, person_id=ids))
    assert table.person_ids().tolist() == ["008", "0", "00", "008", "张三"]
    assert table.person.tolist() == [0, 1, 2, 0, 3]


def test_registry_codes_in_order_of_appearance_and_shared() -> None:
    reg = PersonRegistry()
    assert reg.encode(np.array(["b", "a", "b", "c"])).tolist() == [0, 1, 0, 2]
    assert reg.encode(np.array(["c", "d", "a"])).tolist() == [2, 3, 1]
    assert reg.encode(np.array([], dtype=str)).tolist() == []
    assert reg.ids().tolist() == ["b", "a", "c", "d"]
    assert len(reg) == 4
    assert reg.code("d") == 3
    with pytest.raises(KeyError):
        reg.code("zz")
    first = build_pings(columns(2, person_id=["x", "y"]), registry=reg)
    second = build_pings(columns(2, person_id=["y", "a"]), registry=reg)
    assert first.person.tolist() == [4, 5]
    assert second.person.tolist() == [5, 1]
    assert first.persons is second.persons is reg


def test_take_concat_and_to_pandas() -> None:
    reg = PersonRegistry()
    a = build_pings(columns(3), registry=reg, rows=[0, 1, 2])
    b = build_pings(columns(2, person_id=["009", "001"]), registry=reg, rows=[3, 4])
    both = PingTable.concat([a, b])
    assert both.row.tolist() == [0, 1, 2, 3, 4]
    assert both.person_ids().tolist() == ["001", "002", "001", "009", "001"]
    assert both.rows_read == 5
    picked = both.take([4, 0])
    assert picked.row.tolist() == [4, 0]
    assert picked.person_ids().tolist() == ["001", "001"]
    assert picked.persons is reg
    masked = both.take(both.source == Source.CELL.code)
    assert masked.row.tolist() == [2]
    with pytest.raises(ValueError, match="share one PersonRegistry"):
        PingTable.concat([a, build_pings(columns(1))])
    with pytest.raises(ValueError, match="at least one"):
        PingTable.concat([])
    frame = both.to_pandas()
    assert list(frame.columns) == [
        "row",
        "person_id",
        "t",
        "lon",
        "lat",
        "accuracy_m",
        "source",
        "accuracy_filled",
    ]
    assert frame.person_id.tolist() == ["001", "002", "001", "009", "001"]
    assert str(frame.t.dt.tz) == "UTC"
    assert frame.t.iloc[0].isoformat() == "2022-05-01T00:00:00+00:00"


def test_summary_and_repr_name_counts_zone_and_datum() -> None:
    table = build_pings(columns(3, lat=["39.9", "95", "39.9"]), on_error="reject", tz="UTC")
    assert "3 rows read, 2 pings of 1 person, 1 rejected" in table.summary()
    assert "naive times read in UTC" in table.summary()
    assert "datum wgs84" in table.summary()
    assert repr(table) == "<PingTable: 2 pings of 1 person, 1 rejected, from <columns>>"


# -- checks ------------------------------------------------------------------------------------

BAD_VALUES = [
    # (column, value, field, reason fragment)
    ("t", "tomorrow", "t", "'tomorrow' is not an ISO 8601 time or an epoch number"),
    ("t", "", "t", "missing time"),
    ("lon", float("nan"), "lon", "missing lon"),
    ("lon", "", "lon", "missing lon"),
    ("lon", None, "lon", "missing lon"),
    ("lat", float("inf"), "lat", "lat is not finite"),
    ("lon", "-inf", "lon", "lon is not finite"),
    ("lat", "north", "lat", "lat is not a number"),
    ("lat", 95.0, "lat", "lat is outside [-90, 90]"),
    ("lon", -180.5, "lon", "lon is outside [-180, 180]"),
    ("accuracy_m", -1.0, "accuracy_m", "accuracy_m must be a finite number of metres >= 0"),
    ("accuracy_m", float("inf"), "accuracy_m", "must be a finite number"),
    ("accuracy_m", "far", "accuracy_m", "accuracy_m is not a number"),
    ("accuracy_m", "1e39", "accuracy_m", "accuracy_m is too large"),
    ("source", "bike", "source", "source 'bike' is not one of gps, wifi, cell"),
    ("person_id", "", "person_id", "missing person_id"),
    ("person_id", None, "person_id", "missing person_id"),
]


@pytest.mark.parametrize(("column", "value", "field", "reason"), BAD_VALUES)
def test_bad_value_raises_or_is_rejected(
    column: str, value: object, field: str, reason: str
) -> None:
    cols = columns(3)
    values = np.array(cols[column], dtype=object)
    values[1] = value
    cols[column] = values
    with pytest.raises(PingDataError) as info:
        build_pings(cols, origin="mine.csv", rows=[10, 11, 12])
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, FenceCheckError)
    assert (err.source, err.row, err.field) == ("mine.csv", 11, field)
    assert str(err).startswith(f"mine.csv: row 11: {field}: ")
    assert reason in str(err)

    table = build_pings(cols, origin="mine.csv", rows=[10, 11, 12], on_error="reject")
    assert table.row.tolist() == [10, 12]
    assert table.rows_read == 3 == len(table) + len(table.rejected)
    [(row, pid, got_field, got_reason, raw)] = table.rejected.records()
    assert (row, got_field) == (11, field)
    assert pid == ("" if column == "person_id" else "002")
    assert reason in got_reason
    expected_raw = "" if value is None or value != value else str(value)
    assert raw == expected_raw


def test_swapped_lon_lat_is_named() -> None:
    cols = columns(2, lon=[116.4, 39.9], lat=[39.9, 116.4])
    table = build_pings(cols, on_error="reject")
    [(row, _, field, reason, raw)] = table.rejected.records()
    assert (row, field, raw) == (1, "lat", "116.4")
    assert reason == "lat is outside [-90, 90]; lon and lat look swapped"
    # out of range but not swappable: no claim of a swap
    table = build_pings(columns(1, lon=[116.4], lat=[95.0]), on_error="reject")
    assert "swapped" not in table.rejected.reason[0]


def test_first_problem_of_a_row_wins_and_first_bad_row_raises() -> None:
    cols = columns(3, t=["2022-05-01", "bad", "bad"], lat=["39.9", "99", "99"])
    table = build_pings(cols, on_error="reject")
    assert table.rejected.field.tolist() == ["t", "t"]
    cols = columns(3, lat=["39.9", "39.9", "99"], source=["gps", "bike", "gps"])
    with pytest.raises(PingDataError, match="row 1: source"):
        build_pings(cols)


@pytest.mark.parametrize("on_error", ["raise", "reject"])
@pytest.mark.parametrize("missing", ["person_id", "t", "lon", "lat"])
def test_missing_required_column_always_raises(missing: str, on_error: str) -> None:
    cols = columns(2)
    del cols[missing]
    with pytest.raises(PingDataError, match=f"missing required column\\(s\\) {missing};"):
        build_pings(cols, on_error=on_error, origin="x.csv")


def test_rows_and_extra_rejected_are_counted() -> None:
    extra = Rejected.from_records([(1, "002", "row", "has 7 fields, the header has 6", "…")])
    cols = columns(3, lat=["39.9", "95", "39.9"])
    table = build_pings(cols, rows=[0, 2, 3], extra_rejected=extra, on_error="reject")
    assert table.rows_read == 4 == len(table) + len(table.rejected)
    assert table.rejected.row.tolist() == [1, 2]
    assert table.rejected.field.tolist() == ["row", "lat"]
    assert table.row.tolist() == [0, 3]


def test_parsed_times_from_the_reader_are_used() -> None:
    cols = columns(2)
    times = parse_times(["2022-05-01T00:00:00Z", "soon"])
    table = build_pings(cols, times=times, on_error="reject")
    assert table.t.tolist() == [MAY1_0800_BJ]
    assert table.rejected.records()[0][2:4] == (
        "t",
        "'soon' is not an ISO 8601 time or an epoch number",
    )
    del cols["t"]
    assert len(build_pings(cols, times=parse_times(["2022-05-01", "2022-05-02"]))) == 2


# -- time zones and epochs ---------------------------------------------------------------------


def test_naive_times_are_read_in_tz_offsets_are_not() -> None:
    naive = columns(3, t=["2022-05-01 08:00", "2022-05-01T08:00:00", "2022-05-01"])
    beijing = build_pings(naive)
    utc = build_pings(naive, tz="UTC")
    assert (utc.t - beijing.t).tolist() == [8 * HOUR] * 3
    assert utc.tz == "UTC"
    assert beijing.t[0] == MAY1_0800_BJ
    aware = columns(3, t=["2022-05-01T08:00+08:00", "2022-05-01T00:00:00Z", "1651363200"])
    for tz in (None, "UTC", "America/New_York", "+05:30"):
        assert build_pings(aware, tz=tz).t.tolist() == [MAY1_0800_BJ] * 3


def test_epoch_seconds_and_milliseconds() -> None:
    seconds = build_pings(columns(2, t=np.array([1651363200, 1651363201])))
    millis = build_pings(columns(2, t=np.array([1651363200000, 1651363201500])), epoch_unit="ms")
    assert seconds.t.tolist() == [MAY1_0800_BJ, MAY1_0800_BJ + 1000]
    assert millis.t.tolist() == [MAY1_0800_BJ, MAY1_0800_BJ + 1500]
    wrong = build_pings(columns(1, t=np.array([1651363200000])), on_error="reject")
    assert "milliseconds?" in wrong.rejected.reason[0]


# -- datums ------------------------------------------------------------------------------------


def test_datums_are_converted_to_wgs84() -> None:
    lon = np.array([116.40, 116.33, 121.47])
    lat = np.array([39.90, 40.07, 31.23])
    cols = columns(3, lon=lon, lat=lat)
    plain = build_pings(cols)
    assert plain.lon.tolist() == lon.tolist() and plain.lat.tolist() == lat.tolist()
    gcj = build_pings(cols, datum="gcj02")
    expected = gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(gcj.lon, expected[0])
    np.testing.assert_array_equal(gcj.lat, expected[1])
    # the conversion really moves the points (a few hundred metres in China)
    assert np.all(np.abs(gcj.lon - lon) > 1e-4)
    bd = build_pings(cols, datum="BD-09")
    expected = bd09_to_wgs84(lon, lat)
    np.testing.assert_array_equal(bd.lon, expected[0])
    np.testing.assert_array_equal(bd.lat, expected[1])
    assert gcj.datum == "gcj02" and bd.datum == "bd09"


def test_datum_conversion_applies_only_to_kept_rows() -> None:
    cols = columns(3, lon=["116.40", "x", "116.42"])
    table = build_pings(cols, datum="gcj02", on_error="reject")
    expected = gcj02_to_wgs84(np.array([116.40, 116.42]), np.array([39.90, 39.92]))
    np.testing.assert_array_equal(table.lon, expected[0])
    np.testing.assert_array_equal(table.lat, expected[1])


# -- memory ------------------------------------------------------------------------------------


def test_bytes_per_ping_fit_ten_million_in_well_under_a_gigabyte() -> None:
    n = 300_000
    rng = np.random.default_rng(7)
    source = rng.choice(np.array(["gps", "wifi", "cell"]), n)
    accuracy = np.where(rng.random(n) < 0.3, np.nan, rng.uniform(5, 1500, n))
    table = build_pings(
        {
            "person_id": np.char.add("P", (np.arange(n) % 5000).astype(str)),
            "t": 1651363200 + np.arange(n),
            "lon": rng.uniform(116.0, 116.8, n),
            "lat": rng.uniform(39.6, 40.2, n),
            "accuracy_m": accuracy,
            "source": source,
        }
    )
    assert len(table) == n
    per_ping = table.nbytes / len(table)
    ten_million_mb = per_ping * 10_000_000 / 1e6
    assert per_ping <= 48, (
        f"{per_ping:.1f} bytes per ping: 10 M pings would take {ten_million_mb:.0f} MB"
    )
    # nbytes counts every column, nothing hides in a wider dtype
    assert table.nbytes == sum(
        getattr(table, c).nbytes
        for c in ("row", "person", "t", "lon", "lat", "accuracy_m", "source", "accuracy_filled")
    )
    assert per_ping == 42.0, f"expected 42 bytes per ping (420 MB for 10 M), got {per_ping}"


# -- properties --------------------------------------------------------------------------------

coordinate = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-200, max_value=200),
    st.sampled_from([90.0, -90.0, 180.0, -180.0, 90.0000001, -180.0000001]),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=30),
)
def test_numeric_coordinates_kept_exactly_when_finite_and_in_range(
    pairs: list[tuple[float, float]],
) -> None:
    n = len(pairs)
    lon = np.array([p[0] for p in pairs], dtype=np.float64)
    lat = np.array([p[1] for p in pairs], dtype=np.float64)
    table = build_pings(
        {"person_id": ["p"] * n, "t": [1651363200] * n, "lon": lon, "lat": lat},
        on_error="reject",
    )
    good = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    good &= (lon != 0) & (lat != 0)  # exactly 0 is a logger's placeholder, refused
    assert table.rows_read == n == len(table) + len(table.rejected)
    assert table.row.tolist() == np.flatnonzero(good).tolist()
    assert table.rejected.row.tolist() == np.flatnonzero(~good).tolist()
    assert table.lon.tolist() == lon[good].tolist()
    assert table.lat.tolist() == lat[good].tolist()
    for row, field, reason in zip(
        table.rejected.row, table.rejected.field, table.rejected.reason, strict=True
    ):
        x, y = lon[row], lat[row]
        lon_ok = np.isfinite(x) and abs(x) <= 180
        assert field == (
            "lon"
            if not np.isfinite(x)
            else "lat"
            if not np.isfinite(y)
            else "lat"
            if abs(y) > 90
            else "lat"
            if abs(x) <= 180 and x != 0 and y == 0
            else "lon"
        )
        if field == "lat" and 90 < abs(y) <= 180 and lon_ok and abs(x) <= 90:
            assert "swapped" in reason
        else:
            assert "swapped" not in reason


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from(["", " ", "nan", "12", "-0.5", "far", "1e3", "inf", "1e39", 1e300]),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["gps", "wifi", "cell"]),
)
def test_accuracy_is_kept_filled_or_rejected(values: list[object], source: str) -> None:
    n = len(values)
    raw = np.array(values, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow to an infinite float32 on the way
        table = build_pings(
            {
                "person_id": ["p"] * n,
                "t": [1651363200] * n,
                "lon": [116.4] * n,
                "lat": [39.9] * n,
                "accuracy_m": raw,
                "source": [source] * n,
            },
            on_error="reject",
        )
    default = DEFAULT_ACCURACY_M[Source(source)]
    expect_rows, expect_acc, expect_filled, expect_bad = [], [], [], []
    for i, value in enumerate(values):
        text = str(value).strip()
        if (isinstance(value, float) and value != value) or text.lower() in ("", "nan"):
            expect_rows.append(i)
            expect_acc.append(default)
            expect_filled.append(True)
            continue
        try:
            number = float(text)
        except ValueError:
            expect_bad.append(i)
            continue
        if number < 0 or not np.isfinite(number) or number > MAX_ACCURACY_M:
            expect_bad.append(i)
        else:
            expect_rows.append(i)
            expect_acc.append(number)
            expect_filled.append(False)
    assert table.row.tolist() == expect_rows
    assert table.rejected.row.tolist() == expect_bad
    assert set(table.rejected.field.tolist()) <= {"accuracy_m"}
    assert table.accuracy_m.tolist() == np.array(expect_acc, dtype=np.float32).tolist()
    assert table.accuracy_filled.tolist() == expect_filled
