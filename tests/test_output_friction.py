"""Everyday friction: CSV for Excel, thresholds as flags, progress bars, a tidy README."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.errors import MissingDependencyError
from fencecheck.rejected import Rejected

from support import REPO, SAMPLES

pd = pytest.importorskip("pandas")

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")
BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(FENCES))


@pytest.fixture(scope="module")
def pings() -> fc.PingTable:
    return fc.read_pings(PINGS)


# -- 1. Excel: UTF-8 with a byte-order mark, only when asked ------------------------------------


def _same_frame(plain: Path, excel: Path) -> None:
    assert not plain.read_bytes().startswith(BOM)
    assert excel.read_bytes().startswith(BOM)
    assert not excel.read_bytes()[3:].startswith(BOM)  # one mark, not two
    assert excel.read_bytes()[3:] == plain.read_bytes()
    expected = pd.read_csv(plain, dtype=str, keep_default_na=False)
    got = pd.read_csv(excel, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(got, expected)
    assert list(got.columns) == list(expected.columns)  # no "\ufeffping" header


def test_match_excel_writes_a_bom_and_the_same_table(tmp_path: Path) -> None:
    plain, excel = tmp_path / "hits.csv", tmp_path / "hits-excel.csv"
    base = ["match", "--fences", FENCES, "--pings", PINGS, "--mode", "disc"]
    assert main([*base, "--out", str(plain)]) == 0
    assert main([*base, "--out", str(excel), "--excel"]) == 0
    _same_frame(plain, excel)
    assert len(pd.read_csv(excel, encoding="utf-8-sig")) > 0


def test_match_excel_to_stdout_starts_with_the_mark(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["match", "--fences", FENCES, "--pings", PINGS, "--excel"]) == 0
    out = capsysbinary.readouterr().out
    assert out.startswith(BOM + b"ping,person_id,")


def test_scan_excel_writes_every_table_with_a_bom(tmp_path: Path) -> None:
    base = ["scan", "--fences", FENCES, "--pings", PINGS]
    assert main([*base, "--out", str(tmp_path / "plain")]) == 0
    assert main([*base, "--out", str(tmp_path / "excel"), "--excel"]) == 0
    for name in ("people", "fences", "timeline", "whatif"):
        _same_frame(tmp_path / "plain" / f"{name}.csv", tmp_path / "excel" / f"{name}.csv")


def test_companions_excel(tmp_path: Path) -> None:
    base = ["companions", "--pings", PINGS, "--cases", str(SAMPLES / "cases.csv")]
    assert main([*base, "--out", str(tmp_path / "pairs.csv")]) == 0
    assert main([*base, "--out", str(tmp_path / "pairs-x.csv"), "--excel"]) == 0
    _same_frame(tmp_path / "pairs.csv", tmp_path / "pairs-x.csv")


def test_validate_excel_writes_rejected_rows_with_a_bom(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "person_id,t,lon,lat\n张三,2022-05-01T08:00:00,116.4,39.9\n李四,notatime,116.4,39.9\n",
        encoding="utf-8",
    )
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    base = ["validate", "--pings", str(bad), "--on-error", "reject"]
    assert main([*base, "--rejected", str(plain)]) == 0
    assert main([*base, "--rejected", str(excel), "--excel"]) == 0
    _same_frame(plain, excel)
    assert pd.read_csv(excel, encoding="utf-8-sig")["id"].tolist() == ["李四"]


def test_library_writers_take_excel(
    tmp_path: Path, pings: fc.PingTable, index: fc.FenceIndex
) -> None:
    result = fc.scan(pings, index)
    result.write(tmp_path / "plain")
    written = result.write(tmp_path / "excel", excel=True)
    assert all(Path(path).read_bytes().startswith(BOM) for path in written)
    _same_frame(tmp_path / "plain" / "people.csv", tmp_path / "excel" / "people.csv")
    rejected = Rejected.from_records([(3, "王五", "lat", "lat is outside [-90, 90]", "95")])
    rejected.to_csv(tmp_path / "r.csv")
    rejected.to_csv(tmp_path / "r-x.csv", excel=True)
    _same_frame(tmp_path / "r.csv", tmp_path / "r-x.csv")


# -- 2. Thresholds on the command line -----------------------------------------------------------


def _explain_json(*extra: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "fencecheck", "explain", "--fences", FENCES, "--pings", PINGS,
         "--format", "json", "--person", "P07", "--lang", "en", *extra],
        capture_output=True, text=True, check=False, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_min_dwell_turns_a_23_minute_stay_into_a_passage() -> None:
    default = _explain_json()
    longer = _explain_json("--min-dwell", "60min")
    assert default["verdict"] == "exposed"
    assert longer["verdict"] == "passed_through"
    assert default["policy"] == {
        "min_dwell_s": 600.0, "credible_p": 0.9, "close_m": 100.0, "min_together_s": 600.0
    }  # fmt: skip
    assert longer["policy"]["min_dwell_s"] == 3600.0  # type: ignore[index]
    # The text says the thresholds when they are not the defaults, in both languages.
    assert "Thresholds used" not in str(default["text_en"])
    assert "a stay is at least 1 h 0 min (default 10 minutes)" in str(longer["text_en"])
    assert "停留至少 1 小时 0 分钟（默认 10 分钟）" in str(longer["text_zh"])


def test_policy_file_toml_and_json_and_flags_win(tmp_path: Path) -> None:
    toml = tmp_path / "policy.toml"
    toml.write_text('credible_p = 0.5\nmin_dwell_s = "60min"\n', encoding="utf-8")
    doc = _explain_json("--policy", str(toml))
    assert doc["policy"]["credible_p"] == 0.5  # type: ignore[index]
    assert doc["policy"]["min_dwell_s"] == 3600.0  # type: ignore[index]
    assert doc["verdict"] == "passed_through"
    assert "p_inside of at least 0.50 (default 0.90)" in str(doc["text_en"])
    # A flag wins over the file.
    won = _explain_json("--policy", str(toml), "--min-dwell", "5min", "--credible", "0.8")
    assert won["policy"]["min_dwell_s"] == 300.0  # type: ignore[index]
    assert won["policy"]["credible_p"] == 0.8  # type: ignore[index]
    assert won["verdict"] == "exposed"
    as_json = tmp_path / "policy.json"
    as_json.write_text(json.dumps({"min_dwell_s": 3600}), encoding="utf-8")
    assert _explain_json("--policy", str(as_json))["verdict"] == "passed_through"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            "min_dwel_s = 60\n",
            "p.toml",
            "unknown key 'min_dwel_s'; known fields: gap_s, min_dwell_s",
        ),
        ("credible_p = 1.5\n", "p.toml", "credible_p: 1.5 must be at most 1"),
        ('min_dwell_s = "soon"\n', "p.toml", "min_dwell_s: 'soon' is not a duration"),
        ("credible_p = true\n", "p.toml", "credible_p: True must be"),
        ("credible_p = 0\n", "p.toml", "credible_p: 0 is not a probability"),
        ("min_dwell_s = \n", "p.toml", "not valid TOML"),
        ("[1, 2]", "p.json", "expected a table"),
        ("min_dwell_s: 60", "p.yaml", "name it .toml or .json"),
    ],
)
def test_bad_policy_files_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, name: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code = main(["explain", "--fences", FENCES, "--pings", PINGS, "--policy", str(path)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--policy {path}" in err and message in err, err


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--credible", "0", "--credible: '0' is not a probability in (0, 1]"),
        ("--credible", "1.2", "--credible: '1.2' is not a probability"),
        ("--credible", "high", "--credible: 'high' is not a probability"),
        ("--min-dwell", "ten", "--min-dwell: 'ten' is not a duration"),
    ],
)
def test_bad_policy_flags_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    out = tmp_path / "tables"
    for command in (["explain"], ["scan", "--out", str(out)]):
        code = main([*command, "--fences", FENCES, "--pings", PINGS, flag, value])
        assert code == 2
        assert message in capsys.readouterr().err
    assert not out.exists()


def test_scan_takes_the_policy_and_says_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["scan", "--fences", FENCES, "--pings", PINGS]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert "; policy" not in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "b"), "--min-dwell", "60min"]) == 0
    assert "; policy min_dwell_s 3600" in capsys.readouterr().err
    a = pd.read_csv(tmp_path / "a" / "people.csv", dtype=str).set_index("person_id")
    b = pd.read_csv(tmp_path / "b" / "people.csv", dtype=str).set_index("person_id")
    assert a.loc["P07", "verdict"] == "exposed" and b.loc["P07", "verdict"] == "passed_through"


# -- 3. Progress in Python and on the command line -------------------------------------------------


def test_progress_true_draws_a_tqdm_bar(
    capsys: pytest.CaptureFixture[str], pings: fc.PingTable, index: fc.FenceIndex
) -> None:
    pytest.importorskip("tqdm")
    plain = fc.scan(pings, index)
    assert capsys.readouterr().err == ""
    result = fc.scan(pings, index, progress=True)
    err = capsys.readouterr().err
    assert re.search(r"scan: 100%\|.*\| 400/400", err), err
    assert result.people["verdict"].tolist() == plain.people["verdict"].tolist()
    explained = fc.explain(pings, index, progress=True, track=False)
    err = capsys.readouterr().err
    assert re.search(rf"explain: 100%\|.*\| {len(explained)}/{len(explained)}", err), err
    fc.scan_file(PINGS, index, progress=True, batch_rows=100)
    err = capsys.readouterr().err
    assert "400/400" in err and "400 rows read" in err, err


def test_progress_callable_gets_lines(pings: fc.PingTable, index: fc.FenceIndex) -> None:
    lines: list[str] = []
    fc.explain(pings, index, person=["P02", "P07"], progress=lines.append)
    assert lines == ["1 of 2 people explained", "2 of 2 people explained"]
    lines.clear()
    fc.scan(pings, index, progress=lines.append)
    assert lines == ["400 of 400 pings judged"]
    with pytest.raises(fc.FenceCheckError, match="progress: 'yes' is not True"):
        fc.scan(pings, index, progress="yes")  # type: ignore[arg-type]


def test_progress_without_tqdm_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, pings: fc.PingTable, index: fc.FenceIndex
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    for call in (
        lambda: fc.scan(pings, index, progress=True),
        lambda: fc.explain(pings, index, progress=True),
        lambda: fc.scan_file(PINGS, index, progress=True),
    ):
        with pytest.raises(MissingDependencyError, match=r"fencecheck\[progress\]"):
            call()
    fc.scan(pings, index, progress=False)  # no bar asked: no tqdm needed


def test_explain_progress_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["explain", "--fences", FENCES, "--pings", PINGS, "--format", "json"]
    assert main([*base, "--progress", "always"]) == 0
    captured = capsys.readouterr()
    assert "8 of 8 people explained" in captured.err
    assert len(captured.out.splitlines()) == 8  # stdout stays JSON Lines
    assert main([*base, "--progress", "never"]) == 0
    assert "people explained" not in capsys.readouterr().err.replace("8 people explained:", "")


def test_the_progress_extra_is_declared() -> None:
    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert extras["progress"] == ["tqdm>=4.66"]
    for extra in ("all", "test"):
        assert any(re.search(r"fencecheck\[.*\bprogress\b", x) for x in extras[extra]), extra


# -- 4. The README's tour writes nothing into the repository ---------------------------------------


def test_readme_tour_writes_outside_the_repository(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    tour = readme.split("## A tour in Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert "mkdtemp" in tour
    # big.parquet stands for the reader's own file: leave that line out.
    code = "\n".join(line for line in tour.splitlines() if "big.parquet" not in line)
    before = sorted(p.name for p in REPO.iterdir())
    env = {**os.environ, "PYTHONWARNINGS": "error::DeprecationWarning"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "P02" in done.stdout
    assert sorted(p.name for p in REPO.iterdir()) == before


def test_a_scan_warns_when_the_datums_seem_mixed_up(tmp_path: Path) -> None:
    """GCJ-02 fences read as WGS-84: several people's pop-ups are then only datum shifts."""
    fences = fc.read_fences(SAMPLES / "fences.geojson")
    pings = fc.read_pings(SAMPLES / "pings.csv")
    assert fc.scan(pings, fc.FenceIndex.build(fences)).datum_warning() is None
    path = tmp_path / "gcj.geojson"
    fc.write_fences(fences, path, datum="gcj02")
    wrong = fc.scan(pings, fc.FenceIndex.build(fc.read_fences(path)))  # read as WGS-84
    warning = wrong.datum_warning()
    assert warning is not None and warning.startswith("3 of 6 flagged people")
    assert f"warning: {warning}" in wrong.summary()
    right = fc.scan(pings, fc.FenceIndex.build(fc.read_fences(path, datum="gcj02")))
    assert right.datum_warning() is None
