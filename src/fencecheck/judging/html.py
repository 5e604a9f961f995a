"""The community worker's printable page: one self-contained HTML report per person.

:func:`render_html` (also ``Explanation.to_html()`` and, in a notebook,
``Explanation._repr_html_``) writes one page that a community worker can print
on A4 (one or two sheets) and hand to a resident. In order it holds:

1. the verdict in large type, with the decisive finding and the reasons;
2. the plain-language paragraph (``explanation.to_text(lang)``);
3. the map (:func:`fencecheck.judging.svg.render_svg`), inline SVG with each
   fence marked ``data-fence="<id>"``; a note instead when the explanation has
   no track;
4. the evidence: each episode with entry and exit in the display zone (named),
   dwell bounds, fixes, depth and ``p_inside``; the companions found with
   confirmed cases; the reported itinerary and what it leaves out; the spells
   outside the region (Beijing); the nearest misses;
5. the advice and the worker's checklist (pledge, tests, observation, the
   itinerary, whether the person left Beijing), derived from the advice key;
6. what was not checked.

Nothing on the page is fetched from elsewhere: the styles sit in one
``<style>`` element, the map is inline SVG, and there is no link, image, font or
script. The root element carries ``lang``, ``data-person`` and
``data-verdict``. Every piece of text is escaped (fence names and person ids
come from users). Chinese is the default; both languages are complete.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> [p02] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P02"])
>>> page = render_html(p02, "en")
>>> page.splitlines()[1]
'<html lang="en" data-person="P02" data-verdict="passed_through">'
>>> "Passed through" in page, "No home observation" in page, "http" in page
(True, True, False)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any, Protocol

from fencecheck._version import __version__
from fencecheck.errors import OptionError
from fencecheck.judging.plot import OUTCOME_COLOURS
from fencecheck.judging.svg import Mapped, render_svg
from fencecheck.judging.wording import (
    KIND_WORDS,
    MISTAKE_ZH,
    count_en,
    duration_en,
    duration_zh,
    fence_label,
)
from fencecheck.times import format_local, parse_time, zone_label

__all__ = ["SECTIONS", "Reported", "checklist", "render_html", "section_ids"]

SECTIONS = (
    "verdict",
    "summary",
    "map",
    "evidence",
    "companions",
    "itinerary",
    "region",
    "near-misses",
    "advice",
    "not-checked",
)
"""The page's sections (``<section id=...>``), in the order they appear; optional ones may
be absent."""

_VERDICT_COLOURS = {**OUTCOME_COLOURS, "unexplained": "#555555"}


class Reported(Mapped, Protocol):
    """What the page reads of an explanation (:class:`fencecheck.Explanation` has it all)."""

    @property
    def at(self) -> int:
        """When the person was judged (UTC ms)."""

    @property
    def episodes(self) -> list[dict[str, Any]]:
        """Every episode in the lookback."""

    @property
    def advice_key(self) -> str:
        """The advice's key."""

    @property
    def advice(self) -> Mapping[str, str]:
        """The advice, in zh and en."""

    @property
    def not_checked(self) -> tuple[str, ...]:
        """Association types not checked."""

    @property
    def coverage(self) -> dict[str, Any]:
        """What the data covers of the lookback."""

    @property
    def min_dwell_s(self) -> float:
        """The dwell a stay needs."""

    @property
    def credible_p(self) -> float:
        """The p_inside a credible fix needs."""

    @property
    def close_m(self) -> float:
        """Close to a case within this distance."""

    @property
    def companions(self) -> list[dict[str, Any]] | None:
        """The person's pairs with cases, or None without cases."""

    @property
    def left_region(self) -> list[dict[str, Any]] | None:
        """The spells outside the region, or None without a region."""

    @property
    def itinerary_unreported(self) -> list[dict[str, Any]] | None:
        """The episodes the itinerary leaves out, or None without an itinerary."""

    def to_text(self, lang: str = "zh") -> str:
        """The paragraph in ``lang``."""


# -- the words -------------------------------------------------------------------------------

