"""The printable page: self-contained, in order, escaped, both languages, from the command line.

Pure Python: the page is parsed with the standard library's HTML parser (the browser checks are
in tests/test_browser.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

import fencecheck as fc
from fencecheck.judging.html import SECTIONS, checklist, render_html, section_ids

from support import SAMPLES

PEOPLE = ["008", "P01", "P02", "P03", "P04", "P05", "P06", "P07"]
LANGS = ["zh", "en"]
ABSOLUTE = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*|url\(\s*["']?\s*)"""
    r"""(?:[a-z][a-z0-9+.-]*:)?//""",
    re.IGNORECASE,
)


class Page(HTMLParser):
    """What a test reads of a page: the root's attributes, every element's, the text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, str | None] = {}
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html" and not self.root:
            self.root = dict(attrs)
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def attr_values(self, name: str) -> list[str]:
        return [str(a[name]) for _, a in self.elements if a.get(name) is not None]

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}

    def all_text(self) -> str:
        return "".join(self.text)


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))


@pytest.fixture(scope="module")
def pings() -> fc.PingTable:
    return fc.read_pings(SAMPLES / "pings.csv")


@pytest.fixture(scope="module")
def explained(index: fc.FenceIndex, pings: fc.PingTable) -> dict[str, fc.Explanation]:
    return {e.person_id: e for e in fc.explain(pings, index)}


@pytest.fixture(scope="module")
def with_cases(index: fc.FenceIndex, pings: fc.PingTable) -> dict[str, fc.Explanation]:
    cases = fc.read_pings(SAMPLES / "cases.csv")
    return {e.person_id: e for e in fc.explain(pings, index, cases=cases)}


def _absolute_attributes(parsed: Page) -> list[str]:
    """Every src/href-like attribute (and inline style url()) that names another place."""
    found = []
    for _, attrs in parsed.elements:
        for name, value in attrs.items():
            value = value or ""
            linked = name in ("src", "href", "xlink:href", "action", "poster", "data", "srcset")
            if linked and re.match(r"\s*(?:[a-z][a-z0-9+.-]*:)?//", value, re.IGNORECASE):
                found.append(f"{name}={value}")
            if re.search(r"url\(\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//", value, re.IGNORECASE):
                found.append(f"{name}={value}")
    return found


def _fences_to_mark(e: fc.Explanation) -> set[str]:
    """The fences the page must draw with data-fence: each episode's, and the decisive one."""
    wanted = {ep["fence_id"] for ep in e.episodes}
    if e.decisive is not None and e.decisive.get("source") != "case":
        wanted.add(e.decisive["fence_id"])
    return wanted


def _check_page(e: fc.Explanation, lang: str) -> tuple[str, Page]:
    page = e.to_html(lang)
    parsed = Page(page)
    # Self-contained: no absolute URL anywhere it could be fetched from, nothing to fetch.
    assert ABSOLUTE.search(page) is None, ABSOLUTE.search(page)
    assert "http:" not in page and "https:" not in page
    assert not {"script", "link", "img", "iframe", "object", "embed"} & parsed.tags()
    assert "@import" not in page and "@font-face" not in page
    assert not _absolute_attributes(parsed)
    # The root element says whose page it is, and the verdict.
    assert parsed.root == {
        "lang": "zh-CN" if lang == "zh" else "en",
        "data-person": e.person_id,
        "data-verdict": e.verdict,
    }
    # Each fence involved is drawn, marked with its id, and the decisive one is emphasised.
    marked = parsed.attr_values("data-fence")
    assert len(marked) == len(set(marked))
    assert _fences_to_mark(e) <= set(marked)
    if e.decisive is not None and e.decisive.get("source") != "case":
        decisive = [
            a for tag, a in parsed.elements if a.get("data-fence") == e.decisive["fence_id"]
        ]
        assert "decisive" in str(decisive[0]["class"]).split()
    # The sections, in the order the issue asks for.
    found = list(section_ids(page))
    assert found == [s for s in SECTIONS if s in found]
    assert {"verdict", "summary", "map", "evidence", "advice", "not-checked"} <= set(found)
    text = parsed.all_text()
    assert e.to_text(lang) in text
    assert e.advice[lang] in text
    return page, parsed


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("person", PEOPLE)
def test_each_page_is_self_contained_marked_and_in_order(
    person: str, lang: str, explained: dict[str, fc.Explanation]
) -> None:
    e = explained[person]
    page, parsed = _check_page(e, lang)
    found = list(section_ids(page))
    assert ("near-misses" in found) == (e.verdict == "unexplained")
    assert "companions" not in found and "itinerary" not in found and "region" not in found
    # One evidence row per episode, plus the fix an upstream mistake put in a fence.
    upstream = e.decisive is not None and e.decisive.get("source") == "upstream"
    rows = parsed.attr_values("data-episode-fence")
    assert len(rows) == len(e.episodes) + upstream
    for m in e.near_misses:
        assert m["fence_id"] in parsed.attr_values("data-near-fence")
    # Times are local, in the display zone, which the page names.
    zone = "北京时间" if lang == "zh" else "Beijing time"
    assert zone in parsed.all_text() and "Asia/Shanghai" in parsed.all_text()
    for ep in e.episodes:
        local = fc.times.format_local(ep["entry"], "Asia/Shanghai", pattern="%m-%d %H:%M:%S")
        assert local.split(" (")[0] in parsed.all_text()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("person", PEOPLE)
