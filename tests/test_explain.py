"""Explanations and the explain / demo commands, on the samples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.errors import OptionError
from fencecheck.judging.explain import DEFAULT_ADVICE, advice_key, explain

from support import SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")
DECISIVE_FIELDS = {
    "fence_id",
    "kind",
    "entry",
    "exit",
    "dwell_s",
    "dwell_s_max",
    "pings",
    "max_depth_m",
    "p_inside",
}


@pytest.fixture(scope="module")
def explanations() -> dict[str, fc.Explanation]:
    index = fc.FenceIndex.build(fc.read_fences(FENCES))
    return {e.person_id: e for e in explain(fc.read_pings(PINGS), index)}


def test_the_json_has_formats_fields(explanations: dict[str, fc.Explanation]) -> None:
    for item in explanations.values():
        document = json.loads(item.to_json())
        assert {"person_id", "verdict", "reasons", "decisive", "episodes", "near_misses"} <= set(
            document
        )
        assert {"advice", "text"} <= set(document)
        if document["decisive"] is not None:
            assert set(document["decisive"]) >= DECISIVE_FIELDS
            assert document["decisive"]["entry"].endswith("Z")
    p01 = json.loads(explanations["P01"].to_json())
    assert p01["verdict"] == "exposed" and p01["decisive"]["fence_id"] == "F-sealed-1"
    assert p01["advice"]["key"] == "home_observation"


def test_both_languages_give_the_same_numbers(
    explanations: dict[str, fc.Explanation],
) -> None:
    for item in explanations.values():
        zh, en = item.to_text("zh"), item.to_text("en")
        assert item.person_id in zh and item.person_id in en
        numbers = lambda text: sorted(re.findall(r"\d+(?:\.\d+)?", text))  # noqa: E731
        assert numbers(zh.replace(item.person_id, "")) == numbers(en.replace(item.person_id, ""))
    p07 = explanations["P07"]
    assert "北京时间 05-01 15:03" in p07.to_text("zh")
    assert "15:03" in p07.to_text("en") and "Beijing time" in p07.to_text("en")


def test_each_false_trigger_names_its_evidence(
    explanations: dict[str, fc.Explanation],
) -> None:
    assert explanations["P03"].evidence["boundary_uncertainty"]["best_p_inside"] < 0.9
    assert explanations["P04"].evidence["location_jump"]["implied_speed_mps"] > 70
    slip = explanations["P05"].evidence["timezone_shift"]
    assert slip["shift"] == 8 * 3_600_000 and slip["fence_id"] == "F-venue-1"
    datum = explanations["P06"].evidence["datum_shift"]
    assert datum["fence_id"] == "F-risk-3" and 400 < datum["shift"] < 700
    for pid in ("P03", "P04", "P05", "P06"):
        assert explanations[pid].advice_key == "one_negative_test"


def test_an_unexplained_pop_up_lists_the_nearest_misses(
    explanations: dict[str, fc.Explanation],
) -> None:
    item = explanations["008"]
    assert item.verdict == "unexplained" and item.near_misses
    distances = [m["distance_m"] for m in item.near_misses]
    assert distances == sorted(distances) and distances[0] >= 886 - 1
    assert "risk_person" in item.not_checked
    assert "risk person" in item.to_text("en")


def test_the_advice_table_can_be_replaced() -> None:
    index = fc.FenceIndex.build(fc.read_fences(FENCES))
    table = {key: {"zh": f"zh-{key}", "en": f"en-{key}"} for key in DEFAULT_ADVICE}
    [item] = explain(fc.read_pings(PINGS), index, person=["P02"], advice=table)
    assert item.to_text("en").endswith("en-passage_one_test")
    assert advice_key("exposed", "risk_venue") == "pledge_three_days_two_tests"
    assert advice_key("unexplained", None) == "contact_community"
    with pytest.raises(OptionError, match="lang"):
        item.to_text("fr")
    with pytest.raises(OptionError, match="has no pings"):
        explain(fc.read_pings(PINGS), index, person=["nobody"])


def test_explain_writes_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "explain",
            "--fences",
            FENCES,
            "--pings",
            PINGS,
            "--person",
            "P04",
            "--person",
            "P07",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(d["person_id"], d["verdict"]) for d in lines] == [
        ("P04", "false_trigger"),
        ("P07", "exposed"),
    ]
    assert "2 people explained" in err


def test_explain_refuses_an_unknown_person(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["explain", "--fences", FENCES, "--pings", PINGS, "--person", "nobody"])
    assert code == 2 and "nobody" in capsys.readouterr().err


def test_demo_explains_every_sample_person() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fencecheck", "demo", "--lang", "zh"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    paragraphs = [p for p in result.stdout.split("\n\n") if p.strip()]
    assert len(paragraphs) == 8 and all("建议" in p for p in paragraphs)
    assert "8 people explained" in result.stderr


def test_the_near_misses_follow_the_policy() -> None:
    index = fc.FenceIndex.build(fc.read_fences(FENCES))
    pings = fc.read_pings(PINGS)
    [one] = explain(pings, index, person=["008"], policy=fc.Policy(near_misses=1))
    assert len(one.near_misses) == 1
    [none] = explain(pings, index, person=["008"], policy=fc.Policy(near_miss_radius_m=500))
    assert none.verdict == "unexplained" and none.near_misses == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--at", "tomorrowish", "at: 'tomorrowish'"), ("--lookback", "soon", "not a duration")],
)
def test_bad_explain_options_are_usage_errors(
    option: str, value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["explain", "--fences", FENCES, "--pings", PINGS, option, value])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "internal error" not in err


def test_no_pings_no_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("person_id,t,lon,lat\n", encoding="utf-8")
    assert main(["explain", "--fences", FENCES, "--pings", str(empty)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "0 people explained\n" in err


def test_explain_reports_and_writes_the_rows_it_set_aside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    bad = [*lines[:3], lines[3].replace(",40.", ",95.", 1), *lines[4:]]
    pings = tmp_path / "pings.csv"
    pings.write_text("\n".join(bad) + "\n", encoding="utf-8")
    rejected = tmp_path / "set-aside.csv"
    code = main(
        [
            "explain",
            "--fences",
            str(SAMPLES / "fences.geojson"),
            "--pings",
            str(pings),
            "--on-error",
            "reject",
            "--rejected",
            str(rejected),
            "--format",
            "json",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "400 rows read, 399 pings used, 1 rejected" in err
    assert "row 2 " in err and "lat" in err
    assert rejected.read_text(encoding="utf-8").count("\n") == 2  # header and the one row
