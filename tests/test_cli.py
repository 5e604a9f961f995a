"""The command line: help, version, validate, exit codes and one-line errors."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from fencecheck import __version__
from fencecheck.cli import main

from support import SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"fencecheck {__version__}"
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "validate" in capsys.readouterr().out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([], capsys)
    assert code == 2 and "usage:" in err


def test_validate_samples_reports_counts_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["validate", "--fences", FENCES, "--pings", PINGS], capsys)
    assert code == 0 and out == ""
    assert "7 features read, 7 fences" in err
    assert "400 rows read, 400 pings of 8 people, 0 rejected" in err
    assert "naive times in Asia/Shanghai" in err


def test_bad_row_under_raise_is_one_line_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pings = tmp_path / "pings.csv"
    pings.write_text(
        "person_id,t,lon,lat\nA,2022-05-01T08:00:00+08:00,116.4,39.9\nB,yesterday,116.4,39.9\n",
        encoding="utf-8",
    )
    code, out, err = run(["validate", "--pings", str(pings)], capsys)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        f"fencecheck: error: {pings}: row 1: t: "
        "'yesterday' is not an ISO 8601 time or an epoch number"
    )


def test_reject_writes_the_rejected_rows_and_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pings = tmp_path / "pings.csv"
    pings.write_text(
        "person_id,t,lon,lat,accuracy_m\nA,2022-05-01T08:00:00+08:00,116.4,39.9,10\n"
        "B,2022-05-01T08:00:00+08:00,39.9,116.4,10\n"
        "C,2022-05-01T08:00:00+08:00,116.4,39.9,-3\n",
        encoding="utf-8",
    )
    rejected = tmp_path / "rejected.csv"
    code, _, err = run(
        ["validate", "--pings", str(pings), "--on-error", "reject", "--rejected", str(rejected)],
        capsys,
    )
    assert code == 0
    assert "3 rows read, 1 ping of 1 person, 2 rejected" in err
    assert f"reasons written to {rejected}" in err
    with rejected.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["row"], r["id"], r["field"]) for r in rows] == [
        ("1", "B", "lat"),
        ("2", "C", "accuracy_m"),
    ]
    assert "look swapped" in rows[0]["reason"]


def test_default_rejected_path_is_in_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = tmp_path / "in" / "day1.csv"
    pings.parent.mkdir()
    pings.write_text("person_id,t,lon,lat\nA,never,116.4,39.9\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["validate", "--pings", str(pings), "--on-error", "reject"], capsys)
    assert code == 0
    assert (tmp_path / "day1.rejected.csv").exists()
    assert "day1.rejected.csv" in err


def test_invalid_fence_raise_and_repair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bowtie = tmp_path / "bowtie.geojson"
    bowtie.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"id": "B1", "start": "2022-05-01"}, "geometry": {"type": "Polygon", "coordinates": '
        "[[[116.40, 39.90], [116.41, 39.91], [116.41, 39.90], [116.40, 39.91], [116.40, 39.90]]]"
        "}}]}",
        encoding="utf-8",
    )
    code, _, err = run(["validate", "--fences", str(bowtie)], capsys)
    assert code == 1
    assert f"error: {bowtie}: feature B1: geometry: invalid polygon (Self-intersection" in err
    code, _, err = run(["validate", "--fences", str(bowtie), "--invalid", "repair"], capsys)
    assert code == 0 and "1 repaired" in err and "repaired fence B1: Self-intersection" in err


def test_option_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["validate", "--pings", PINGS, "--tz", "Mars/Olympus"], capsys)
    assert code == 2 and "'Mars/Olympus' is not a known time zone" in err
    with pytest.raises(SystemExit) as info:
        main(["validate", "--pings", PINGS, "--ping-datum", "mars"])
    assert info.value.code == 2
    code, _, err = run(["validate", "--pings", PINGS, "--column", "lng"], capsys)
    assert code == 2 and "'lng' is not NAME=FIELD" in err


def test_missing_file_is_a_data_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["validate", "--fences", "nowhere.geojson"], capsys)
    assert code == 1 and err.strip() == "fencecheck: error: nowhere.geojson: no such file"


def test_console_script_never_shows_a_traceback(tmp_path: Path) -> None:
    pings = tmp_path / "gbk.csv"
    pings.write_bytes("person_id,t,lon,lat\n张三,2022-05-01 08:00,116.4,39.9\n".encode("gb18030"))
    result = subprocess.run(
        [sys.executable, "-m", "fencecheck", "validate", "--pings", str(pings)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "--encoding gb18030" in result.stderr
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "fencecheck",
            "validate",
            "--pings",
            str(pings),
            "--encoding",
            "gb18030",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "1 ping of 1 person" in ok.stderr