def test_pages_with_cases_name_the_case(
    person: str, lang: str, with_cases: dict[str, fc.Explanation]
) -> None:
    e = with_cases[person]
    page, parsed = _check_page(e, lang)
    found = list(section_ids(page))
    assert "companions" in found
    for pair in e.companions or []:
        assert pair["case_id"] in parsed.all_text()
    if e.decisive is not None and e.decisive.get("source") == "case":
        verdict = page[page.index('<section id="verdict"') : page.index('<section id="summary"')]
        assert e.decisive["case_id"] in verdict
        assert 'class="decisive"' in page[page.index('<section id="companions"') :]
        assert 'class="decisive-hits case"' in page  # the fixes close to the case, ringed
    # With cases, risk persons were checked: the page does not say they were not.
    not_checked = page[page.index('<section id="not-checked"') :]
    assert ("确诊病例轨迹" in not_checked) == ("risk_person" in e.not_checked)


def test_the_times_follow_the_display_zone(index: fc.FenceIndex, pings: fc.PingTable) -> None:
    [e] = fc.explain(pings, index, person=["P01"], display_tz="UTC")
    text = Page(e.to_html("en")).all_text()
    assert "Times in UTC." in text and "05-01 00:00:00" in text  # 08:00 in Beijing
    assert "Beijing time" not in text


def test_user_text_is_escaped(tmp_path: Path, pings: fc.PingTable) -> None:
    evil = '<script>alert("fence")</script>&'
    collection = json.loads((SAMPLES / "fences.geojson").read_text(encoding="utf-8"))
    for feature in collection["features"]:
        if feature["properties"]["id"] == "F-sealed-1":
            feature["properties"]["name"] = evil
    path = tmp_path / "evil.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    index = fc.FenceIndex.build(fc.read_fences(path))
    [e] = fc.explain(pings, index, person=["P01"])
    person = "<img src=//x onerror=alert(1)>\"'"
    e = replace(e, person_id=person)
    for lang in LANGS:
        page = e.to_html(lang)
        parsed = Page(page)
        assert "<script" not in page and "<img" not in page
        assert "&lt;script&gt;alert(&quot;fence&quot;)&lt;/script&gt;&amp;" in page
        assert parsed.root["data-person"] == person
        assert evil in parsed.all_text() and person in parsed.all_text()
        assert not {"script", "img"} & parsed.tags()
        assert not _absolute_attributes(parsed)