_W: dict[str, dict[str, str]] = {
    "zh": {
        "html-lang": "zh-CN",
        "sheet": "健康宝弹窗③ 核查单",
        "person": "人员",
        "judged": "判定于",
        "lookback": "回溯",
        "fixes": "定位",
        "fixes-col": "定位",
        "verdict:exposed": "弹窗有依据",
        "verdict:passed_through": "仅途经，未停留",
        "verdict:false_trigger": "弹窗系误判",
        "verdict:unexplained": "数据未能解释弹窗",
        "decisive": "决定性记录",
        "decisive-none": "没有定位命中生效的围栏",
        "reasons": "原因",
        "summary": "说明",
        "map": "地图",
        "no-track": "此报告没有轨迹，无法绘制地图（由 JSON 重建的报告，或 explain(..., "
        "track=False) 生成的报告不带轨迹）。",
        "evidence": "证据：围栏内的记录",
        "companions": "与确诊病例的时空伴随",
        "itinerary": "申报行程核验",
        "unreported": "行程中未申报的围栏记录",
        "region": "是否离开{region}",
        "near-misses": "最近的未命中",
        "advice": "建议与处置",
        "checklist": "社区工作人员核查清单",
        "not-checked": "未核查的内容",
        "fence": "围栏",
        "kind": "类型",
        "entry": "进入",
        "exit": "离开",
        "dwell": "停留（下限 – 上限）",
        "pings": "定位（可信 / 全部）",
        "depth": "最深",
        "p_inside": "在内概率",
        "no-episode": "回溯期内没有定位落入生效的围栏。",
        "star": "★ 决定性记录",
        "upstream": "上游错误：{how}；时间为该定位的真实时间，最深与在内概率按错误数据计算。",
        "times": "时间为{zone}。",
        "dwell-note": "停留只计可信定位（在内概率 ≥ {p}，且不是定位漂移）；"
        "“?”表示数据开始或结束于围栏内，无上限。最深：定位到围栏边界（不含外扩）的距离，"
        "负数在界外。",
        "case": "病例",
        "grid-min": "同一网格",
        "close-min": "{close} 米内",
        "credible-min": "可信相近",
        "min-distance": "最近距离",
        "together": "同网格时段",
        "grid-rule": "网格规则",
        "robust": "网格平移后",
        "yes": "是",
        "no": "否",
        "fires": "触发",
        "quiet": "未触发",
        "same": "结论不变",
        "changes": "结论改变",
        "companions-note": "网格为 {cell} 米见方，原点 {origin}；分钟数为同时段分钟。",
        "no-companions": "与所给病例没有同网格或相近的时段。",
        "row": "行",
        "place": "地点",
        "reported": "申报时间",
        "where": "坐标",
        "radius": "半径",
        "near-pings": "附近定位",
        "nearest": "最近定位",
        "agree": "定位吻合",
        "found": "涉及的围栏",
        "credible": "可信",
        "not-credible": "不可信",
        "none": "无",
        "no-places": "未申报任何地点。",
        "all-reported": "所有可信的围栏记录都在申报行程中。",
        "start": "开始",
        "end": "结束",
        "farthest": "最远",
        "stayed": "回溯期内没有可信定位落在{region}以外（无定位数据的时段无法判断）。",
        "left": "曾离开{region} {n}（以下为可信定位在{region}以外的时段）。",
        "distance": "距离",
        "miss-distance": "距离",
        "overlap": "时间重叠",
        "time-gap": "时间差",
        "when": "时间",
        "no-near": "附近没有生效的围栏。",
        "todo": "☐",
        "done": "☑",
        "warn": "⚠",
        "cross": "✕",
        "pledge": "签署承诺书",
        "test-1": "三天内第一次核酸检测，结果阴性",
        "test-2": "三天内第二次核酸检测，结果阴性",
        "observe": "居家观察（按社区要求）",
        "repeat-tests": "多次核酸检测（按社区要求）",
        "one-test": "一次核酸检测，结果阴性",
        "no-observe": "无需居家观察",
        "contact": "联系所在社区核实（比拨打 12345 热线更快）",
        "region-check": "核查{days}内未离开{region}",
        "region-stayed": "结果：没有{region}以外的可信定位",
        "region-left": "结果：曾离开{region} {n}，最远 {km} 公里",
        "itinerary-check": "核验行程",
        "itinerary-none": "尚未提供行程：请与居民逐一核对回溯期内去过的地点",
        "itinerary-result": "申报 {places}，{agree} 处与定位吻合；未申报的围栏记录 {missing} 条",
        "nc:risk_person": "风险人员关联（时空伴随）：未提供确诊病例轨迹",
        "nc:region": "是否离开北京：未提供区域边界（--region）",
        "nc:itinerary": "行程核验：未提供居民申报的行程（--itinerary）",
        "nc:gap": "{start} 至 {end} 之间（{hours} 小时）没有定位数据，这段时间无法判断",
        "nc:nothing": "无",
        "footer": "由 fencecheck {version} 生成。规则：停留至少 {dwell}；"
        "可信定位在内概率 ≥ {p}。本页为核查参考，结论以社区核实为准。",
        "page-title": "{person} · 弹窗③核查 · {verdict}",
    },
    "en": {
        "html-lang": "en",
        "sheet": "Health Kit pop-up ③: check sheet",
        "person": "Person",
        "judged": "judged at",
        "lookback": "lookback",
        "fixes": "fixes",
        "fixes-col": "Fixes",
        "verdict:exposed": "Exposed: the pop-up is justified",
        "verdict:passed_through": "Passed through, no stay",
        "verdict:false_trigger": "False trigger",
        "verdict:unexplained": "Not explained by the data",
        "decisive": "Decisive",
        "decisive-none": "no fix hit an active fence",
        "reasons": "Reasons",
        "summary": "In plain words",
        "map": "Map",
        "no-track": "This report has no track, so there is no map (a report rebuilt from JSON, "
        "or made with explain(..., track=False), carries none).",
        "evidence": "Evidence: episodes in fences",
        "companions": "Companions: confirmed cases",
        "itinerary": "The reported itinerary",
        "unreported": "Episodes the itinerary leaves out",
        "region": "Did the person leave {region}?",
        "near-misses": "Nearest misses",
        "advice": "Advice and what to do",
        "checklist": "The community worker's checklist",
        "not-checked": "What was not checked",
        "fence": "Fence",
        "kind": "Kind",
        "entry": "Entry",
        "exit": "Exit",
        "dwell": "Dwell (min – max)",
        "pings": "Fixes (credible / all)",
        "depth": "Depth",
        "p_inside": "p_inside",
        "no-episode": "No fix fell in an active fence in the lookback.",
        "star": "★ decisive",
        "upstream": "Upstream mistake: {how}; the time is the fix's real time, depth and "
        "p_inside are as the mistaken data has them.",
        "times": "Times in {zone}.",
        "dwell-note": "Dwell counts credible fixes only (p_inside ≥ {p}, not a location jump); "
        "“?” means the data starts or ends inside, so there is no upper bound. Depth: distance "
        "inside the fence's boundary (without its margin); negative is outside.",
        "case": "Case",
        "grid-min": "Same grid cell",
        "close-min": "Within {close} m",
        "credible-min": "Credibly close",
        "min-distance": "Closest",
        "together": "In one cell",
        "grid-rule": "Grid rule",
        "robust": "Grid moved",
        "yes": "yes",
        "no": "no",
        "fires": "fires",
        "quiet": "does not fire",
        "same": "same answer",
        "changes": "answer changes",
        "companions-note": "Grid cells of {cell} m, origin {origin}; minutes are minutes together.",
        "no-companions": "No time in one grid cell or close to any of the cases given.",
        "row": "Row",
        "place": "Place",
        "reported": "Reported time",
        "where": "Position",
        "radius": "Radius",
        "near-pings": "Fixes near",
        "nearest": "Nearest fix",
        "agree": "Fixes agree",
        "found": "Fences there",
        "credible": "credible",
        "not-credible": "not credible",
        "none": "none",
        "no-places": "No place was reported.",
        "all-reported": "Every credible episode in a fence is in the reported itinerary.",
        "start": "Start",
        "end": "End",
        "farthest": "Farthest",
        "stayed": "No credible fix outside {region} in the lookback (nothing can be said of "
        "times without data).",
        "left": "Left {region} ({n}): the spells with credible fixes outside it.",
        "distance": "distance",
        "miss-distance": "Distance",
        "overlap": "overlap",
        "time-gap": "Time apart",
        "when": "When",
        "no-near": "No active fence nearby.",
        "todo": "☐",
        "done": "☑",
        "warn": "⚠",
        "cross": "✕",
        "pledge": "Sign the pledge",
        "test-1": "First test within three days: negative",
        "test-2": "Second test within three days: negative",
        "observe": "Home observation, as the community asks",
        "repeat-tests": "Repeated tests, as the community asks",
        "one-test": "One test: negative",
        "no-observe": "No home observation",
        "contact": "Contact the community to check (faster than the 12345 hotline)",
        "region-check": "Checked: not left {region} in {days}",
        "region-stayed": "result: no credible fix outside {region}",
        "region-left": "result: left {region}, {n}, farthest {km} km",
        "itinerary-check": "Itinerary verified",
        "itinerary-none": "no itinerary given yet: go through the places visited in the "
        "lookback with the resident",
        "itinerary-result": "{places} reported, {agree} agreeing with the fixes; {missing} "
        "left out",
        "nc:risk_person": "Risk persons (spatiotemporal companions): no confirmed cases' tracks "
        "were given",
        "nc:region": "Whether the person left Beijing: no region was given (--region)",
        "nc:itinerary": "The itinerary: none was given (--itinerary)",
        "nc:gap": "No data from {start} to {end} ({hours} h): nothing can be said about that time",
        "nc:nothing": "nothing",
        "footer": "Made by fencecheck {version}. Rules: a stay lasts at least {dwell}; a "
        "credible fix has p_inside ≥ {p}. A basis for the check; the community's verification "
        "decides.",
        "page-title": "{person} · pop-up ③ check · {verdict}",
    },
}

