"""Reports a community worker can read out: every sentence named, timed, measured and kind."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest

import fencecheck as fc
from builders import Trail, pings_of
from fencecheck.cli import main
from fencecheck.frame import MetricFrame
from fencecheck.judging.explain import DEFAULT_ADVICE
from fencecheck.judging.wording import duration_en, duration_zh, kind_words

from support import SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")
FRAME = MetricFrame(116.40, 39.90)


@pytest.fixture(scope="module")
def explanations() -> dict[str, fc.Explanation]:
    index = fc.FenceIndex.build(fc.read_fences(FENCES))
    return {e.person_id: e for e in fc.explain(fc.read_pings(PINGS), index)}


def _local(iso: str, tz: str = "Asia/Shanghai") -> str:
    return fc.times.format_local(iso, tz, pattern="%m-%d %H:%M", show_zone=False)


def test_every_report_names_its_fence_its_kind_its_time_and_its_numbers(
    explanations: dict[str, fc.Explanation],
) -> None:
    """Every sample person's text in both languages, checked against their JSON."""
    for pid, e in explanations.items():
        doc = json.loads(e.to_json())
        for lang in ("zh", "en"):
            text = e.to_text(lang)
            assert text.startswith(pid)
            assert doc[f"text_{lang}"] == text
            named = doc["decisive"]
            if named is None and doc["near_misses"]:
                named = doc["near_misses"][0]  # unexplained: the nearest miss, by name
            assert named is not None, pid
            assert f"{named['name']} ({named['fence_id']})" in text, (pid, lang)
            assert kind_words(named["kind"], lang) in text, (pid, lang)
            if doc["decisive"] is not None:
                assert _local(doc["decisive"]["entry"]) in text, (pid, lang)
            if doc["verdict"] in ("exposed", "passed_through"):
                d = doc["decisive"]
                duration = duration_zh if lang == "zh" else duration_en
                assert duration(d["dwell_s"]) in text
                assert f"{d['p_inside']:.2f}" in text
                assert f"{abs(d['max_depth_m']):.0f}" in text
            for reason, ev in doc["evidence"].items():
                assert f"{ev['name']} ({ev['fence_id']})" in text, (pid, reason)
                assert _local(ev.get("t_right", ev["t"])) in text, (pid, reason)
            assert doc["advice"][lang] in text
        # both languages carry the same numbers
        numbers = [
            sorted(re.findall(r"\d+(?:\.\d+)?", e.to_text(lang).replace(pid, "")))
            for lang in ("zh", "en")
        ]
        assert numbers[0] == numbers[1], pid


def test_the_false_triggers_name_the_fence_time_accuracy_and_likelihood(
    explanations: dict[str, fc.Explanation],
) -> None:
    graze = explanations["P03"].evidence["boundary_uncertainty"]
    assert graze["fence_id"] == "F-precaution-1" and graze["name"] == "景和东区"
    assert graze["source"] == "cell" and graze["accuracy_m"] >= 500
    text = explanations["P03"].to_text("en")
    assert f"{graze['accuracy_m']:.0f} m accuracy" in text
    assert f"p_inside {graze['best_p_inside']:.2f}" in text
    jump = explanations["P04"].evidence["location_jump"]
    assert jump["fence_id"] == "F-sealed-2"
    assert f"{jump['implied_speed_mps']:.0f} m/s" in explanations["P04"].to_text("en")


def test_a_zone_slip_gives_the_real_time_and_the_time_that_hit(
    explanations: dict[str, fc.Explanation],
) -> None:
    e = explanations["P05"]
    slip = e.evidence["timezone_shift"]
    right, wrong = _local(slip["t_right"]), _local(slip["t"])
    assert right.endswith("07:04") and wrong.endswith("15:04")
    assert f"The fix at {right} (Beijing time) was read as {wrong}" in e.to_text("en")
    assert f"北京时间 {right} 的定位被读作 {wrong}" in e.to_text("zh")
    # the decisive finding is the fence the mistake put them in
    assert e.decisive is not None and e.decisive["fence_id"] == "F-venue-1"
    assert e.decisive["source"] == "upstream" and e.decisive["entry"] == slip["t_right"]


def test_a_datum_mix_up_says_where_the_fix_was_and_where_the_mistake_put_it(
    explanations: dict[str, fc.Explanation],
) -> None:
    e = explanations["P06"]
    shift = e.evidence["datum_shift"]
    text = e.to_text("en")
    assert f"was {shift['distance_m']:.0f} m from 东晟大厦 (F-risk-3)" in text
    assert f"moved {shift['shift']:.0f} m {shift['moved_to']}" in text
    assert shift["specific"] and "the likely cause" in text and "Possibly" not in text


