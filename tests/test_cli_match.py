"""The match command: the hits file docs/contract.md specifies, streaming, and bounded memory."""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.times import format_utc

from support import SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")
COLUMNS = [
    "ping",
    "person_id",
    "t",
    "fence_id",
    "window_start",
    "window_end",
    "relation",
    "depth_m",
    "p_inside",
]


@pytest.fixture(scope="module")
def library_hits() -> fc.Hits:
    index = fc.FenceIndex.build(fc.read_fences(FENCES))
    return index.match(fc.read_pings(PINGS), mode="disc")


def test_csv_hits_are_the_library_hits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], library_hits: fc.Hits
) -> None:
    out = tmp_path / "hits.csv"
    code = main(
        ["match", "--fences", FENCES, "--pings", PINGS, "--mode", "disc", "--out", str(out)]
    )
    err = capsys.readouterr().err
    assert code == 0
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert [int(r["ping"]) for r in rows] == library_hits.ping.tolist()
    assert [r["fence_id"] for r in rows] == library_hits.fence_ids().tolist()
    assert [r["person_id"] for r in rows] == library_hits.person_ids().tolist()
    assert [r["t"] for r in rows] == format_utc(library_hits.t).tolist()
    assert [r["relation"] for r in rows] == library_hits.relation().tolist()
    assert np.allclose([float(r["depth_m"]) for r in rows], library_hits.depth_m, atol=5e-4)
    assert np.allclose([float(r["p_inside"]) for r in rows], library_hits.p_inside, atol=5e-7)
    assert all(r["t"].endswith("Z") for r in rows)
    assert {r["window_end"] for r in rows if r["fence_id"] == "F-controlled-1"} == {""}
    people = len(set(library_hits.person.tolist()))
    assert (
        f"400 pings read, 0 rejected, {len(library_hits)} hits, {people} people with a hit" in err
    )
    assert "disc mode" in err and "naive times in Asia/Shanghai" in err


def test_parquet_hits_have_the_formats_types(tmp_path: Path, library_hits: fc.Hits) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "hits.parquet"
    assert (
        main(["match", "--fences", FENCES, "--pings", PINGS, "--mode", "disc", "--out", str(out)])
        == 0
    )
    table = pq.read_table(out)
    assert table.column_names == COLUMNS
    for name in ("t", "window_start", "window_end"):
        assert str(table.schema.field(name).type) == "timestamp[ms, tz=UTC]"
    assert table.num_rows == len(library_hits)
    ends = table.column("window_end").to_pylist()
    fence = table.column("fence_id").to_pylist()
    assert all(e is None for e, f in zip(ends, fence, strict=True) if f == "F-controlled-1")
    assert np.array_equal(table.column("p_inside").to_numpy(), library_hits.p_inside)


def test_hits_go_to_stdout_without_out(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["match", "--fences", FENCES, "--pings", PINGS]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == ",".join(COLUMNS) and len(lines) > 10
    assert "hits" in err and "hits" not in out.splitlines()[1]


def test_rejected_rows_go_next_to_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pings = tmp_path / "in.csv"
    text = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    text.insert(3, "P99,not a time,116.33,40.07,10,gps")
    pings.write_text("\n".join(text) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "hits.csv"
    out.parent.mkdir()
    assert (
        main(
            [
                "match",
                "--fences",
                FENCES,
                "--pings",
                str(pings),
                "--on-error",
                "reject",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "401 pings read, 1 rejected" in err
    rejected = out.parent / "in.rejected.csv"
    assert rejected.exists() and "not a time" in rejected.read_text(encoding="utf-8")


def test_unknown_output_suffix_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["match", "--fences", FENCES, "--pings", PINGS, "--out", "hits.xlsx"])
    assert code == 2 and "name it .csv or .parquet" in capsys.readouterr().err


@pytest.mark.slow
def test_match_streams_a_file_several_times_larger_than_its_address_space(
    tmp_path: Path,
) -> None:
    """2.6 GB of pings matched by a process limited to 800 MB of address space.

    (800 MB: numpy, scipy, shapely, pyproj and numba with its LLVM take about 600 MB
    of address space before any data is read.)
    """
    limit = 800 * 1024 * 1024
    note = "x" * 950
    far = f"P{{}},2022-05-01T10:00:00+08:00,116.50,40.20,15,gps,{note}\n"
    near = f"R{{}},2022-05-01T10:00:00+08:00,116.33,40.07,15,gps,{note}\n"  # in F-sealed-1
    block = "".join((near if i == 0 else far).format(i % 7) for i in range(1000))
    path = tmp_path / "big.csv"
    repeats = 2_600
    with path.open("w", encoding="utf-8") as handle:
        handle.write("person_id,t,lon,lat,accuracy_m,source,note\n")
        for _ in range(repeats):
            handle.write(block)
    size = path.stat().st_size
    assert size > 3 * limit

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = tmp_path / "hits.csv"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fencecheck",
            "match",
            "--fences",
            FENCES,
            "--pings",
            str(path),
            "--engine",
            "python",
            "--chunk-rows",
            "20000",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"{repeats * 1000:,} pings read, 0 rejected, {repeats:,} hits" in result.stderr
    with out.open(encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == repeats + 1
    # the same file does not fit when read whole: the limit is real
    whole = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pathlib, sys; pathlib.Path(sys.argv[1]).read_text()",
            str(path),
        ],
        capture_output=True,
        text=True,
        preexec_fn=cap,
        check=False,
    )
    assert whole.returncode != 0 and "MemoryError" in whole.stderr