_REASONS = {
    "boundary_uncertainty": ("boundary uncertainty", "边界不确定（定位精度不足）"),
    "location_jump": ("location jump", "定位漂移"),
    "timezone_shift": ("time-zone slip", "时区错误"),
    "datum_shift": ("datum mix-up", "坐标系错误"),
    "grid_coarse": ("grid too coarse", "网格过粗"),
}
_DATUMS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09"}

_CSS = """
@page { size: A4; margin: 12mm 12mm 13mm; }
html[data-person] body { margin: 0; background: #eeeeee; }
.fc-page, .fc-page * { box-sizing: border-box; }
.fc-page { color: #1a1a1a; font-family: "Noto Sans CJK SC", "Source Han Sans SC",
  "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif;
  font-size: 10.5pt; line-height: 1.5; max-width: 210mm; margin: 0 auto; background: #ffffff;
  padding: 10mm 12mm 12mm; }
.fc-page .masthead { display: flex; flex-wrap: wrap; justify-content: space-between;
  gap: 0 6mm; font-size: 9pt; color: #555555; border-bottom: 2px solid #1a1a1a;
  padding-bottom: 1.5mm; }
.fc-page .masthead b { color: #1a1a1a; }
.fc-page .verdict { border-left: 7px solid var(--accent); padding: 1mm 0 1mm 4mm;
  margin: 4mm 0 3mm; }
.fc-page .verdict h1 { font-size: 25pt; line-height: 1.15; margin: 0; color: var(--accent); }
.fc-page .verdict .code { font-family: "DejaVu Sans Mono", Consolas, monospace;
  font-size: 9.5pt; color: #555555; margin-left: 2mm; font-weight: normal;
  vertical-align: middle; }
.fc-page .verdict p { margin: 1mm 0 0; font-size: 11.5pt; }
.fc-page .verdict p.reasons { font-size: 10pt; color: #333333; }
.fc-page h2 { font-size: 12pt; margin: 4.5mm 0 1.5mm; padding-bottom: 0.8mm;
  border-bottom: 1px solid #cccccc; break-after: avoid; page-break-after: avoid; }
.fc-page h3 { font-size: 10.5pt; margin: 3mm 0 1mm; break-after: avoid;
  page-break-after: avoid; }
.fc-page p { margin: 1mm 0; }
.fc-page .summary p { font-size: 11pt; }
.fc-page figure { margin: 0; break-inside: avoid; page-break-inside: avoid; }
.fc-page figure svg { display: block; width: 100%; height: auto; max-height: 165mm; }
.fc-page table { width: 100%; border-collapse: collapse; font-size: 9pt; line-height: 1.35; }
.fc-page th, .fc-page td { border-bottom: 1px solid #d4d4d4; padding: 1mm 1.4mm;
  text-align: left; vertical-align: top; }
.fc-page th { background: #f0f0f0; font-weight: 600; }
.fc-page .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.fc-page .time, .fc-page .kind { white-space: nowrap; font-variant-numeric: tabular-nums; }
.fc-page tr { break-inside: avoid; page-break-inside: avoid; }
.fc-page thead { display: table-header-group; }
.fc-page tr.decisive td { background: #fff3e0; font-weight: 600; }
.fc-page .fid { white-space: nowrap; }
.fc-page .id { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 0.92em; }
.fc-page .note { font-size: 8.5pt; color: #555555; font-weight: normal; }
.fc-page .caption { font-size: 8.5pt; color: #555555; margin: 1mm 0 0; break-before: avoid;
  page-break-before: avoid; }
.fc-page .advice { font-size: 11pt; }
.fc-page ul.checklist, .fc-page ul.plain { list-style: none; padding: 0; margin: 1mm 0; }
.fc-page ul.checklist li, .fc-page ul.plain li { padding-left: 6.5mm; text-indent: -6.5mm;
  margin: 0.8mm 0; break-inside: avoid; page-break-inside: avoid; }
.fc-page ul.plain li::before { content: "·"; display: inline-block; width: 6.5mm;
  text-indent: 0; }
.fc-page .box { display: inline-block; width: 6.5mm; text-indent: 0; font-size: 1.1em; }
.fc-page li.warn .box { color: #b2182b; }
.fc-page li.cross { color: #2166ac; font-weight: 600; }
.fc-page footer { margin-top: 5mm; padding-top: 1.5mm; border-top: 1px solid #cccccc;
  font-size: 8pt; color: #666666; }
@media print {
  html[data-person] body { background: #ffffff; }
  .fc-page { font-size: 9.5pt; max-width: none; margin: 0; padding: 0; }
  .fc-page figure svg { max-height: 128mm; }
  .fc-page .summary p { font-size: 10pt; }
}
"""


