"""Privacy (docs/privacy.md): pseudonyms, no coordinates in messages, private temporary files."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

import fencecheck as fc
from fencecheck import privacy
from fencecheck.cli import main
from fencecheck.errors import FenceDataError, OptionError, PingDataError
from fencecheck.fences import build_fences
from fencecheck.io.partition import PersonPartitions, private_folder, regroup
from fencecheck.privacy import load_key, pseudonymize, pseudonymize_table
from fencecheck.tables import Table

from support import REPO, SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")
CASES = str(SAMPLES / "cases.csv")
KEY = "a test key, long enough: 0123456789"
HEX64 = re.compile(r"[0-9a-f]{64}")
POSIX = os.name == "posix"


def reference(person_id: str, key: str = KEY) -> str:
    return hmac.new(key.encode("utf-8"), person_id.encode("utf-8"), hashlib.sha256).hexdigest()


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path: Path | str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# -- the pseudonym API ---------------------------------------------------------------------------


def test_pseudonym_is_the_full_hmac_sha256_hex_of_the_utf8_id() -> None:
    ids = ["001", "P02", "张三", "001", "a,b"]
    out = pseudonymize(np.array(ids, dtype=object), KEY)
    assert isinstance(out, np.ndarray) and out.dtype == object and out.shape == (5,)
    assert out.tolist() == [reference(i) for i in ids]
    assert all(HEX64.fullmatch(p) for p in out)
    # scalar in, scalar out; lists, str arrays and bytes keys give the same
    assert pseudonymize("张三", KEY) == reference("张三")
    assert pseudonymize(ids, KEY.encode()).tolist() == out.tolist()
    assert pseudonymize(np.array(ids), KEY).tolist() == out.tolist()
    # another key, other pseudonyms; the same key, the same ones
    other = pseudonymize(ids, KEY + "!")
    assert not set(other.tolist()) & set(out.tolist())
    assert pseudonymize(ids, KEY).tolist() == out.tolist()


def test_pseudonymize_keeps_missing_and_empty_ids_and_takes_pandas() -> None:
    pd = pytest.importorskip("pandas")
    out = pseudonymize(pd.Series(["x", None, "", float("nan"), "x"]), KEY)
    assert out[0] == out[4] == reference("x")
    assert pd.isna(out[1]) and out[2] == "" and pd.isna(out[3])
    out = pseudonymize(np.array(["x", None, ""], dtype=object), KEY)
    assert out[0] == reference("x") and out[1] is None and out[2] == ""
    assert pseudonymize([], KEY).shape == (0,)


def test_each_distinct_id_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = privacy._digest

    def counting(keyed: Any, value: str) -> str:
        calls.append(value)
        return real(keyed, value)

    monkeypatch.setattr(privacy, "_digest", counting)
    ids = np.array(["b", "a", "b", "c", "a"] * 1000, dtype=object)
    out = pseudonymize(ids, KEY)
    assert sorted(calls) == ["a", "b", "c"]
    assert out[0] == reference("b") and out[1] == reference("a")


@pytest.mark.parametrize(("key", "words"), [("", "is empty"), ("x" * 15, "is 15 bytes")])
def test_empty_and_short_keys_are_refused_and_never_shown(key: str, words: str) -> None:
    with pytest.raises(OptionError) as info:
        pseudonymize(["001"], key)
    message = str(info.value)
    assert words in message and "secrets.token_hex" in message
    if key:
        assert "at least 16 bytes" in message and key not in message
    assert len(pseudonymize(["001"], "x" * 16)[0]) == 64


def test_load_key_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert load_key(environ={"FENCECHECK_KEY": KEY}) == KEY.encode()
    keyfile = tmp_path / "key"
    keyfile.write_bytes(KEY.encode() + b"\n")  # one trailing line break is not the key
    assert load_key(keyfile, environ={}) == KEY.encode()
    keyfile.write_bytes(KEY.encode() + b"\r\n")
    assert load_key(keyfile) == KEY.encode()
    # the file wins over the environment
    assert load_key(keyfile, environ={"FENCECHECK_KEY": "another key of 16+ bytes"}) == KEY.encode()
    with pytest.raises(OptionError, match="no pseudonym key: set the environment variable"):
        load_key(environ={})
    with pytest.raises(OptionError, match="cannot be read"):
        load_key(tmp_path / "absent")
    secret = "only15bytes.key"
    keyfile.write_text(secret + "\n", encoding="utf-8")
    with pytest.raises(OptionError, match="is 15 bytes") as info:
        load_key(keyfile)
    assert secret not in str(info.value)
    with pytest.raises(OptionError, match="FENCECHECK_KEY is empty"):
        load_key(environ={"FENCECHECK_KEY": ""})


def test_pseudonymize_table_maps_persons_keeps_cases_and_sorts_by_pseudonym() -> None:
    table = Table(
        {
            "person_id": np.array(["p1", "p2", "p1", "p3"], dtype=object),
            "case_id": np.array(["C1", "C1", "C2", "C2"], dtype=object),
            "n": np.array([1, 2, 3, 4]),
        }
    )
    out = pseudonymize_table(table, KEY)
    assert table["person_id"].tolist() == ["p1", "p2", "p1", "p3"]  # not changed
    got = list(zip(out["person_id"], out["case_id"], out["n"].tolist(), strict=True))
    rows = [("p1", "C1", 1), ("p2", "C1", 2), ("p1", "C2", 3), ("p3", "C2", 4)]
    want = sorted(((reference(p), c, n) for p, c, n in rows), key=lambda row: row[0])
    assert got == want  # stable: p1's two rows keep their order
    kept = pseudonymize_table(table, KEY, sort=False)
    assert kept["person_id"].tolist() == [reference(p) for p in ["p1", "p2", "p1", "p3"]]


# -- --pseudonymize on the command line --------------------------------------------------------


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FENCECHECK_KEY", KEY)
    return KEY


def test_match_writes_pseudonyms_in_csv_and_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_env: str
) -> None:
    code, plain, _ = run(["match", "--fences", FENCES, "--pings", PINGS, "--mode", "disc"], capsys)
    assert code == 0
    code, hidden, err = run(
        ["match", "--fences", FENCES, "--pings", PINGS, "--mode", "disc", "--pseudonymize",
         "--chunk-rows", "37"],
        capsys,
    )  # fmt: skip
    assert code == 0 and "person ids pseudonymized" in err
    raw_rows = list(csv.DictReader(plain.splitlines()))
    rows = list(csv.DictReader(hidden.splitlines()))
    assert len(rows) == len(raw_rows) > 0
    assert [r["person_id"] for r in rows] == [reference(r["person_id"]) for r in raw_rows]
    for a, b in zip(rows, raw_rows, strict=True):  # everything else as it was
        assert {k: v for k, v in a.items() if k != "person_id"} == {
            k: v for k, v in b.items() if k != "person_id"
        }
    raw_ids = {r["person_id"] for r in raw_rows}
    assert not any(pid in hidden for pid in raw_ids if len(pid) > 2)
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "hits.parquet"
    assert main(["match", "--fences", FENCES, "--pings", PINGS, "--mode", "disc",
                 "--pseudonymize", "--out", str(out)]) == 0  # fmt: skip
    table = pq.read_table(out)
    assert table.column("person_id").to_pylist() == [reference(r["person_id"]) for r in raw_rows]


def test_scan_and_companions_write_pseudonyms_that_join(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_env: str
) -> None:
    for name, extra in (("plain", []), ("hidden", ["--pseudonymize"])):
        code, _, err = run(
            ["scan", "--fences", FENCES, "--pings", PINGS, "--cases", CASES,
             "--out", str(tmp_path / name), *extra],
            capsys,
        )  # fmt: skip
        assert code == 0
    assert "person ids pseudonymized" in err
    plain = read_csv(tmp_path / "plain" / "people.csv")
    hidden = read_csv(tmp_path / "hidden" / "people.csv")
    assert [r["person_id"] for r in hidden] == sorted(r["person_id"] for r in hidden)
    by_pseudonym = {reference(r["person_id"]): r for r in plain}
    assert {r["person_id"] for r in hidden} == set(by_pseudonym)
    for row in hidden:
        assert {k: v for k, v in row.items() if k != "person_id"} == {
            k: v for k, v in by_pseudonym[row["person_id"]].items() if k != "person_id"
        }
    assert any(r["case_id"] for r in hidden)  # case ids are kept
    for table in ("fences", "whatif", "timeline", "cases"):  # tables without persons: unchanged
        assert (tmp_path / "hidden" / f"{table}.csv").read_text(encoding="utf-8") == (
            tmp_path / "plain" / f"{table}.csv"
        ).read_text(encoding="utf-8")
    # companions, with the same key: the same pseudonyms, so the tables join
    code, out, err = run(
        ["companions", "--pings", PINGS, "--cases", CASES, "--pseudonymize"], capsys
    )
    assert code == 0 and "person ids pseudonymized (case ids kept)" in err
    pairs = list(csv.DictReader(out.splitlines()))
    assert pairs and all(HEX64.fullmatch(p["person_id"]) for p in pairs)
    assert {p["case_id"] for p in pairs} <= {"C01", "C02", "C03"}
    assert {p["person_id"] for p in pairs} <= {r["person_id"] for r in hidden}


def test_key_file_gives_the_same_pseudonyms_as_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["companions", "--pings", PINGS, "--cases", CASES, "--pseudonymize"]
    monkeypatch.setenv("FENCECHECK_KEY", KEY)
    code, by_env, _ = run(args, capsys)
    assert code == 0
    monkeypatch.delenv("FENCECHECK_KEY")
    keyfile = tmp_path / "key"
    keyfile.write_text(KEY + "\n", encoding="utf-8")
    code, by_file, _ = run([*args, "--key-file", str(keyfile)], capsys)
    assert code == 0 and by_file == by_env


@pytest.mark.parametrize("command", ["match", "scan", "companions"])
def test_no_key_short_key_and_a_key_flag_are_usage_errors(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inputs = {
        "match": ["--fences", FENCES, "--pings", PINGS],
        "scan": ["--fences", FENCES, "--pings", PINGS, "--out", str(tmp_path / "o")],
        "companions": ["--pings", PINGS, "--cases", CASES],
    }[command]
    monkeypatch.delenv("FENCECHECK_KEY", raising=False)
    code, out, err = run([command, *inputs, "--pseudonymize"], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "no pseudonym key" in lines[0] and "FENCECHECK_KEY" in lines[0]
    assert not (tmp_path / "o").exists()  # refused before any work
    monkeypatch.setenv("FENCECHECK_KEY", "sesame-1234")
    code, _, err = run([command, *inputs, "--pseudonymize"], capsys)
    assert code == 2 and "is 11 bytes" in err and "sesame-1234" not in err
    # there is no --key flag: refused without echoing the key
    with pytest.raises(SystemExit) as stop:
        main([command, *inputs, "--pseudonymize", "--key", "opensesame-0123456789"])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "there is no --key option" in err
    assert "opensesame" not in err
    code, _, err = run([command, *inputs, "--key-file", str(tmp_path / "k")], capsys)
    assert code == 2 and "only used with --pseudonymize" in err


def test_explain_has_no_pseudonymize_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["explain", "--fences", FENCES, "--pings", PINGS, "--pseudonymize"])
    assert stop.value.code == 2


def test_rejected_rows_stay_raw_and_the_summary_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key_env: str
) -> None:
    pings = tmp_path / "p.csv"
    pings.write_text(
        "person_id,t,lon,lat\nalice-01,2022-05-01 08:00,116.4,39.9\n"
        "bob-02,2022-05-01 08:00,116.4,95.5\n",
        encoding="utf-8",
    )
    rejected = tmp_path / "r.csv"
    code, _, err = run(
        ["match", "--fences", FENCES, "--pings", str(pings), "--on-error", "reject",
         "--rejected", str(rejected), "--pseudonymize"],
        capsys,
    )  # fmt: skip
    assert code == 0
    [row] = read_csv(rejected)
    assert row["id"] == "bob-02" and row["field"] == "lat"  # the file holds the raw row
    assert "not pseudonymized" in err
    assert "bob-02" not in err and reference("bob-02") in err  # stderr shows the pseudonym


# -- no coordinates in messages ----------------------------------------------------------------

GOOD = ["P01", "2022-05-01T08:00:00+08:00", "116.3356789", "40.0767891", "12", "gps"]
# (column, planted value, field): each a bad value; the other columns hold planted coordinates
BAD_PINGS = {
    "lon out of range": (2, "200.3912345", "lon"),
    "lat out of range": (3, "95.1234567", "lat"),
    "lat NaN": (3, "NaN", "lat"),
    "lat not a number": (3, "39.9123456x", "lat"),
    "lon infinite": (2, "inf", "lon"),
    "swapped": (None, None, "lat"),
    "accuracy negative": (4, "-12.3456789", "accuracy_m"),
    "accuracy text": (4, "37.7654321m", "accuracy_m"),
}
PLANTED = ["200.3912345", "95.1234567", "39.9123456", "116.3912345", "39.9234567", "116.4234567",
           "12.3456789", "37.7654321", "116.3356789", "40.0767891", "40.0791234"]  # fmt: skip
PLANTED_FENCE = ["116.3812345", "39.9812345", "116.3923456", "39.9923456", "200.5551234",
                 "39.9551234", "2.3512345", "48.8612345", "116.4678901"]  # fmt: skip


def _bad_row(kind: str) -> list[str]:
    column, value, _ = BAD_PINGS[kind]
    row = ["P02", GOOD[1], "116.3912345", "40.0791234", "25", "wifi"]
    if column is None:  # lon and lat swapped
        row[2], row[3] = "39.9234567", "116.4234567"
    else:
        row[column] = value
        if column == 3:
            row[2] = "116.3912345"
    return row


def _no_planted(text: str, planted: list[str] = PLANTED) -> None:
    for number in planted:
        # the value itself, and its digits after the point (a reformatted or rounded value)
        assert number not in text, (number, text)
        assert number.split(".")[1][:5] not in text, (number, text)
    # nor any other coordinate made from them (GEOS's "Self-intersection[116.38678 39.98678]")
    assert not re.search(r"\d\.\d{4,}", text), text


def _ping_file(path: Path, rows: list[list[str]]) -> Path:
    header = "person_id,t,lon,lat,accuracy_m,source"
    path.write_text("\n".join([header, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", sorted(BAD_PINGS))
@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_a_bad_ping_is_named_by_row_and_field_never_by_coordinates(
    kind: str, datum: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _ping_file(tmp_path / "p.csv", [GOOD, _bad_row(kind), GOOD])
    field = BAD_PINGS[kind][2]
    # the Python API, raise
    with pytest.raises(PingDataError) as info:
        fc.read_pings(path, datum=datum)
    assert (info.value.row, info.value.field) == (1, field)
    _no_planted(str(info.value))
    # the Python API, reject: the reason names the field; the raw value stays in `value`
    table = fc.read_pings(path, datum=datum, on_error="reject")
    [(row, _, got_field, reason, value)] = table.rejected.records()
    assert (row, got_field) == (1, field)
    _no_planted(reason)
    if BAD_PINGS[kind][1] not in (None, "NaN", "inf"):
        assert value == BAD_PINGS[kind][1]
    # the command line, raise and reject, through every command that reads pings
    for command in ("validate", "match", "scan"):
        args = [command, "--pings", str(path), "--ping-datum", datum]
        if command != "validate":
            args += ["--fences", FENCES]
        if command == "scan":
            args += ["--out", str(tmp_path / "scan")]
        code, _, err = run(args, capsys)
        assert code == 1 and f"row 1: {field}: " in err, err
        _no_planted(err)
        rejected = tmp_path / f"{command}.rejected.csv"
        code, _, err = run([*args, "--on-error", "reject", "--rejected", str(rejected)], capsys)
        assert code == 0 and "set aside" in err
        _no_planted(err)
        [got] = read_csv(rejected)
        assert (got["row"], got["field"]) == ("1", field)
        _no_planted(got["reason"])


def test_a_file_without_header_or_with_a_ragged_row_is_not_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    headless = tmp_path / "headless.csv"
    headless.write_text(",".join(_bad_row("lat out of range")) + "\n", encoding="utf-8")
    for engine in ("arrow", "python"):
        with pytest.raises(PingDataError, match="first line that looks like data") as info:
            fc.read_pings(headless, engine=engine)
        _no_planted(str(info.value))
    ragged = _ping_file(tmp_path / "ragged.csv", [GOOD, [*_bad_row("swapped"), "extra"], GOOD])
    code, _, err = run(["validate", "--pings", str(ragged)], capsys)
    assert code == 1 and "row 1 (line 3): row: has 7 fields, the header has 6" in err
    _no_planted(err)
    rejected = tmp_path / "r.csv"
    code, _, err = run(
        ["validate", "--pings", str(ragged), "--on-error", "reject", "--rejected", str(rejected)],
        capsys,
    )
    assert code == 0
    _no_planted(err)
    [row] = read_csv(rejected)
    _no_planted(row["reason"])
    assert "116.4234567" in row["value"]  # the raw row is in the file, where it belongs


def _fence(fid: str, coordinates: Any, kind: str = "Polygon") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"id": fid, "start": "2022-05-01"},
        "geometry": {"type": kind, "coordinates": coordinates},
    }


A, B, C, D = (
    [116.3812345, 39.9812345],
    [116.3923456, 39.9923456],
    [116.3923456, 39.9812345],
    [
        116.3812345,
        39.9923456,
    ],
)
BAD_FENCES = {
    "self-intersecting": (_fence("F-bowtie", [[A, B, C, D, A]]), "Self-intersection"),
    "out of range": (
        _fence("F-range", [[A, [200.5551234, 39.9551234], C, A]]),
        "the position at coordinates[0][1] is outside",
    ),
    "swapped": (_fence("F-swap", [[A, [39.9551234, 116.4678901], C, A]]), "look swapped"),
    "not closed": (_fence("F-open", [[A, B, C, D]]), "ring is not closed"),
    "point out of range": (
        _fence("F-point", [200.5551234, 39.9551234], "Point")
        | {"properties": {"id": "F-point", "start": "2022-05-01", "buffer_m": 50}},
        "the position at coordinates is outside",
    ),
    "not a feature": ([116.3812345, 39.9812345], "not a GeoJSON Feature (a JSON array)"),
    "hole outside": (
        _fence(
            "F-hole",
            [
                [A, C, B, D, A],
                [
                    [2.3512345, 48.8612345],
                    [2.36, 48.8612345],
                    [2.36, 48.87],
                    [2.3512345, 48.8612345],
                ],
            ],
        ),
        "Hole lies outside shell on the edge from coordinates[1][",
    ),
}


def _collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


@pytest.mark.parametrize("kind", sorted(BAD_FENCES))
@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_a_bad_fence_is_named_by_feature_and_position_never_by_coordinates(
    kind: str, datum: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feature, words = BAD_FENCES[kind]
    good = _fence("F-good", [[A, C, B, D, A]])
    with pytest.raises(FenceDataError) as info:
        fc.read_fences(_collection(good, feature), datum=datum)
    assert words in str(info.value)
    _no_planted(str(info.value), PLANTED_FENCE)
    fences = fc.read_fences(_collection(good, feature), datum=datum, on_error="reject")
    assert fences.ids.tolist() == ["F-good"]
    [(row, _, _, reason, _)] = fences.rejected.records()
    assert row == 1 and words in reason
    _no_planted(reason, PLANTED_FENCE)
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(_collection(good, feature)), encoding="utf-8")
    args = ["validate", "--fences", str(path), "--fence-datum", datum]
    code, _, err = run(args, capsys)
    assert code == 1 and words in err
    _no_planted(err, PLANTED_FENCE)
    rejected = tmp_path / "rejected.csv"
    code, out, err = run([*args, "--on-error", "reject", "--rejected", str(rejected)], capsys)
    assert code == 0 and "set aside" in err
    _no_planted(err + out, PLANTED_FENCE)
    [got] = read_csv(rejected)
    assert words in got["reason"]
    _no_planted(got["reason"], PLANTED_FENCE)


def test_a_repaired_fence_is_listed_without_coordinates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(_collection(BAD_FENCES["self-intersecting"][0])), encoding="utf-8")
    code, _, err = run(["validate", "--fences", str(path), "--invalid", "repair"], capsys)
    assert code == 0
    assert "repaired fence F-bowtie: Self-intersection on the edge from coordinates[0][0]" in err
    _no_planted(err, PLANTED_FENCE)
    fences = fc.read_fences(path, invalid="repair")
    _no_planted(" ".join(fences.repaired.values()), PLANTED_FENCE)


def test_shapely_fences_out_of_range_are_named_by_position() -> None:
    polygon = shapely.Polygon([A, [200.5551234, 39.9551234], C])
    with pytest.raises(FenceDataError) as info:
        build_fences([{"id": "F1", "start": "2022-05-01", "geometry": polygon}])
    assert "geometry: position 1 of 4 is outside lon" in str(info.value)
    _no_planted(str(info.value), PLANTED_FENCE)


def test_pings_outside_china_in_gcj02_are_refused_without_coordinates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GCJ-02 is only defined over China: a ping outside is refused, naming row and field only.

    Fences outside China in GCJ-02 are still read quietly (the identity there).
    """
    pings = _ping_file(
        tmp_path / "p.csv",
        [["P09", GOOD[1], "2.3512345", "48.8612345", "10", "gps"], GOOD],
    )
    fences = tmp_path / "f.geojson"
    square = [[2.3512345, 48.8612345], [2.36, 48.8612345], [2.36, 48.87], [2.3512345, 48.87],
              [2.3512345, 48.8612345]]  # fmt: skip
    fences.write_text(json.dumps(_collection(_fence("F-paris", [square]))), encoding="utf-8")
    for command in ("validate", "match"):
        code, out, err = run(
            [command, "--fences", str(fences), "--pings", str(pings), "--fence-datum", "gcj02",
             "--ping-datum", "gcj02"],
            capsys,
        )  # fmt: skip
        assert code == 1
        assert "row 0: lon: lon/lat is outside China" in err
        _no_planted(err, PLANTED_FENCE)
        assert "2.351" not in err and "48.861" not in err
    code, out, err = run(
        ["match", "--fences", str(fences), "--pings", str(pings), "--fence-datum", "gcj02",
         "--ping-datum", "gcj02", "--on-error", "reject", "--rejected", str(tmp_path / "r.csv")],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert "P09" not in out  # refused, so no hit
    assert "2.351" not in err and "48.861" not in err


# -- temporary files ----------------------------------------------------------------------------


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tempfile's folder pointed at a fresh test folder."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def spills(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, int, list[int]]]:
    """Each spill: its folder, the folder's mode, and the modes of the files written so far."""
    seen: list[tuple[Path, int, list[int]]] = []
    real = PersonPartitions.add

    def add(self: PersonPartitions, chunk: fc.PingTable) -> None:
        real(self, chunk)
        modes = [stat.S_IMODE(p.stat().st_mode) for p in self.folder.iterdir()]
        seen.append((self.folder, stat.S_IMODE(self.folder.stat().st_mode), modes))

    monkeypatch.setattr(PersonPartitions, "add", add)
    return seen


def _late_bad_file(path: Path, rows: int = 2000, bad: int = 1900) -> Path:
    rng = np.random.default_rng(7)
    lines = []
    for k in range(rows):
        lat = "95.0" if k == bad else f"{40.06 + rng.normal(0, 0.005):.6f}"
        lon = f"{116.33 + rng.normal(0, 0.005):.6f}"
        lines.append([f"P{k % 97:03d}", str(1651363200 + 60 * k), lon, lat, "20", "gps"])
    return _ping_file(path, lines)


def test_an_error_mid_scan_leaves_no_temporary_folder(
    tmp_path: Path,
    private_tmp: Path,
    spills: list[tuple[Path, int, list[int]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _late_bad_file(tmp_path / "late.csv")
    code, _, err = run(
        ["scan", "--fences", FENCES, "--pings", str(path), "--out", str(tmp_path / "o"),
         "--batch-rows", "300", "--chunk-rows", "100", "--on-error", "raise"],
        capsys,
    )  # fmt: skip
    assert code == 1 and "row 1900: lat" in err
    assert len(spills) > 10  # it did regroup into temporary files before the bad row
    folder = spills[0][0]
    assert folder.parent == private_tmp and folder.name.startswith("fencecheck-scan-")
    if POSIX:
        assert {mode for _, mode, _ in spills} == {0o700}
        assert {m for _, _, modes in spills for m in modes} == {0o600}
    assert list(private_tmp.iterdir()) == []
    # the Python API as well
    spills.clear()
    with pytest.raises(PingDataError):
        fc.scan_file(path, fc.FenceIndex.build(fc.read_fences(FENCES)), batch_rows=300,
                     chunk_rows=100)  # fmt: skip
    assert spills and list(private_tmp.iterdir()) == []


def test_ctrl_c_while_judging_and_a_generator_closed_early_clean_up(
    private_tmp: Path, spills: list[tuple[Path, int, list[int]]]
) -> None:
    index = fc.FenceIndex.build(fc.read_fences(FENCES))

    def interrupt(line: str) -> None:
        if "judged" in line:  # a batch was judged: the folder is there, read back in part
            assert any(private_tmp.iterdir())
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fc.scan_file(PINGS, index, batch_rows=50, chunk_rows=40, progress=interrupt)
    assert spills and list(private_tmp.iterdir()) == []
    # a generator left after its first batch removes its folder when closed
    batches = regroup(fc.iter_pings(PINGS, chunk_rows=40), batch_rows=50)
    first = next(batches)
    assert len(first) > 0 and len(list(private_tmp.iterdir())) == 1
    batches.close()
    assert list(private_tmp.iterdir()) == []
    # ... and when dropped (garbage-collected) without being closed
    batches = regroup(fc.iter_pings(PINGS, chunk_rows=40), batch_rows=50)
    next(batches)
    del batches
    assert list(private_tmp.iterdir()) == []
    # a small input is held in memory: no folder at all
    spills.clear()
    with contextlib.closing(regroup(fc.iter_pings(PINGS), batch_rows=1000)) as small:
        assert sum(len(b) for b in small) == 400
    assert spills == [] and list(private_tmp.iterdir()) == []


def test_private_folder_is_0700_and_removed_on_error(private_tmp: Path) -> None:
    with pytest.raises(RuntimeError), private_folder() as folder:
        if POSIX:
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        (folder / "x").write_text("x")
        raise RuntimeError("boom")
    assert not folder.exists() and list(private_tmp.iterdir()) == []


@pytest.mark.skipif(not POSIX, reason="SIGINT to a child process is POSIX")
def test_sigint_during_a_scan_exits_130_and_removes_the_partition_folder(tmp_path: Path) -> None:
    n = 300_000
    rng = np.random.default_rng(3)
    person = np.char.add("P", rng.integers(0, 3000, n).astype(str))
    t = (1651363200 + rng.integers(0, 5 * 86400, n)).astype(str)
    lon = np.char.mod("%.6f", 116.33 + rng.normal(0, 0.01, n))
    lat = np.char.mod("%.6f", 40.07 + rng.normal(0, 0.01, n))
    columns = [person, t, lon, lat]
    lines = columns[0]
    for column in columns[1:]:
        lines = np.char.add(np.char.add(lines, ","), column)
    big = tmp_path / "big.csv"
    big.write_text("person_id,t,lon,lat\n" + "\n".join(lines.tolist()) + "\n", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), PYTHONPATH=str(REPO / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fencecheck", "scan", "--fences", FENCES, "--pings", str(big),
         "--out", str(tmp_path / "out"), "--batch-rows", "5000", "--chunk-rows", "20000",
         "--progress", "never"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        folder: Path | None = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(temp.glob("fencecheck-scan-*"))
            if found and any(found[0].glob("*.npz")):
                folder = found[0]
                break
            time.sleep(0.005)
        assert folder is not None, "no partition folder appeared"
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        modes = set()
        for part in folder.glob("*.npz"):
            try:  # a bucket's files are deleted once it is read: one may go meanwhile
                modes.add(stat.S_IMODE(part.stat().st_mode))
            except FileNotFoundError:
                continue
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert modes == {0o600}
    assert proc.returncode == 130, err
    assert "fencecheck: interrupted" in err and "Traceback" not in err
    assert list(temp.iterdir()) == []
