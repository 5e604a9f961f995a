"""Instants: every accepted spelling, zones, epochs, bad values, and a zoneinfo reference."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck.errors import OptionError
from fencecheck.times import (
    OPEN_END,
    format_local,
    format_utc,
    local_ms_to_utc,
    parse_time,
    parse_times,
    resolve_zone,
)

UTC = dt.timezone.utc
MAY2 = int(dt.datetime(2022, 5, 2, tzinfo=UTC).timestamp()) * 1000  # 2022-05-02T00:00Z


@pytest.mark.parametrize(
    "text",
    [
        "2022-05-02T08:00:00+08:00",
        "2022-05-02T08:00:00+0800",
        "2022-05-02T08:00+08",
        "2022-05-02T00:00:00Z",
        "2022-05-02T00:00:00z",
        "2022-05-02 08:00:00",  # naive: Asia/Shanghai
        "2022-05-02t08:00",
        "2022-05-02T08",
        "  2022-05-02T08:00:00  ",
        "2022-05-01T19:00:00-05:00",
        "2022-05-02T05:30:00+05:30",
        "1651449600",  # epoch seconds as text
    ],
)
def test_every_spelling_of_one_instant(text: str) -> None:
    assert parse_time(text) == MAY2
    assert parse_times([text]).ms.tolist() == [MAY2]


def test_date_only_is_local_midnight() -> None:
    assert parse_time("2022-05-03") == parse_time("2022-05-03T00:00:00+08:00")
    assert parse_time("2022-05-03", tz="UTC") == parse_time("2022-05-03T00:00:00Z")


def test_fractions_are_truncated_to_milliseconds() -> None:
    assert parse_time("2022-05-02T00:00:00.123999Z") == MAY2 + 123
    assert parse_time(1651449600.25) == MAY2 + 250


def test_epoch_units() -> None:
    assert parse_time(1651449600) == MAY2
    assert parse_time(1651449600000, epoch_unit="ms") == MAY2
    parsed = parse_times(np.array([1651449600000]))
    assert parsed.bad.tolist() == [True]
    assert "milliseconds?" in parsed.reasons[0]
    with pytest.raises(OptionError, match="epoch_unit: 'us' is not one of 's', 'ms'"):
        parse_times([1], epoch_unit="us")


def test_naive_datetime64_is_local_wall_time() -> None:
    values = np.array(["2022-05-02T08:00"], dtype="datetime64[ms]")
    assert parse_times(values).ms.tolist() == [MAY2]
    assert parse_times(values, tz="UTC").ms.tolist() == [MAY2 + 8 * 3_600_000]


def test_python_datetimes() -> None:
    aware = dt.datetime(2022, 5, 2, 8, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert parse_time(aware) == MAY2
    assert parse_time(dt.datetime(2022, 5, 2, 8)) == MAY2
    assert parse_time(dt.date(2022, 5, 2), tz="UTC") == MAY2


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "missing time"),
        ("now", "'now' is not an ISO 8601 time"),
        ("today", "'today' is not an ISO 8601 time"),
        ("NaT", "'NaT' is not an ISO 8601 time"),
        ("2022-13-01", "'2022-13-01' is not an ISO 8601 time"),
        ("2022-05-02T25:00", "is not an ISO 8601 time"),
        ("2022-5-2", "is not an ISO 8601 time"),
        ("02/05/2022 08:00", "is not an ISO 8601 time"),
        ("2022-05-02T08:00:00+24:00", "UTC offset out of range"),
        ("-5", "outside 1970-01-01..2100-01-01"),
        ("99999999999", "outside 1970-01-01..2100-01-01"),
    ],
)
def test_bad_values_are_marked_with_a_reason(value: str, reason: str) -> None:
    parsed = parse_times(["2022-05-02T08:00", value, "2022-05-02T08:00"])
    assert parsed.bad.tolist() == [False, True, False]
    assert reason in parsed.reasons[1]
    assert parsed.ms[0] == parsed.ms[2] == MAY2
    with pytest.raises(ValueError, match=r"missing time|ISO 8601|offset|outside"):
        parse_time(value)


def test_missing_values_in_objects_and_floats() -> None:
    parsed = parse_times(np.array([None, float("nan"), "2022-05-02T08:00"], dtype=object))
    assert parsed.bad.tolist() == [True, True, False]
    assert parsed.reasons[0] == parsed.reasons[1] == "missing time"
    floats = parse_times(np.array([np.nan, 1651449600.0]))
    assert floats.bad.tolist() == [True, False]


def test_bool_is_not_a_time() -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(True)


def test_resolve_zone() -> None:
    assert resolve_zone(None) == ZoneInfo("Asia/Shanghai")
    assert resolve_zone("-05:30").utcoffset(None) == dt.timedelta(hours=-5, minutes=-30)
    with pytest.raises(OptionError, match="'Mars/Olympus' is not a known time zone"):
        resolve_zone("Mars/Olympus")
    with pytest.raises(OptionError):
        resolve_zone("+25:00")


def test_format_utc_forms() -> None:
    assert format_utc(MAY2) == "2022-05-02T00:00:00Z"
    assert format_utc(np.array([MAY2, MAY2 + 5])).tolist() == [
        "2022-05-02T00:00:00.000Z",
        "2022-05-02T00:00:00.005Z",
    ]
    assert format_utc(np.array([MAY2, OPEN_END])).tolist() == ["2022-05-02T00:00:00Z", ""]
    assert format_utc(np.zeros(0, dtype=np.int64)).tolist() == []
    assert format_local(MAY2, "UTC") == "2022-05-02 00:00:00 (UTC)"


ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe"]
# Local wall-clock instants 1990..2040 in ms (Lord Howe shifts by 30 minutes).
local_ms = st.integers(min_value=631_152_000_000, max_value=2_208_988_800_000)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(local_ms, min_size=1, max_size=40), zone=st.sampled_from(ZONES))
def test_local_to_utc_matches_zoneinfo_value_by_value(values: list[int], zone: str) -> None:
    tz = ZoneInfo(zone)
    got = local_ms_to_utc(np.array(values, dtype=np.int64), tz)
    for value, result in zip(values, got.tolist(), strict=True):
        wall = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=value)
        expected = (wall.replace(tzinfo=tz) - dt.datetime(1970, 1, 1, tzinfo=UTC)) // (
            dt.timedelta(milliseconds=1)
        )
        assert result == expected


@settings(max_examples=200, deadline=None)
@given(
    instants=st.lists(st.integers(0, 4_102_444_799_999), min_size=1, max_size=30),
    zone=st.sampled_from(ZONES),
)
def test_formatted_instants_parse_back(instants: list[int], zone: str) -> None:
    ms = np.array(instants, dtype=np.int64)
    assert parse_times(format_utc(ms), tz=zone).ms.tolist() == instants
    # the same instants written with their local offset parse back too
    tz = ZoneInfo(zone)
    written = [
        (dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=v))
        .astimezone(tz)
        .isoformat(timespec="milliseconds")
        for v in instants
    ]
    assert parse_times(written, tz="UTC").ms.tolist() == instants


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(max_size=12), st.sampled_from(["2022-05-02T08:00Z"])),
        min_size=1,
        max_size=20,
    )
)
def test_arbitrary_text_never_raises_and_flags_each_row(values: list[str]) -> None:
    parsed = parse_times(np.array(values, dtype=object))
    assert parsed.ms.shape == parsed.bad.shape == (len(values),)
    for i, value in enumerate(values):
        if parsed.bad[i]:
            assert parsed.reasons[i]
        else:
            assert parse_time(value) == parsed.ms[i]


def test_a_refused_time_warns_of_nothing_and_gives_its_reason() -> None:
    """numpy warns about time zones for "…T08." before refusing it; the reader does not."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = parse_times(
            np.array(["2022-05-01T08.", "2022-05-01T08"], dtype=object), tz="Asia/Shanghai"
        )
    assert parsed.bad.tolist() == [True, False]
    assert "is not an ISO 8601 time" in parsed.reasons[0]