# -- the page --------------------------------------------------------------------------------


def render_html(explanation: Reported, lang: str = "zh") -> str:
    """One self-contained, printable HTML page for one person's explanation.

    Parameters
    ----------
    explanation : Explanation or another :class:`Reported`
        From :func:`~fencecheck.judging.explain`; with its track the page has a
        map (without one, a note says why not).
    lang : {"zh", "en"}
        The page's language (default Chinese).

    Returns
    -------
    str
        The whole document, ``<!DOCTYPE html>`` first.

    Raises
    ------
    OptionError
        For an unknown language.
    """
    if lang not in _W:
        raise OptionError(f"lang: {lang!r} is not one of zh, en")
    return _Page(explanation, lang).render()


def checklist(explanation: Reported, lang: str = "zh") -> list[tuple[str, str]]:
    """The community worker's checklist: ``(state, text)`` per item.

    The state is ``todo`` (to tick on paper), ``done`` (checked from the data),
    ``warn`` (checked, and it found something) or ``cross`` (explicitly not to
    do). Derived from the advice key: home observation and repeated tests; a
    pledge and two tests in three days; one negative test and no home
    observation; or contacting the community. Every list verifies the itinerary,
    and says whether the person left Beijing when a region was given.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> [p07] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P07"])
    >>> [text for _, text in checklist(p07, "en")][:2]
    ['Sign the pledge', 'First test within three days: negative']
    >>> checklist(p07, "zh")[-1][1].startswith("核验行程")
    True
    """
    w = _words(explanation, lang)
    key = explanation.advice_key
    items: list[tuple[str, str]] = []
    if key == "home_observation":
        items += [("todo", w["observe"]), ("todo", w["repeat-tests"])]
    elif key in ("pledge_three_days_two_tests", "companion_three_days_two_tests"):
        items += [("todo", w["pledge"]), ("todo", w["test-1"]), ("todo", w["test-2"])]
    elif key in ("passage_one_test", "one_negative_test"):
        items += [("todo", w["one-test"]), ("cross", w["no-observe"])]
    else:
        items += [("todo", w["contact"])]
    spells = explanation.left_region
    if spells is not None:
        days = _lookback_words(explanation.lookback_s, lang)
        check = w["region-check"].format(days=days.replace(" ", "") if lang == "zh" else days)
        if spells:
            far = max(float(s.get("farthest_km") or 0.0) for s in spells)
            result = w["region-left"].format(n=_spells(len(spells), lang), km=f"{far:,.1f}")
            items.append(("warn", f"{check} — {result}"))
        else:
            items.append(("done", f"{check} — {w['region-stayed']}"))
    places = explanation.itinerary
    if places is None:
        items.append(("todo", f"{w['itinerary-check']} — {w['itinerary-none']}"))
    else:
        agree = sum(1 for p in places if p.get("pings_agree"))
        missing = len(explanation.itinerary_unreported or [])
        result = w["itinerary-result"].format(
            places=_places(len(places), lang), agree=agree, missing=missing
        )
        items.append(("warn" if missing else "todo", f"{w['itinerary-check']} — {result}"))
    return items


def _words(explanation: Reported, lang: str) -> dict[str, str]:
    """The page's words in ``lang``, with the region's name put in ("北京市", default Beijing)."""
    name = getattr(explanation, "region", None) or ("北京" if lang == "zh" else "Beijing")
    return {key: text.replace("{region}", name) for key, text in _W[lang].items()}