def test_optional_sections_render_the_values_given(explained: dict[str, fc.Explanation]) -> None:
    e = explained["P01"]
    place = {
        "row": 3,
        "place": "朋友家 <b>3号楼</b>",
        "lon": 116.3361,
        "lat": 40.0714,
        "datum": "gcj02",
        "start": "2022-05-01T00:00:00Z",
        "end": "2022-05-01T06:00:00Z",
        "radius_m": 100.0,
        "in_lookback": True,
        "fences": [
            {"fence_id": "F-sealed-1", "name": "景和嘉园1号院", "kind": "sealed",
             "entry": "2022-05-01T00:00:00Z", "exit": "2022-05-01T05:56:31Z", "dwell_s": 21391.0,
             "distance_m": 0.0, "p_inside": 0.97, "credible": True},
        ],
        "pings": 72,
        "nearest_m": 12.0,
        "pings_agree": True,
    }  # fmt: skip
    missed = {
        "fence_id": "F-risk-3",
        "name": "东晟大厦",
        "kind": "risk_area",
        "entry": "2022-04-30T01:00:00Z",
        "exit": "2022-04-30T02:00:00Z",
        "pings": 9,
    }
    spell = {
        "start": "2022-04-20T01:00:00Z",
        "end": "2022-04-20T09:00:00Z",
        "pings": 12,
        "farthest_km": 87.64,
    }
    decisive = {
        **e.decisive,
        "source": "itinerary",
        "place": "朋友家 <b>3号楼</b>",
        "row": 3,
        "radius_m": 100.0,
    }
    full = replace(
        e,
        left_region=[spell],
        itinerary=[place],
        itinerary_unreported=[missed],
        decisive=decisive,
    )
    for lang in LANGS:
        page, parsed = _check_page(full, lang)
        text = parsed.all_text()
        found = list(section_ids(page))
        assert found.index("itinerary") < found.index("region") < found.index("advice")
        assert "87.6" in text and ("87.6 公里" if lang == "zh" else "87.6 km") in text
        assert "04-20 09:00:00" in text  # the spell, in Beijing time
        assert "朋友家 <b>3号楼</b>" in text and "<b>3号楼" not in page
        assert "116.33610, 40.07140 (GCJ-02)" in text
        assert "F-risk-3" in parsed.attr_values("data-episode-fence")
        verdict = page[page.index('<section id="verdict"') : page.index('<section id="summary"')]
        assert "朋友家 &lt;b&gt;3号楼&lt;/b&gt;" in verdict  # the decisive place, named
        # The place is on the map, ringed as decisive.
        assert "3" in parsed.attr_values("data-place-row")
        items = dict((t, s) for s, t in checklist(full, lang))
        region = next(t for t in items if ("未离开北京" in t or "not left Beijing" in t))
        assert items[region] == "warn" and "87.6" in region
        assert any(("核验行程" in t or "Itinerary verified" in t) for t in items)
        not_checked = page[page.index('<section id="not-checked"') :]
        assert "--region" not in not_checked and "--itinerary" not in not_checked
    # No spell outside: stayed in Beijing, and the checklist says so.
    stayed = replace(e, left_region=[], itinerary=[], itinerary_unreported=[])
    page = stayed.to_html("zh")
    assert "回溯期内没有可信定位落在北京以外" in Page(page).all_text()
    assert ("done", "核查14天内未离开北京 — 结果：没有北京以外的可信定位") in checklist(
        stayed, "zh"
    )
    # The region's own name, when it has one.
    named = replace(stayed, region="北京市")
    assert "是否离开北京市" in Page(named.to_html("zh")).all_text()
    assert "No credible fix outside 北京市" in Page(named.to_html("en")).all_text()
    assert "未申报任何地点" in Page(page).all_text()
    # Not given: neither section, and the page says what was not checked.
    page = e.to_html("en")
    assert "region" not in section_ids(page) and "itinerary" not in section_ids(page)
    assert "no region was given (--region)" in page and "none was given (--itinerary)" in page
    assert not any("Beijing in" in t for _, t in checklist(e, "en"))


@pytest.mark.parametrize(
    ("key", "must", "must_not"),
    [
        (
            "home_observation",
            ["居家观察（按社区要求）", "多次核酸检测（按社区要求）"],
            ["签署承诺书"],
        ),
        (
            "pledge_three_days_two_tests",
            ["签署承诺书", "三天内第二次核酸检测，结果阴性"],
            ["居家观察（"],
        ),
        ("companion_three_days_two_tests", ["签署承诺书", "三天内第一次核酸检测，结果阴性"], []),
        ("passage_one_test", ["一次核酸检测，结果阴性", "无需居家观察"], ["签署承诺书"]),
        ("one_negative_test", ["一次核酸检测，结果阴性", "无需居家观察"], ["多次核酸检测"]),
        ("contact_community", ["联系所在社区核实（比拨打 12345 热线更快）"], ["签署承诺书"]),
    ],
)
def test_the_checklist_follows_the_advice(
    key: str, must: list[str], must_not: list[str], explained: dict[str, fc.Explanation]
) -> None:
    e = replace(explained["P01"], advice_key=key, left_region=[])
    items = checklist(e, "zh")
    texts = [t for _, t in items]
    for text in must:
        assert text in texts
    for text in must_not:
        assert not any(text in t for t in texts)
    if key in ("passage_one_test", "one_negative_test"):
        assert ("cross", "无需居家观察") in items  # explicitly no home observation
        assert not any(s == "todo" and "居家观察" in t for s, t in items)
    assert texts[-2].startswith("核查14天内未离开北京") and texts[-1].startswith("核验行程")
    english = [t for _, t in checklist(e, "en")]
    assert len(english) == len(texts) and not any(re.search("[\u4e00-\u9fff]", t) for t in english)
    page = render_html(e, "zh")
    for text in must:
        assert text in Page(page).all_text()


