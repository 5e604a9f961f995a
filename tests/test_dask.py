"""fencecheck.dask on a real LocalCluster (2 worker processes): the answers of one machine.

Every table of a Dask scan equals ``fc.scan``'s (row order aside) on the samples,
with cases, and on a tiled synthetic city of 150,000 pings with fences read in
both datums; ``match`` equals ``index.match``; bad rows in one partition are
rejected or refused with their row in the whole input; a worker killed mid-scan
changes nothing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fencecheck as fc
from fencecheck.errors import DataError
from test_scan import AT, small_city

from support import SAMPLES

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
fcd = pytest.importorskip("fencecheck.dask")

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:distributed.*")


@pytest.fixture(scope="module")
def client() -> Any:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[fc.FenceIndex, Path]:
    """small_city's 30 stories, told by 150 sets of people: about 150,000 pings as CSV."""
    index, pings, _ = small_city(7)
    base = pings.to_pandas()[["person_id", "t", "lon", "lat", "accuracy_m", "source"]]
    base["t"] = base["t"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    copies = int(np.ceil(150_000 / len(base)))
    frames = []
    for k in range(copies):
        copy = base.copy()
        copy["person_id"] = copy["person_id"] + f"-{k:03d}"
        frames.append(copy)
    path = tmp_path_factory.mktemp("city") / "city.csv"
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return index, path


def assert_same_scan(single: fc.Scan, spread: fc.Scan) -> None:
    """Every table equal, row order aside."""
    assert single.tables == spread.tables
    for name in single.tables:
        a = getattr(single, name).to_pandas()
        b = getattr(spread, name).to_pandas()
        assert list(a.columns) == list(b.columns), name
        keys = list(a.columns)
        a = a.sort_values(keys, kind="stable").reset_index(drop=True)
        b = b.sort_values(keys, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=name)


def test_the_samples_scan_the_same(client: Any) -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    single = fc.scan(fc.read_pings(SAMPLES / "pings.csv"), index)
    spread = fcd.scan(str(SAMPLES / "pings.csv"), index, blocksize=6_000)
    assert spread.reading.rows_read == 400 and spread.reading.pings_used == 400
    assert spread.reading.people == 8
    assert_same_scan(single, spread)


def test_the_samples_with_cases_scan_the_same(client: Any) -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    cases = fc.read_pings(SAMPLES / "cases.csv")
    single = fc.scan(fc.read_pings(SAMPLES / "pings.csv"), index, cases=cases)
    spread = fcd.scan(str(SAMPLES / "pings.csv"), index, cases=cases, blocksize=6_000)
    assert "cases" in spread.tables
    assert_same_scan(single, spread)


def test_a_city_scans_the_same_in_both_fence_datums(
    client: Any, city: tuple[fc.FenceIndex, Path], tmp_path: Path
) -> None:
    index, path = city
    pings = fc.read_pings(path)
    assert len(pings) >= 150_000
    single = fc.scan(pings, index, at=AT)
    spread = fcd.scan(str(path), index, at=AT, blocksize=1_500_000)
    assert spread.reading.rows_read == len(pings) and spread.reading.people == len(
        set(pings.person_ids().tolist())
    )
    assert_same_scan(single, spread)
    # The same fences written and read in GCJ-02: a FenceSet, indexed where it is used.
    gcj = tmp_path / "fences_gcj02.geojson"
    fc.write_fences(index.fences, gcj, datum="gcj02")
    fences = fc.read_fences(gcj, datum="gcj02")
    single = fc.scan(pings, fc.FenceIndex.build(fences), at=AT)
    spread = fcd.scan(str(path), fences, at=AT, blocksize=1_500_000)
    assert_same_scan(single, spread)
    assert (single.people["verdict"] != "not_flagged").sum() > 100


def test_a_dask_dataframe_scans_the_same(client: Any) -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    frame = pd.read_csv(SAMPLES / "pings.csv", dtype=str, keep_default_na=False)
    spread = fcd.scan(dd.from_pandas(frame, npartitions=3), index)
    assert_same_scan(fc.scan(fc.read_pings(SAMPLES / "pings.csv"), index), spread)


def test_match_equals_index_match(client: Any, city: tuple[fc.FenceIndex, Path]) -> None:
    index, path = city
    pings = fc.read_pings(path)
    for mode in ("point", "disc"):
        want = index.match(pings, mode=mode).to_pandas()
        got = fcd.match(str(path), index, mode=mode, blocksize=1_500_000).compute()
        keys = ["ping", "fence_id", "window_start"]
        want = want.sort_values(keys).reset_index(drop=True)
        got = got.sort_values(keys).reset_index(drop=True)
        for text in ("person_id", "fence_id", "relation"):  # Dask keeps text as its string dtype
            want[text], got[text] = want[text].astype(object), got[text].astype(object)
        pd.testing.assert_frame_equal(want, got, check_exact=True)
        assert len(got) > 1_000


def _with_bad_rows(tmp_path: Path) -> Path:
    lines = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    head, rows = lines[0], lines[1:]
    rows[250] = rows[250].replace(rows[250].split(",")[2], "200.5", 1)  # lon out of range
    rows[260] = "P02,not a time,116.3,40.0,20,gps"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    return path


def test_bad_rows_are_rejected_with_their_row_in_the_whole_input(
    client: Any, tmp_path: Path
) -> None:
    path = _with_bad_rows(tmp_path)
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    single = fc.read_pings(path, on_error="reject")
    spread = fcd.scan(str(path), index, blocksize=6_000, on_error="reject")
    assert spread.reading.rejected.records() == single.rejected.records()
    assert [r[0] for r in single.rejected.records()] == [250, 260]
    assert spread.reading.rows_read == 400 == spread.reading.pings_used + 2
    assert_same_scan(fc.scan(single, index), spread)
    hits, rejected = fcd.match(str(path), index, blocksize=6_000, on_error="reject",
                               with_rejected=True)  # fmt: skip
    assert rejected.compute()["row"].tolist() == [250, 260]
    assert hits.compute()["ping"].isin([250, 260]).sum() == 0


def test_a_bad_row_under_raise_names_its_row_in_the_whole_input(
    client: Any, tmp_path: Path
) -> None:
    path = _with_bad_rows(tmp_path)
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    with pytest.raises(DataError, match="row 250") as caught:
        fcd.scan(str(path), index, blocksize=6_000)
    assert "lon" in str(caught.value) and "200.5" not in str(caught.value)


def test_explain_gathers_a_persons_pings(client: Any) -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    [want] = fc.explain(fc.read_pings(SAMPLES / "pings.csv"), index, person=["P06"])
    [got] = fcd.explain(str(SAMPLES / "pings.csv"), index, person=["P06"], blocksize=6_000)
    assert got.to_dict() == want.to_dict()


def test_a_worker_killed_mid_scan_changes_nothing(city: tuple[fc.FenceIndex, Path]) -> None:
    index, path = city
    single = fc.scan(fc.read_pings(path), index, at=AT)
    killed: list[int] = []
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        pids = sorted(c.run(os.getpid).values())

        def kill_one(line: str) -> None:
            if not killed:  # after the first bucket is judged, one worker dies
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])

        spread = fcd.scan(str(path), index, at=AT, blocksize=600_000, progress=kill_one)
        assert killed and pids[0] not in c.run(os.getpid).values()
    assert_same_scan(single, spread)


def test_the_command_line_writes_the_same_tables(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "fencecheck", "scan", "--fences", str(SAMPLES / "fences.geojson"),
            "--pings", str(SAMPLES / "pings.csv"), "--progress", "never"]  # fmt: skip
    one = subprocess.run([*args, "--out", str(tmp_path / "one")], capture_output=True, text=True)
    two = subprocess.run(
        [*args, "--out", str(tmp_path / "two"), "--dask", "local:2"], capture_output=True, text=True
    )
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    for name in ("people", "fences", "timeline", "whatif"):
        a = (tmp_path / "one" / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        b = (tmp_path / "two" / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        assert a[0] == b[0] and sorted(a[1:]) == sorted(b[1:]), name
    assert "on Dask (local:2)" in two.stderr
    bad = subprocess.run([*args, "--out", str(tmp_path / "x"), "--dask", "local:none"],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "local:N" in bad.stderr
