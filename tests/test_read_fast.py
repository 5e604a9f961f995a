"""The fast reading paths agree with the reference ones they stand in for.

``read_pings`` lets Arrow parse ISO 8601 text times (``_cast_times``), encodes
labels chunk by chunk (``_arrow_labels``), reads Parquet labels as dictionaries,
reads CSV chunks ahead on a thread (``_read_ahead``) and finds first appearances
without a sort (``_first_appearance``). Each is compared here, value by value,
with the path that was there before it: ``parse_times`` / ``parse_text_buffer``,
``Labels.of`` and ``np.unique``, and the standard-library CSV reader.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fencecheck import iter_pings, read_pings
from fencecheck.errors import PingDataError
from fencecheck.io import pings as ping_io
from fencecheck.pings import Labels, PingTable, _first_appearance
from fencecheck.times import ParsedTimes, parse_text_buffer, parse_times, resolve_zone

ZONES = ["Asia/Shanghai", "UTC", "+05:30", "America/New_York"]
HEADER = ["person_id", "t", "lon", "lat", "accuracy_m", "source"]
COLUMNS = ("row", "t", "lon", "lat", "accuracy_m", "source", "accuracy_filled")


# -- strategies ----------------------------------------------------------------------------


def _two(draw: Any, low: int, high: int) -> str:
    value = draw(st.integers(low, high))
    return draw(st.sampled_from([f"{value:02d}", str(value)]))


@st.composite
def iso_like(draw: Any) -> str:
    """Text that is mostly ISO 8601, often just out of range or a character off."""
    year = draw(st.integers(1600, 2400))
    text = f"{year:04d}-{_two(draw, 0, 13)}-{_two(draw, 0, 32)}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["T", " ", "t", "", "  "])) + _two(draw, 0, 24)
        for _ in range(draw(st.integers(0, 2))):
            text += draw(st.sampled_from([":", ":", ""])) + _two(draw, 0, 60)
        if draw(st.booleans()):
            digits = draw(st.integers(0, 11))
            text += draw(st.sampled_from([".", ","])) + "7" * digits
    offset = draw(st.sampled_from(["", "", "Z", "z", "+", "-", " Z"]))
    if offset in ("+", "-"):
        hours = _two(draw, 0, 25)
        minutes = draw(st.sampled_from(["", ":00", ":30", "00", "45", ":60", ":5"]))
        offset += hours + minutes
    text += offset
    if draw(st.integers(0, 9)) == 0:  # one character changed, added or dropped
        at = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(list("0123456789-:T Z+./年")))
        cut = draw(st.sampled_from([0, 1]))
        text = text[:at] + char + text[at + cut :]
    return text


TIME_TEXT = st.one_of(
    iso_like(),
    st.sampled_from(
        [
            "",
            " ",
            "1651363200",
            "2022/5/3 8:20",
            "2022年05月03日 08:20:04",
            "2022.05.03",
            " 2022-05-01T08:00:00+08:00",
            "2022-05-01T08:00:00+08:00 ",
            "2022-05-01T08:00:00.123456789+08:00",
            "2022-05-01T08:00:00.1234567891Z",
            "2262-04-11T23:47:16.854775807Z",
            "2262-04-11T23:47:16.854775808Z",
            "1677-09-21T00:12:43.145224191Z",
            "soon",
        ]
    ),
)


def _same(got: ParsedTimes, want: ParsedTimes) -> None:
    np.testing.assert_array_equal(got.bad, want.bad)
    np.testing.assert_array_equal(got.ms, want.ms)
    assert got.reasons.tolist() == want.reasons.tolist()


def _reference(values: list[str | None], zone: Any) -> ParsedTimes:
    """The text reader that was there before the Arrow cast: fencecheck's own parser."""
    arr = pa.array(values, pa.large_string())
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: len(arr) + 1]
    data_buffer = arr.buffers()[2]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    lengths = np.diff(offsets)
    lengths[[v is None for v in values]] = -1
    return parse_text_buffer(data, offsets[:-1], lengths, tz=zone)


