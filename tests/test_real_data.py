"""Real third-party data from ../shared/data: GeoLife trajectories read as pings.

Each test skips with the reason when the data is absent (see SOURCES.md); the data
is never copied into this repository.
"""

from __future__ import annotations

import numpy as np

from fencecheck import read_pings
from fencecheck.times import format_utc, parse_time

from support import shared_file


def test_geolife_small_reads_completely_with_user_ids_kept() -> None:
    path = shared_file("geolife/geolife_small_movingpandas.csv")
    pings = read_pings(path, columns={"user_id": "person_id"})
    assert pings.rows_read == len(pings) == 5908 and len(pings.rejected) == 0
    assert sorted(set(pings.person_ids().tolist())) == ["000", "002", "019"]
    # SOURCES.md: 2008-12-11T04:42:14Z .. 2009-06-29T11:13:12Z, lon 116.294527..116.592616
    assert format_utc(int(pings.t.min())) == "2008-12-11T04:42:14Z"
    assert format_utc(int(pings.t.max())) == "2009-06-29T11:13:12Z"
    assert np.isclose(pings.lon.min(), 116.294527) and np.isclose(pings.lon.max(), 116.592616)
    assert np.isclose(pings.lat.min(), 39.862378) and np.isclose(pings.lat.max(), 40.082514)
    # no accuracy or source columns: every ping is a GPS fix with the default accuracy
    assert pings.accuracy_filled.all() and set(pings.source_names().tolist()) == {"gps"}


def test_geolife_sample_two_users_row_numbers_and_chunks() -> None:
    path = shared_file("geolife/geolife_sample_skmob_users001_005.csv")
    whole = read_pings(path, columns={"user_id": "person_id"})
    assert len(whole) == 217_653 and len(whole.rejected) == 0
    ids, counts = np.unique(whole.person_ids().astype(str), return_counts=True)
    assert dict(zip(ids.tolist(), counts.tolist(), strict=True)) == {"001": 108_607, "005": 109_046}
    assert np.array_equal(whole.row, np.arange(217_653))
    assert format_utc(int(whole.t[0])) == "2008-10-23T05:53:05Z"
    chunked = read_pings(path, columns={"user_id": "person_id"}, chunk_rows=50_000)
    assert np.array_equal(chunked.t, whole.t) and np.array_equal(chunked.lon, whole.lon)


def test_geolife_times_are_utc_whatever_the_zone_option() -> None:
    path = shared_file("geolife/geolife_small_movingpandas.csv")
    # the file's times carry 'Z', so the zone for naive times must not move them
    a = read_pings(path, columns={"user_id": "person_id"}, tz="Asia/Shanghai")
    b = read_pings(path, columns={"user_id": "person_id"}, tz="America/New_York")
    assert np.array_equal(a.t, b.t)
    assert a.t[0] == parse_time("2008-12-11T12:42:14+08:00")