def test_a_page_without_a_track_says_why(explained: dict[str, fc.Explanation]) -> None:
    bare = replace(explained["P03"], track=None)
    for lang in LANGS:
        page = bare.to_html(lang)
        parsed = Page(page)
        assert "svg" not in parsed.tags() and parsed.attr_values("data-fence") == []
        assert "no-map" in str(parsed.attr_values("class"))
        assert "map" in section_ids(page) and "evidence" in section_ids(page)
    assert explained["P03"]._repr_html_() == explained["P03"].to_html("zh")
    with pytest.raises(fc.errors.OptionError, match="lang"):
        explained["P03"].to_html("fr")


def test_the_map_has_a_round_scale_bar_and_says_where_the_mistake_put_the_fence(
    explained: dict[str, fc.Explanation],
) -> None:
    for e in explained.values():
        svg = e.to_html("en")
        x0, _, x1, _ = (float(v) for v in re.search(r'data-extent="([^"]+)"', svg)[1].split())
        length = float(re.search(r'data-length-m="([^"]+)"', svg)[1])
        assert (x1 - x0) / 12.5 < length <= (x1 - x0) / 5
        assert length / 10 ** int(f"{length:e}".split("e")[1]) in (1.0, 2.0, 5.0)
        assert ">N</text>" in svg  # the north arrow
    p06 = explained["P06"].to_html("en")
    assert 'class="mistaken-fence"' in p06 and "fence moved 545 m east" in p06
    p05 = explained["P05"].to_html("zh")
    assert "定位 07:04，被读作 15:04" in p05  # the zone slip's fix, at its real time


def _cli_args(tmp: Path, *extra: str, pings: Path | None = None) -> list[str]:
    return ["explain", "--fences", str(SAMPLES / "fences.geojson"), "--pings",
            str(pings or SAMPLES / "pings.csv"), *extra]  # fmt: skip


def test_the_command_writes_one_page_per_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    folder = tmp_path / "pages" / "deep"
    assert main(_cli_args(tmp_path, "--format", "html", "--out", str(folder))) == 0
    out, err = capsys.readouterr()
    assert out == ""  # the pages go to the folder, not to stdout
    assert f"8 pages written in {folder}" in err
    assert sorted(p.name for p in folder.iterdir()) == [f"{p}.html" for p in PEOPLE]
    verdicts = {}
    for path in folder.iterdir():
        parsed = Page(path.read_text(encoding="utf-8"))
        assert parsed.root["data-person"] == path.stem and parsed.root["lang"] == "zh-CN"
        assert parsed.attr_values("data-fence")  # every page has its map (the track was kept)
        verdicts[path.stem] = parsed.root["data-verdict"]
    assert verdicts["P01"] == "exposed" and verdicts["008"] == "unexplained"
    assert main(_cli_args(tmp_path, "--format", "html", "--out", str(folder), "--lang", "en",
                          "--person", "P02")) == 0  # fmt: skip
    assert Page((folder / "P02.html").read_text(encoding="utf-8")).root["lang"] == "en"


def test_pages_of_ids_that_read_the_same_do_not_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    lines = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    rows = [line for line in lines[1:] if line.startswith("P02,")]
    twins = [lines[0]] + [r.replace("P02,", f"{who},", 1) for who in ("a/b", "a_b") for r in rows]
    path = tmp_path / "twins.csv"
    path.write_text("\n".join(twins) + "\n", encoding="utf-8")
    folder = tmp_path / "pages"
    assert main(_cli_args(tmp_path, "--format", "html", "--out", str(folder), pings=path)) == 0
    assert "2 pages written" in capsys.readouterr().err
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["a_b-2.html", "a_b.html"]
    people = {Page(p.read_text(encoding="utf-8")).root["data-person"] for p in folder.iterdir()}
    assert people == {"a/b", "a_b"}


@pytest.mark.parametrize(
    "extra",
    [
        ["--format", "html"],  # no folder
        ["--out", "DIR"],  # a folder for text
        ["--format", "json", "--out", "DIR"],
    ],
)
def test_bad_flag_combinations_are_usage_errors(
    extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    extra = [str(tmp_path / "out") if a == "DIR" else a for a in extra]
    assert main(_cli_args(tmp_path, *extra)) == 2
    out, err = capsys.readouterr()
    assert "--out" in err and "Traceback" not in err and out == ""
    assert not (tmp_path / "out").exists()


def test_a_folder_that_cannot_be_made_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    (tmp_path / "a-file").write_text("x")
    code = main(_cli_args(tmp_path, "--format", "html", "--out", str(tmp_path / "a-file" / "p")))
    assert code == 2 and "cannot create the folder" in capsys.readouterr().err