# -- Arrow's ISO 8601 cast against fencecheck's parser --------------------------------------


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=TIME_TEXT, tz=st.sampled_from(ZONES))
@example(value="2022-05-01T08:00:00+08:00", tz="Asia/Shanghai")
@example(value="2022-05-01 08:00", tz="Asia/Shanghai")
@example(value="2022-05-01", tz="America/New_York")
@example(value="2022-03-13T02:30:00", tz="America/New_York")  # skipped by DST
@example(value="2022-11-06T01:30:00", tz="America/New_York")  # ambiguous
@example(value="2022-05-01T08:00:00.123456+08:00", tz="UTC")
@example(value="2022-05-01T08Z", tz="UTC")
@example(value="2022-05-01T08:00+0800", tz="UTC")
@example(value="1969-12-31T23:59:59.999Z", tz="UTC")
def test_arrow_reads_a_time_only_as_fencecheck_does(value: str, tz: str) -> None:
    """Whatever Arrow's cast accepts, fencecheck reads to the same instant."""
    zone = resolve_zone(tz)
    got = ping_io._cast_times(pa.array([value], pa.string()), zone)
    if got is None:
        return  # refused: the reference path reads it (see the next test)
    want = parse_times(np.array([value], dtype=object), tz=zone)
    assert not want.bad[0], (value, want.reasons[0])
    assert int(got.ms[0]) == int(want.ms[0]), value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.one_of(st.none(), TIME_TEXT), min_size=0, max_size=60),
    common=st.sampled_from(
        ["2022-05-01T08:00:00+08:00", "2022-05-01 08:00:00", "2022-05-01T08:00:00.5Z"]
    ),
    repeat=st.integers(0, 40),
    tz=st.sampled_from(ZONES),
    leaf=st.sampled_from([1, 3, 16]),
    chunked=st.booleans(),
)
def test_text_times_equal_the_reference_reader(
    values: list[str | None],
    common: str,
    repeat: int,
    tz: str,
    leaf: int,
    chunked: bool,
) -> None:
    """Mixed good and bad values: the same instants, verdicts and reasons, row by row."""
    column = [common] * repeat + values + [common] * repeat
    zone = resolve_zone(tz)
    arr: Any = pa.array(column, pa.string())
    if chunked and len(column) > 2:
        third = len(column) // 3
        arr = pa.chunked_array([arr.slice(0, third), arr.slice(third)])
    options = {"tz": zone, "epoch_unit": "s", "time_format": None}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ping_io, "_CAST_LEAF", leaf)  # halve down to a few rows
        got = ping_io._arrow_text_times(arr, options)
    _same(got, _reference(column, zone))