class _Page:
    """One page being written: each section a method, escaped text throughout."""

    def __init__(self, explanation: Reported, lang: str) -> None:
        self.e = explanation
        self.lang = lang
        self.w = _words(explanation, lang)
        self.zone = zone_label(explanation.tz, lang)

    def render(self) -> str:
        e, w = self.e, self.w
        verdict_words = w.get(f"verdict:{e.verdict}", e.verdict)
        title = w["page-title"].format(person=e.person_id, verdict=verdict_words)
        accent = _VERDICT_COLOURS.get(e.verdict, "#555555")
        sections = [
            self._masthead(),
            self._verdict(),
            self._section("summary", f"<p>{_x(e.to_text(self.lang))}</p>"),
            self._map(),
            self._evidence(),
            self._companions(),
            self._itinerary(),
            self._region(),
            self._near_misses(),
            self._advice(),
            self._not_checked(),
            self._footer(),
        ]
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{w["html-lang"]}" data-person="{_x(e.person_id)}" '
            f'data-verdict="{_x(e.verdict)}">\n'
            '<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="fencecheck {_x(__version__)}">\n'
            f"<title>{_x(title)}</title>\n"
            f"<style>{_CSS}</style>\n</head>\n<body>\n"
            f'<main class="fc-page" style="--accent: {accent}">\n'
            f"{''.join(s for s in sections if s)}</main>\n</body>\n</html>\n"
        )

    # -- sections ----------------------------------------------------------------------------

    def _section(self, name: str, body: str, heading: str | None = None) -> str:
        head = "" if name == "verdict" else f"<h2>{_x(heading or self.w[name])}</h2>"
        return f'<section id="{name}" class="{name}">{head}{body}</section>\n'

    def _masthead(self) -> str:
        e, w = self.e, self.w
        when = self._time(e.at, "%Y-%m-%d %H:%M")
        lookback = _lookback_words(e.lookback_s, self.lang)
        pings = e.coverage.get("pings")
        parts = [
            f"<span><b>{_x(w['sheet'])}</b></span>",
            f'<span>{_x(w["person"])} <b class="id">{_x(e.person_id)}</b></span>',
            f"<span>{_x(w['judged'])} {_x(when)} ({_x(self.zone)})</span>",
            f"<span>{_x(w['lookback'])} {_x(lookback)}"
            + (f" · {_x(w['fixes'])} {int(pings):,}" if pings is not None else "")
            + "</span>",
        ]
        return f'<header class="masthead">{"".join(parts)}</header>\n'

    def _verdict(self) -> str:
        e, w = self.e, self.w
        words = w.get(f"verdict:{e.verdict}", e.verdict)
        head = f'<h1>{_x(words)}<span class="code">{_x(e.verdict)}</span></h1>'
        colon = "：" if self.lang == "zh" else ": "
        body = [head, f"<p>{_x(w['decisive'])}{colon}{self._decisive_words()}</p>"]
        if e.reasons:
            names = [_REASONS.get(r, (r, r))[self.lang == "zh"] for r in e.reasons]
            sep = "、" if self.lang == "zh" else ", "
            reasons = f"{_x(w['reasons'])}{colon}{_x(sep.join(names))}"
            body.append(f'<p class="reasons">{reasons}</p>')
        return self._section("verdict", "".join(body))

    def _decisive_words(self) -> str:
        """The decisive finding in a line (escaped HTML)."""
        d, w, zh = self.e.decisive, self.w, self.lang == "zh"
        if d is None:
            return _x(w["decisive-none"])
        source = d.get("source")
        if source == "case":
            minutes = f"{float(d.get('credible_minutes') or 0):g}"
            close = f"{float(self.e.close_m):g}"
            case = _x(str(d.get("case_id", "")))
            case = f'<span class="id">{case}</span>'
            if zh:
                return f"与病例 {case} 可信地相距 {close} 米以内 {minutes} 分钟"
            return f"credibly within {close} m of case {case} for {minutes} min"
        label = _x(fence_label(d))
        kind = _x(_kind(d.get("kind"), self.lang))
        if source == "upstream":
            how = str(d.get("mistake", ""))
            if zh:
                return f"因{_x(MISTAKE_ZH.get(how, how))}，定位落入{kind} {label}"
            return f"a fix falls in {label}, {kind}, with {_x(how)}"
        if self.e.verdict == "false_trigger":
            p = _p(d.get("p_inside"))
            hits = int(d.get("pings") or 0)
            if "location_jump" in self.e.reasons and int(d.get("jump_pings") or 0):
                if zh:
                    return f"{kind} {label}：{hits} 次命中，落在定位漂移上"
                return f"{label}, {kind}: {count_en(hits, 'hit', 'hits')} on a location jump"
            if zh:
                return f"{kind} {label}：{hits} 次命中，均不可信（在内概率最高 {p}）"
            none = "not credible" if hits == 1 else "none credible"
            return f"{label}, {kind}: {count_en(hits, 'hit', 'hits')}, {none} (best p_inside {p})"
        dwell = self._duration(float(d.get("dwell_s") or 0.0))
        line = (
            f"{kind} {label}，停留至少 {_x(dwell)}"
            if zh
            else f"{label}, {kind}, {_x(dwell)} on credible fixes"
        )
        if source == "itinerary":
            row, place = d.get("row"), _x(str(d.get("place", "")))
            radius = d.get("radius_m")
            within = f"{float(radius):g}" if radius is not None else "?"
            line += (
                f"（来自申报行程第 {_x(str(row))} 行：{place}，半径 {within} 米）"
                if zh
                else f" (from the itinerary, row {_x(str(row))}: {place}, radius {within} m)"
            )
        return line

    def _map(self) -> str:
        if self.e.track is None:
            return self._section("map", f'<p class="note no-map">{_x(self.w["no-track"])}</p>')
        return self._section("map", f"<figure>{render_svg(self.e, self.lang)}</figure>")

    def _evidence(self) -> str:
        e, w = self.e, self.w
        d = e.decisive
        rows: list[tuple[dict[str, Any], bool, str]] = []
        decisive_is_episode = d is not None and d.get("source") not in ("case", "upstream")
        found = False
        for ep in e.episodes:
            mine = decisive_is_episode and _same_episode(ep, d)
            found = found or mine
            rows.append((ep, mine, ""))
        if d is not None and d.get("source") == "upstream":
            how = str(d.get("mistake", ""))
            how = MISTAKE_ZH.get(how, how) if self.lang == "zh" else how
            rows.insert(0, (d, True, w["upstream"].format(how=how)))
        elif decisive_is_episode and not found and d is not None:
            rows.insert(0, (d, True, ""))
        head = ["fence", "kind", "entry", "exit", "dwell", "pings", "depth", "p_inside"]
        nums = {"pings", "depth", "p_inside"}
        thead = "".join(
            f'<th{" class=num" if h in nums else ""} scope="col">{_x(w[h])}</th>' for h in head
        )
        body = []
        for ep, mine, note in rows:
            star = f'<div class="note">{_x(w["star"])}</div>' if mine else ""
            extra = f'<div class="note">{_x(note)}</div>' if note else ""
            cells = [
                f"<td>{_fence_cell(ep)}{star}{extra}</td>",
                f'<td class="kind">{_x(_kind(ep.get("kind"), self.lang))}</td>',
                f'<td class="time">{_x(self._time(ep.get("entry")))}</td>',
                f'<td class="time">{_x(self._time(ep.get("exit")))}</td>',
                f"<td>{_x('—' if ep.get('source') == 'upstream' else self._dwell(ep))}</td>",
                f'<td class="num">{int(ep.get("credible_pings") or 0)} / '
                f"{int(ep.get('pings') or 0)}</td>",
                f'<td class="num">{_x(self._metres(ep.get("max_depth_m")))}</td>',
                f'<td class="num">{_x(_p(ep.get("p_inside")))}</td>',
            ]
            fence_id = _x(str(ep.get("fence_id", "")))
            cls = ' class="decisive"' if mine else ""
            body.append(f'<tr{cls} data-episode-fence="{fence_id}">{"".join(cells)}</tr>')
        if not body:
            body.append(f'<tr><td colspan="{len(head)}">{_x(w["no-episode"])}</td></tr>')
        caption = (
            f'<p class="caption">{_x(w["times"].format(zone=self._zone_named()))} '
            f"{_x(w['dwell-note'].format(p=f'{self.e.credible_p:.2f}'))}</p>"
        )
        table = _table("episodes", thead, body)
        return self._section("evidence", table + caption)

    def _companions(self) -> str:
        pairs = self.e.companions
        if pairs is None:
            return ""
        w, d = self.w, self.e.decisive
        if not pairs:
            return self._section("companions", f"<p>{_x(w['no-companions'])}</p>")
        close = f"{float(self.e.close_m):g}"
        head = [
            ("case", ""),
            ("grid-min", "num"),
            ("close-min", "num"),
            ("credible-min", "num"),
            ("min-distance", "num"),
            ("together", ""),
            ("grid-rule", ""),
            ("robust", ""),
        ]
        thead = "".join(
            f'<th{" class=num" if c else ""} scope="col">{_x(w[h].format(close=close))}</th>'
            for h, c in head
        )
        body = []
        for pair in pairs:
            mine = (
                d is not None
                and d.get("source") == "case"
                and d.get("case_id") == pair.get("case_id")
            )
            star = f'<div class="note">{_x(w["star"])}</div>' if mine else ""
            first, last = pair.get("first_together"), pair.get("last_together")
            together = f"{self._time(first)} – {self._time(last)}"
            cells = [
                f'<td><span class="id">{_x(str(pair.get("case_id", "")))}</span>{star}</td>',
                f'<td class="num">{_x(self._minutes(pair.get("grid_minutes")))}</td>',
                f'<td class="num">{_x(self._minutes(pair.get("close_minutes")))}</td>',
                f'<td class="num">{_x(self._minutes(pair.get("credible_minutes")))}</td>',
                f'<td class="num">{_x(self._metres(pair.get("min_distance_m")))}</td>',
                f'<td class="time">{_x(together)}</td>',
                f"<td>{_x(w['fires'] if pair.get('grid_rule') else w['quiet'])}</td>",
                f"<td>{_x(w['same'] if pair.get('grid_robust') else w['changes'])}</td>",
            ]
            cls = ' class="decisive"' if mine else ""
            body.append(f"<tr{cls}>{''.join(cells)}</tr>")
        first = pairs[0]
        origin = first.get("grid_origin") or []
        origin_text = ", ".join(f"{float(v):.5f}" for v in origin) if origin else "?"
        cell = f"{float(first.get('cell_m') or 800):g}"
        caption = (
            f'<p class="caption">{_x(w["times"].format(zone=self._zone_named()))} '
            f"{_x(w['companions-note'].format(cell=cell, origin=origin_text))}</p>"
        )
        table = _table("companions", thead, body)
        return self._section("companions", table + caption)

    def _itinerary(self) -> str:
        places = self.e.itinerary
        if places is None:
            return ""
        w = self.w
        head = ["row", "place", "reported", "where", "radius", "near-pings", "nearest", "agree"]
        nums = {"row", "radius", "near-pings", "nearest"}
        thead = "".join(
            f'<th{" class=num" if h in nums else ""} scope="col">{_x(w[h])}</th>' for h in head
        )
        d = self.e.decisive
        body = []
        for place in places:
            mine = (
                d is not None
                and d.get("source") == "itinerary"
                and d.get("row") == place.get("row")
            )
            star = f'<div class="note">{_x(w["star"])}</div>' if mine else ""
            datum = str(place.get("datum") or "wgs84")
            where = (
                f"{_num(place.get('lon'), 5)}, {_num(place.get('lat'), 5)} "
                f"({_DATUMS.get(datum, datum)})"
            )
            agree = place.get("pings_agree")
            agree_text = "–" if agree is None else (w["yes"] if agree else w["no"])
            cells = [
                f'<td class="num">{_x(str(place.get("row", "")))}</td>',
                f"<td>{_x(str(place.get('place', '')))}{star}</td>",
                f'<td class="time">{_x(self._time(place.get("start")))} – '
                f"{_x(self._time(place.get('end')))}</td>",
                f"<td>{_x(where)}</td>",
                f'<td class="num">{_x(self._metres(place.get("radius_m")))}</td>',
                f'<td class="num">{int(place.get("pings") or 0)}</td>',
                f'<td class="num">{_x(self._metres(place.get("nearest_m")))}</td>',
                f"<td>{_x(agree_text)}</td>",
            ]
            cls = ' class="decisive"' if mine else ""
            body.append(f"<tr{cls}>{''.join(cells)}</tr>")
            fences = place.get("fences") or []
            if fences:
                lines = "; ".join(self._place_fence(f) for f in fences)
                body.append(
                    f'<tr class="found"><td></td><td colspan="{len(head) - 1}">'
                    f'<span class="note">{_x(w["found"])}:</span> {lines}</td></tr>'
                )
        if body:
            table = _table("itinerary", thead, body)
            out = [
                table,
                f'<p class="caption">{_x(w["times"].format(zone=self._zone_named()))}</p>',
            ]
        else:
            out = [f'<p class="no-places">{_x(w["no-places"])}</p>']
        out.append(self._unreported())
        return self._section("itinerary", "".join(out))

    def _place_fence(self, f: Mapping[str, Any]) -> str:
        w = self.w
        credible = w["credible"] if f.get("credible") else w["not-credible"]
        parts = [
            f"{_x(fence_label(f))} ({_x(_kind(f.get('kind'), self.lang))})",
            f"{_x(self._time(f.get('entry')))} – {_x(self._time(f.get('exit')))}",
        ]
        if f.get("dwell_s") is not None:
            parts.append(f"{_x(w['overlap'])} {_x(self._duration(float(f['dwell_s'])))}")
        if f.get("distance_m") is not None:
            parts.append(f"{_x(w['distance'])} {_x(self._metres(f.get('distance_m')))}")
        if f.get("p_inside") is not None:
            parts.append(f"{_x(w['p_inside'])} {_x(_p(f.get('p_inside')))}")
        parts.append(_x(credible))
        return ", ".join(parts)

    def _unreported(self) -> str:
        items = self.e.itinerary_unreported
        if items is None:
            return ""
        w = self.w
        if not items:
            return f"<h3>{_x(w['unreported'])}</h3><p>{_x(w['all-reported'])}</p>"
        head = ["fence", "kind", "entry", "exit", "pings"]
        thead = "".join(
            f'<th{" class=num" if h == "pings" else ""} scope="col">'
            f"{_x(w['fixes-col'] if h == 'pings' else w[h])}</th>"
            for h in head
        )
        body = []
        for item in items:
            cells = [
                f"<td>{_fence_cell(item)}</td>",
                f'<td class="kind">{_x(_kind(item.get("kind"), self.lang))}</td>',
                f'<td class="time">{_x(self._time(item.get("entry")))}</td>',
                f'<td class="time">{_x(self._time(item.get("exit")))}</td>',
                f'<td class="num">{int(item.get("pings") or 0)}</td>',
            ]
            fence_id = _x(str(item.get("fence_id", "")))
            body.append(f'<tr data-episode-fence="{fence_id}">{"".join(cells)}</tr>')
        return (
            f"<h3>{_x(w['unreported'])}</h3>"
            f'<table class="unreported"><thead><tr>{thead}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        )

    def _region(self) -> str:
        spells = self.e.left_region
        if spells is None:
            return ""
        w = self.w
        if not spells:
            return self._section("region", f'<p class="stayed">{_x(w["stayed"])}</p>')
        head = ["start", "end", "pings", "farthest"]
        thead = "".join(
            f'<th{" class=num" if h in ("pings", "farthest") else ""} scope="col">'
            f"{_x(w['fixes-col'] if h == 'pings' else w[h])}</th>"
            for h in head
        )
        body = []
        for spell in spells:
            km = spell.get("farthest_km")
            unit = "公里" if self.lang == "zh" else "km"
            km_text = "?" if km is None else f"{float(km):,.1f} {unit}"
            cells = [
                f'<td class="time">{_x(self._time(spell.get("start")))}</td>',
                f'<td class="time">{_x(self._time(spell.get("end")))}</td>',
                f'<td class="num">{int(spell.get("pings") or 0)}</td>',
                f'<td class="num">{_x(km_text)}</td>',
            ]
            body.append(f"<tr>{''.join(cells)}</tr>")
        lead = w["left"].format(n=_spells(len(spells), self.lang))
        return self._section(
            "region",
            f'<p class="left">{_x(lead)}</p><table class="region"><thead><tr>{thead}</tr>'
            f"</thead><tbody>{''.join(body)}</tbody></table>"
            f'<p class="caption">{_x(w["times"].format(zone=self._zone_named()))}</p>',
        )

    def _near_misses(self) -> str:
        misses = self.e.near_misses
        if not misses and self.e.verdict != "unexplained":
            return ""
        w = self.w
        if not misses:
            return self._section("near-misses", f"<p>{_x(w['no-near'])}</p>")
        head = ["fence", "kind", "miss-distance", "time-gap", "when"]
        thead = "".join(
            f'<th{" class=num" if h in ("miss-distance", "time-gap") else ""} scope="col">'
            f"{_x(w[h])}</th>"
            for h in head
        )
        body = []
        for m in misses:
            gap = float(m.get("time_gap_s") or 0.0)
            cells = [
                f"<td>{_fence_cell(m)}</td>",
                f'<td class="kind">{_x(_kind(m.get("kind"), self.lang))}</td>',
                f'<td class="num">{_x(self._metres(m.get("distance_m")))}</td>',
                f'<td class="num">{_x(self._duration(gap))}</td>',
                f'<td class="time">{_x(self._time(m.get("t")))}</td>',
            ]
            body.append(
                f'<tr data-near-fence="{_x(str(m.get("fence_id", "")))}">{"".join(cells)}</tr>'
            )
        return self._section(
            "near-misses",
            f'<table class="near"><thead><tr>{thead}</tr></thead><tbody>{"".join(body)}'
            f'</tbody></table><p class="caption">'
            f"{_x(w['times'].format(zone=self._zone_named()))}</p>",
        )

    def _advice(self) -> str:
        w = self.w
        advice = self.e.advice.get(self.lang, "")
        items = []
        for state, text in checklist(self.e, self.lang):
            items.append(
                f'<li class="{state}"><span class="box">{_x(w[state])}</span>{_x(text)}</li>'
            )
        body = (
            f'<p class="advice" data-advice="{_x(self.e.advice_key)}">{_x(advice)}</p>'
            f"<h3>{_x(w['checklist'])}</h3>"
            f'<ul class="checklist">{"".join(items)}</ul>'
        )
        return self._section("advice", body)

    def _not_checked(self) -> str:
        e, w = self.e, self.w
        lines = [w.get(f"nc:{name}", name) for name in e.not_checked]
        if e.left_region is None:
            lines.append(w["nc:region"])
        if e.itinerary is None:
            lines.append(w["nc:itinerary"])
        gap = e.coverage.get("longest_gap") or {}
        if gap.get("noted"):
            lines.append(
                w["nc:gap"].format(
                    start=self._time(gap.get("start"), "%m-%d %H:%M"),
                    end=self._time(gap.get("end"), "%m-%d %H:%M"),
                    hours=f"{float(gap.get('hours') or 0):,.0f}",
                )
            )
        if not lines:
            lines.append(w["nc:nothing"])
        items = "".join(f"<li>{_x(line)}</li>" for line in lines)
        return self._section("not-checked", f'<ul class="plain">{items}</ul>')

    def _footer(self) -> str:
        text = self.w["footer"].format(
            version=__version__,
            dwell=self._duration(self.e.min_dwell_s),
            p=f"{self.e.credible_p:.2f}",
        )
        return f"<footer>{_x(text)}</footer>\n"

    # -- values ------------------------------------------------------------------------------

    def _time(self, when: Any, pattern: str = "%m-%d %H:%M:%S") -> str:
        """A time in the display zone; "?" for a missing one."""
        if when is None or (isinstance(when, str) and when in ("", "NaT")):
            return "?"
        try:
            value = when if isinstance(when, int) else parse_time(str(when), tz="UTC")
            return format_local(value, self.e.tz, pattern=pattern, show_zone=False)
        except (OptionError, ValueError):
            return "?"

    def _zone_named(self) -> str:
        """The display zone as a reader names it, with its IANA name when that differs."""
        return self.zone if self.zone == self.e.tz else f"{self.zone} ({self.e.tz})"

    def _duration(self, seconds: float) -> str:
        return duration_zh(seconds) if self.lang == "zh" else duration_en(seconds)

    def _dwell(self, ep: Mapping[str, Any]) -> str:
        low = ep.get("dwell_s")
        high = ep.get("dwell_s_max")
        low_text = "?" if low is None else self._duration(float(low))
        high_text = "?" if high is None else self._duration(float(high))
        return f"{low_text} – {high_text}"

    def _metres(self, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "?"
        v = float(value)
        text = f"{v:,.0f}".replace("-", "−")
        return f"{text} 米" if self.lang == "zh" else f"{text} m"

    def _minutes(self, value: Any) -> str:
        if value is None:
            return "?"
        text = f"{float(value):,.0f}"
        return f"{text} 分钟" if self.lang == "zh" else f"{text} min"


# -- small helpers -----------------------------------------------------------------------------


def _table(cls: str, thead: str, body: Sequence[str]) -> str:
    """A table with its header row and body rows."""
    return (
        f'<table class="{cls}"><thead><tr>{thead}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _fence_cell(item: Mapping[str, Any]) -> str:
    """A fence in a table cell: its name, then its id kept on one line."""
    fence_id = f'<span class="fid">({_x(str(item.get("fence_id", "")))})</span>'
    name = item.get("name")
    return f"{_x(str(name))} {fence_id}" if name else fence_id


def _x(text: str) -> str:
    """Escape text for HTML content and attribute values."""
    return escape(text, quote=True)


def _kind(kind: str | None, lang: str) -> str:
    """A fence kind as a table shows it (封控区, sealed area)."""
    en, zh = KIND_WORDS.get(kind or "", ((kind or "fence").replace("_", " "), kind or "电子围栏"))
    return zh if lang == "zh" else en.removeprefix("a ").removeprefix("an ")


def _p(value: Any) -> str:
    if value is None:
        return "?"
    return f"{float(value):.2f}"


def _num(value: Any, digits: int) -> str:
    try:
        return f"{float(value):.{digits}f}"
    except (TypeError, ValueError):
        return "?"


def _same_episode(ep: Mapping[str, Any], d: Mapping[str, Any] | None) -> bool:
    if d is None:
        return False
    return bool(ep.get("fence_id") == d.get("fence_id") and ep.get("entry") == d.get("entry"))


def _lookback_words(seconds: float, lang: str) -> str:
    days = seconds / 86_400
    if days >= 1 and abs(days - round(days)) < 1e-9:
        n = round(days)
        return f"{n} 天" if lang == "zh" else f"{n} day" + ("" if n == 1 else "s")
    return duration_zh(seconds) if lang == "zh" else duration_en(seconds)


def _spells(n: int, lang: str) -> str:
    if lang == "zh":
        return f"{n} 段"
    return f"{n} spell" + ("" if n == 1 else "s")


def _places(n: int, lang: str) -> str:
    if lang == "zh":
        return f"{n} 处地点"
    return f"{n} place" + ("" if n == 1 else "s")


def section_ids(page: str) -> Sequence[str]:
    """The ids of a page's sections, in order (for tests and tools reading a page).

    Examples
    --------
    >>> section_ids('<section id="verdict"></section><section id="map"></section>')
    ['verdict', 'map']
    """
    return re.findall(r'<section id="([a-z-]+)"', page)
