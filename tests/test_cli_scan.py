"""fencecheck scan: the tables on disk, regrouping by person, sorted input, and memory."""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import fencecheck as fc
from fencecheck.cli import main

from support import SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _scan(out: Path, *extra: str, pings: str = PINGS) -> int:
    return main(["scan", "--fences", FENCES, "--pings", pings, "--out", str(out), *extra])


def test_scan_writes_four_tables_and_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _scan(tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "fences.csv", "people.csv", "timeline.csv", "whatif.csv",
    ]  # fmt: skip
    assert "400 rows read, 400 pings of 8 people used, 0 rejected" in err
    assert "exposed 2, passed_through 1, false_trigger 4, not_flagged 1" in err
    assert "min_dwell_10min" in err
    people = {r["person_id"]: r["verdict"] for r in _rows(tmp_path / "out" / "people.csv")}
    index = fc.FenceIndex.build(fc.read_fences(FENCES))
    explained = fc.explain(fc.read_pings(PINGS), index)
    assert people == {
        e.person_id: ("not_flagged" if e.verdict == "unexplained" else e.verdict) for e in explained
    }


def test_regrouping_by_person_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _scan(tmp_path / "whole") == 0
    assert _scan(tmp_path / "spilled", "--batch-rows", "30", "--chunk-rows", "70") == 0
    assert "regrouped by person in temporary files" in capsys.readouterr().err
    for name in ("people", "fences", "timeline", "whatif"):
        whole = (tmp_path / "whole" / f"{name}.csv").read_text(encoding="utf-8")
        assert (tmp_path / "spilled" / f"{name}.csv").read_text(encoding="utf-8") == whole


def test_sorted_input_is_read_as_it_comes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    header, body = lines[0], lines[1:]
    ordered = tmp_path / "sorted.csv"
    ordered.write_text("\n".join([header, *sorted(body)]) + "\n", encoding="utf-8")
    assert _scan(tmp_path / "a", pings=str(ordered)) == 0
    assert _scan(tmp_path / "b", "--sorted-by-person", "--batch-rows", "40", "--chunk-rows", "30",
                 pings=str(ordered)) == 0  # fmt: skip
    # batches smaller than one person's pings: that person makes a batch alone
    assert _scan(tmp_path / "c", "--sorted-by-person", "--batch-rows", "5", "--chunk-rows", "7",
                 pings=str(ordered)) == 0  # fmt: skip
    for name in ("people", "fences", "whatif"):
        a = (tmp_path / "a" / f"{name}.csv").read_text(encoding="utf-8")
        assert (tmp_path / "b" / f"{name}.csv").read_text(encoding="utf-8") == a
        assert (tmp_path / "c" / f"{name}.csv").read_text(encoding="utf-8") == a
    # a person who comes back after another began: refused, naming the row
    mixed = tmp_path / "mixed.csv"
    body = sorted(body)
    mixed.write_text("\n".join([header, *body[:100], *body[-5:], *body[100:-5]]) + "\n", "utf-8")
    capsys.readouterr()
    code = _scan(tmp_path / "d", "--sorted-by-person", pings=str(mixed))
    err = capsys.readouterr().err
    assert code == 1
    assert "row " in err and "not grouped by person" in err and "Traceback" not in err


def test_scan_needs_an_output_folder(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["scan", "--fences", FENCES, "--pings", PINGS])
    assert stop.value.code == 2
    assert "--out" in capsys.readouterr().err


def test_parquet_tables(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    assert _scan(tmp_path / "pq", "--out-format", "parquet") == 0
    table = pq.read_table(tmp_path / "pq" / "people.parquet")
    assert str(table.schema.field("entry").type) == "timestamp[ms, tz=UTC]"
    assert table.num_rows == 8


@pytest.mark.slow
def test_scan_regroups_a_file_several_times_larger_than_its_address_space(
    tmp_path: Path,
) -> None:
    """2.6 GB of pings of 5,000 people scanned by a process limited to 800 MB."""
    limit = 800 * 1024 * 1024
    note = "x" * 3950
    far = f"P{{}},2022-05-01T10:{{:02d}}:00+08:00,116.50,40.20,15,gps,{note}\n"
    near = f"R{{}},2022-05-01T10:{{:02d}}:00+08:00,116.33,40.07,15,gps,{note}\n"  # F-sealed-1
    path = tmp_path / "big.csv"
    repeats = 650
    with path.open("w", encoding="utf-8") as handle:
        handle.write("person_id,t,lon,lat,accuracy_m,source,note\n")
        for r in range(repeats):
            handle.write(
                "".join(
                    (near if i % 250 == 0 else far).format(i + 1000 * (r % 5), r % 60)
                    for i in range(1000)
                )
            )
    assert path.stat().st_size > 3 * limit

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    out = tmp_path / "tables"
    command = [sys.executable, "-m", "fencecheck", "scan", "--fences", FENCES, "--pings",
               str(path), "--engine", "python", "--chunk-rows", "20000", "--batch-rows",
               "150000", "--out", str(out), "--mode", "point"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, preexec_fn=cap, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "650,000 rows read, 650,000 pings of 5,000 people used, 0 rejected" in result.stderr
    assert "regrouped by person in temporary files" in result.stderr
    people = _rows(out / "people.csv")
    flagged = [r for r in people if r["verdict"] != "not_flagged"]
    # R0, R250, R500, ... (20 people) stood in F-sealed-1 all morning: exposed there
    assert len(flagged) == 20 and {r["verdict"] for r in flagged} == {"exposed"}
    fences = {r["fence_id"]: r for r in _rows(out / "fences.csv")}
    assert fences["F-sealed-1"]["exposed"] == "20"


def test_a_bad_at_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _scan(tmp_path / "x", "--at", "yesterday-ish") == 2
    err = capsys.readouterr().err
    assert "at:" in err and "Traceback" not in err


def test_rows_read_are_rows_used_plus_rows_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    lines = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines[:50], "X,not-a-time,116.3,40.0"]) + "\n", "utf-8")
    assert _scan(tmp_path / "out", "--on-error", "reject", pings=str(bad)) == 0
    err = capsys.readouterr().err
    assert "50 rows read, 49 pings of" in err and "1 rejected" in err
    assert (tmp_path / "out" / "bad.rejected.csv").exists()