def test_a_few_bad_times_among_many_are_found_by_halving(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = dt.datetime(2022, 5, 1, tzinfo=dt.timezone.utc)
    column: list[str | None] = [
        (base + dt.timedelta(seconds=7 * i)).isoformat() for i in range(50_000)
    ]
    for i, value in {
        3: "soon",
        17_000: None,
        17_001: "2022/5/3 8:20",
        49_999: "2022-05-01 08:00",
    }.items():
        column[i] = value
    calls: list[int] = []
    slow = ping_io.parse_text_buffer

    def counted(data: Any, starts: Any, lengths: Any, **kwargs: Any) -> ParsedTimes:
        calls.append(len(starts))
        return slow(data, starts, lengths, **kwargs)

    monkeypatch.setattr(ping_io, "parse_text_buffer", counted)
    zone = resolve_zone("Asia/Shanghai")
    options = {"tz": zone, "epoch_unit": "s", "time_format": None}
    got = ping_io._arrow_text_times(pa.array(column, pa.string()), options)
    monkeypatch.setattr(ping_io, "parse_text_buffer", slow)
    _same(got, _reference(column, zone))
    assert got.bad.nonzero()[0].tolist() == [3, 17_000]
    # one slow read, of the refused parts only (three of at most _CAST_LEAF rows each)
    assert len(calls) == 1
    assert calls[0] <= 3 * ping_io._CAST_LEAF


def test_time_format_still_reads_every_value_with_the_pattern() -> None:
    arr = pa.array(["01/05/2022 08:00", "2022-05-01T08:00:00+08:00", None], pa.string())
    zone = resolve_zone("Asia/Shanghai")
    options = {"tz": zone, "epoch_unit": "s", "time_format": "%d/%m/%Y %H:%M"}
    got = ping_io._arrow_text_times(arr, options)
    assert got.bad.tolist() == [False, True, True]
    assert got.reasons[1] == (
        "'2022-05-01T08:00:00+08:00' does not match the time format '%d/%m/%Y %H:%M'"
    )


# -- labels and first appearances ----------------------------------------------------------


LABEL_TEXT = st.one_of(st.none(), st.sampled_from(["a", "b", " a", "", "001", "甲", "gps"]))


@settings(max_examples=150, deadline=None)
@given(
    parts=st.lists(st.lists(LABEL_TEXT, max_size=8), max_size=5),
    dictionary=st.booleans(),
)
def test_chunked_labels_mean_what_joined_labels_mean(
    parts: list[list[str | None]], dictionary: bool
) -> None:
    chunks = [pa.array(p, pa.string()) for p in parts]
    if dictionary:  # each chunk with its own dictionary, as Parquet row groups are read
        chunks = [c.dictionary_encode() for c in chunks]
    column = pa.chunked_array(
        chunks, pa.dictionary(pa.int32(), pa.string()) if dictionary else pa.string()
    )
    got = ping_io._arrow_labels(column)
    want = Labels.of(np.array([v for p in parts for v in p], dtype=object))
    np.testing.assert_array_equal(got.codes < 0, want.codes < 0)
    assert got.text().tolist() == want.text().tolist()


@settings(max_examples=200, deadline=None)
@given(codes=st.lists(st.integers(0, 12), max_size=80))
def test_first_appearance_is_the_order_of_np_unique(codes: list[int]) -> None:
    arr = np.array(codes, dtype=np.intp)
    present, first = np.unique(arr, return_index=True)
    expected = present[np.argsort(first, kind="stable")]
    assert _first_appearance(arr, 13).tolist() == expected.tolist()


# -- whole files: the fast paths against the standard-library reader -----------------------


def _write(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _mixed_rows(n: int) -> list[list[str]]:
    """Times in every form fencecheck reads, and some it refuses, in runs and alone."""
    rng = np.random.default_rng(7)
    base = dt.datetime(2022, 5, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    rows = []
    for i in range(n):
        moment = base + dt.timedelta(seconds=int(rng.integers(0, 14 * 86_400)))
        block = (i // 700) % 5
        if block == 0:
            t = moment.isoformat()
        elif block == 1:
            t = moment.strftime("%Y-%m-%d %H:%M:%S")
        elif block == 2:
            t = moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif block == 3:
            t = moment.strftime("%Y/%m/%d %H:%M") if i % 2 else moment.isoformat()
        else:
            t = str(int(moment.timestamp()))
        if i % 997 == 5:
            t = "soon"
        if i % 1499 == 11:
            t = ""
        rows.append(
            [
                f"{i % 37:04d}",
                t,
                f"{116.3 + rng.random() * 0.2:.6f}",
                f"{39.8 + rng.random() * 0.2:.6f}" if i % 1201 != 9 else "95.0",
                f"{rng.random() * 100:.1f}" if i % 5 else "",
                ["gps", "wifi", "cell", ""][i % 4],
            ]
        )
    return rows


def _assert_same(got: PingTable, expected: PingTable) -> None:
    for name in COLUMNS:
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)
    assert got.person_ids().tolist() == expected.person_ids().tolist()
    assert got.rows_read == expected.rows_read
    assert got.rejected.records() == expected.rejected.records()


@pytest.mark.parametrize("chunk_rows", [1_000, 6_000, 1_000_000])
@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York"])
def test_mixed_times_file_reads_as_the_standard_library_reads_it(
    chunk_rows: int, tz: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ping_io, "_CAST_LEAF", 64)
    path = _write(tmp_path / "mixed.csv", _mixed_rows(9_000))
    python = read_pings(path, engine="python", on_error="reject", tz=tz)
    arrow = read_pings(path, engine="arrow", on_error="reject", tz=tz, chunk_rows=chunk_rows)
    _assert_same(arrow, python)
    assert len(python.rejected) > 10
    with pytest.raises(PingDataError, match=r"row 5: t: 'soon' is not an ISO 8601 time"):
        read_pings(path, engine="arrow", tz=tz, chunk_rows=chunk_rows)


def test_parquet_with_text_labels_in_row_groups_reads_like_csv(tmp_path: Path) -> None:
    rows = _mixed_rows(3_000)
    path = _write(tmp_path / "p.csv", rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    parquet = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet, row_group_size=333)
    expected = read_pings(path, engine="python", on_error="reject")
    for k in (100, 333, 1_000, 5_000):
        chunks = list(iter_pings(parquet, on_error="reject", chunk_rows=k))
        assert [c.rows_read for c in chunks[:-1]] == [k] * (len(chunks) - 1)
        _assert_same(PingTable.concat(chunks), expected)


def test_stopping_early_leaves_no_reader_behind(tmp_path: Path) -> None:
    path = _write(tmp_path / "early.csv", _mixed_rows(5_000))
    chunks = iter_pings(path, engine="arrow", on_error="reject", chunk_rows=1_000)
    first = next(chunks)
    chunks.close()  # the chunk being read ahead is waited for, then dropped
    assert first.rows_read == 1_000
    assert read_pings(path, engine="arrow", on_error="reject").rows_read == 5_000


# -- build_pings: the checks skipped when min and max show nothing to find ------------------

COORD = st.one_of(
    st.sampled_from([0.0, -0.0, 90.0, -90.0, 90.5, 180.0, -180.0, 180.5, 1e300]),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.floats(-200, 200, allow_nan=False),
    st.floats(0.5, 89.5, allow_nan=False),
)
ACCURACY = st.one_of(
    st.sampled_from([0.0, -0.0, -1.0, 50_000.0, 50_000.5, float("nan"), float("inf")]),
    st.floats(0, 60_000, allow_nan=False),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(COORD, COORD, ACCURACY), min_size=1, max_size=12),
    datum=st.sampled_from(["wgs84", "gcj02"]),
    with_accuracy=st.booleans(),
)
def test_range_shortcuts_reject_what_the_full_checks_reject(
    rows: list[tuple[float, float, float]], datum: str, with_accuracy: bool
) -> None:
    from fencecheck import pings as ping_module
    from fencecheck.pings import build_pings

    columns: dict[str, Any] = {
        "person_id": np.array(["a"] * len(rows), dtype=object),
        "t": np.full(len(rows), 1_651_363_200, dtype=np.int64),
        "lon": np.array([r[0] for r in rows]),
        "lat": np.array([r[1] for r in rows]),
    }
    if with_accuracy:
        columns["accuracy_m"] = np.array([r[2] for r in rows])
    fast = build_pings(columns, on_error="reject", datum=datum)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ping_module, "_finite_range", lambda values: None)
        full = build_pings(columns, on_error="reject", datum=datum)
    _assert_same(fast, full)


def test_concat_into_columns_of_a_known_size_is_the_plain_concat(tmp_path: Path) -> None:
    path = _write(tmp_path / "sized.csv", _mixed_rows(3_000))
    parts = list(iter_pings(path, on_error="reject", chunk_rows=700))
    plain = PingTable.concat(parts)
    assert len(plain) < plain.rows_read == 3_000  # some rejected: the size is a bound
    _assert_same(PingTable.concat(iter(parts), size=3_000), plain)
    _assert_same(PingTable.concat(parts, size=len(plain)), plain)
    with pytest.raises(ValueError, match="more than size"):
        PingTable.concat(parts, size=len(plain) - 1)