def test_advice_follows_the_seed_and_a_passage_is_never_told_to_stay_home(
    explanations: dict[str, fc.Explanation],
) -> None:
    keys = {pid: e.advice_key for pid, e in explanations.items()}
    assert keys["P01"] == "home_observation"  # a stay in a sealed compound
    assert keys["P07"] == "pledge_three_days_two_tests"  # a stay at a risk venue
    assert keys["P02"] == "passage_one_test"
    assert keys["008"] == "contact_community"
    for pid in ("P03", "P04", "P05", "P06"):
        assert keys[pid] == "one_negative_test"
    for e in explanations.values():
        if e.verdict != "exposed":
            assert "stay home" not in e.advice["en"].replace("no need to stay home", "")
            assert "居家观察" not in e.advice["zh"]
    assert "12345" in DEFAULT_ADVICE["contact_community"]["zh"]
    assert "community first" in DEFAULT_ADVICE["contact_community"]["en"]


def test_the_other_episodes_are_summarised(explanations: dict[str, fc.Explanation]) -> None:
    e = explanations["P02"]
    assert len(e.episodes) == 2
    other = next(ep for ep in e.episodes if ep != e.decisive)
    assert f"1 passage through {other['name']} ({other['fence_id']}) on 05-01" in e.to_text("en")


def test_short_dwells_are_in_seconds_and_plurals_are_right() -> None:
    assert duration_en(35) == "35 s" and duration_zh(35) == "35 秒"
    assert duration_en(0.4) == "0 s"
    assert duration_en(60) == "1 minute" and duration_en(600) == "10 minutes"
    assert duration_en(3600) == "1 h 0 min"
    trail = Trail("Q", FRAME, "2022-05-01T09:00:00+08:00").fix(at=(-1500, 0))
    trail.fix(at=(-100, 0), after_s=120).fix(at=(-60, 0), after_s=35).fix(at=(1500, 0))
    index = _compound()
    [e] = fc.explain(pings_of(trail), index)
    assert e.verdict == "passed_through"
    text = e.to_text("en")
    assert "at least 35 s" in text and "with 2 credible fixes" in text
    assert not re.search(r"\b[01] minutes", text) and "at least 0" not in text


def test_no_data_is_not_no_hit() -> None:
    """Pings on one day of fourteen: the gap is named; no pings at all: said so plainly."""
    index = _compound()
    trail = Trail("G", FRAME, "2022-05-10T09:00:00+08:00").stay(at=(-1500, 0), minutes=30)
    [e] = fc.explain(pings_of(trail), index)
    assert e.verdict == "unexplained"
    assert e.coverage["pings"] == 31 and e.coverage["hours_with_data"] == 1
    gap = e.coverage["longest_gap"]
    assert gap["noted"] and gap["hours"] > 300
    assert f"there is none between {_local(gap['start'])} and {_local(gap['end'])}" in e.to_text(
        "en"
    )
    [empty] = fc.explain(pings_of(trail), index, at="2022-06-30T00:00:00+08:00")
    assert empty.coverage["pings"] == 0
    assert "there is no location data in the 14 days before 06-30 00:00" in empty.to_text("en")
    assert "no fix was in an active fence" not in empty.to_text("en")
    assert "没有任何定位数据" in empty.to_text("zh")


def test_json_text_follows_lang_and_display_tz_shows_times_in_beijing(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # naive times written in UTC, read with --tz UTC, shown in Beijing time
    lines = ["person_id,t,lon,lat,accuracy_m,source"]
    lon0, lat0 = FRAME.to_lonlat(np.array([0.0]), np.array([0.0]))
    for minute in range(30):
        lines.append(f"U1,2022-05-01 01:{minute:02d}:00,{lon0[0]:.7f},{lat0[0]:.7f},8,gps")
    pings = tmp_path / "utc.csv"
    pings.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fences = tmp_path / "f.geojson"
    fc.write_fences(_compound().live_fences(), fences)
    args = ["explain", "--fences", str(fences), "--pings", str(pings), "--tz", "UTC"]
    assert main([*args, "--format", "json", "--lang", "en"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["text"] == doc["text_en"] and doc["text_zh"] != doc["text_en"]
    assert doc["display_tz"] == "Asia/Shanghai"
    assert "from 05-01 09:00 to 05-01 09:29 (Beijing time)" in doc["text"]
    assert main([*args, "--display-tz", "UTC", "--lang", "en"]) == 0
    assert "from 05-01 01:00 to 05-01 01:29 (UTC)" in capsys.readouterr().out
    assert main([*args, "--display-tz", "Nowhere/Else"]) == 2


def _compound() -> fc.FenceIndex:
    import shapely

    box = shapely.box(-200, -200, 200, 200)
    lonlat = shapely.transform(box, lambda c: np.column_stack(FRAME.to_lonlat(c[:, 0], c[:, 1])))
    fences = fc.FenceSet.from_records(
        [
            {
                "id": "C1",
                "name": "示范小区",
                "kind": "sealed",
                "geometry": lonlat,
                "windows": [["2022-04-20", "2022-05-20"]],
            }
        ]
    )
    return fc.FenceIndex(fences, FRAME)
