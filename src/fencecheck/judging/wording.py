"""The words of a report, in Chinese and English: what a community worker reads out.

Every sentence names its fence by name and id ("东城区 (D110101)"), says what
kind of place it is in words ("a sealed area", "封控区"), and gives the time
(in the display zone, Beijing time by default), the distance and how sure we
are. A resident who only passed by is told it was a passage, never to stay
home. Durations under a minute are given in seconds; counts have the right
plural. The functions take an explanation's JSON-ready parts (see
:class:`~fencecheck.Explanation`), so the text says exactly what the JSON does.

Examples
--------
>>> duration_en(35), duration_en(60), duration_en(21_391), duration_zh(35)
('35 s', '1 minute', '5 h 57 min', '35 秒')
>>> duration_en(14 * 86_400), duration_en(90_000), duration_zh(14 * 86_400)
('14 days', '1 day 1 h', '14 天')
>>> count_en(1, "fix", "fixes"), count_en(3, "person", "people")
('1 fix', '3 people')
>>> fence_label({"fence_id": "D110101", "name": "东城区"})
'东城区 (D110101)'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fencecheck.times import format_local, zone_label
from fencecheck.values import counted

__all__ = [
    "KIND_WORDS",
    "MISTAKE_ZH",
    "count_en",
    "duration_en",
    "duration_zh",
    "fence_label",
    "kind_words",
    "text_en",
    "text_zh",
]

KIND_WORDS: Mapping[str, tuple[str, str]] = {
    "sealed": ("a sealed area", "封控区"),
    "controlled": ("a controlled area", "管控区"),
    "precaution": ("a precaution area", "防范区"),
    "risk_area": ("a risk area", "风险区域"),
    "risk_venue": ("a risk venue", "风险点位"),
}
"""Each fence kind in words (en, zh); any other kind is "a fence" (电子围栏)."""

MISTAKE_ZH: Mapping[str, str] = {
    "local times read as UTC": "本地时间被当作 UTC 读取",
    "UTC times read as local time": "UTC 时间被当作本地时间读取",
    "fences in GCJ-02 read as WGS-84": "围栏坐标为 GCJ-02 却按 WGS-84 读取",
    "fences in WGS-84 read as GCJ-02": "围栏坐标为 WGS-84 却按 GCJ-02 读取",
    "pings in GCJ-02 read as WGS-84": "定位坐标为 GCJ-02 却按 WGS-84 读取",
    "pings in WGS-84 read as GCJ-02": "定位坐标为 WGS-84 却按 GCJ-02 读取",
}
"""Each upstream mistake (``evidence[...]["how"]``) in Chinese; the report and the page share it."""

_COMPASS_ZH = {
    "east": "东",
    "north-east": "东北",
    "north": "北",
    "north-west": "西北",
    "west": "西",
    "south-west": "西南",
    "south": "南",
    "south-east": "东南",
}
_SOURCE_ZH = {"gps": "GPS", "wifi": "Wi-Fi", "cell": "基站"}


# -- pieces ---------------------------------------------------------------------------------


def fence_label(item: Mapping[str, Any]) -> str:
    """A fence as a reader names it: its name with its id, or its id alone."""
    name = item.get("name")
    return f"{name} ({item['fence_id']})" if name else str(item["fence_id"])


def kind_words(kind: str | None, lang: str) -> str:
    """The kind of place in words (``"a sealed area"``, ``"封控区"``)."""
    en, zh = KIND_WORDS.get(kind or "", ("a fence", "电子围栏"))
    return zh if lang == "zh" else en


def duration_en(seconds: float) -> str:
    """A duration in seconds, minutes or hours and minutes, as a person says it."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return count_en(minutes, "minute", "minutes")
    if minutes < 1440:
        return f"{minutes // 60} h {minutes % 60} min"
    hours = (minutes % 1440) // 60
    return count_en(minutes // 1440, "day", "days") + (f" {hours} h" if hours else "")


def duration_zh(seconds: float) -> str:
    """:func:`duration_en` in Chinese."""
    s = round(seconds)
    if s < 60:
        return f"{s} 秒"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} 分钟"
    if minutes < 1440:
        return f"{minutes // 60} 小时 {minutes % 60} 分钟"
    hours = (minutes % 1440) // 60
    return f"{minutes // 1440} 天" + (f" {hours} 小时" if hours else "")


def count_en(n: int, one: str, many: str) -> str:
    """``n`` things with the right plural (:func:`fencecheck.values.counted`)."""
    return counted(n, one, many)


def _clock(when: Any, tz: str) -> str:
    return format_local(when, tz, pattern="%m-%d %H:%M", show_zone=False)


def _slip_hours(shift_ms: float) -> str:
    return f"{abs(shift_ms) / 3_600_000:.0f}"


# -- English ----------------------------------------------------------------------------------


def text_en(e: Any) -> str:
    """The English paragraph of an explanation."""
    zone = zone_label(e.tz, "en")
    d = e.decisive
    lines: list[str] = []
    if d is not None and _case_decides(e):
        lines.extend(_case_en(e, d, zone))
    elif d is not None and d.get("source") == "itinerary":
        lines.extend(_itinerary_decides_en(e, d, zone))
    elif e.verdict in ("exposed", "passed_through") and d is not None:
        where = f"{fence_label(d)}, {kind_words(d['kind'], 'en')}"
        inside = (
            f"up to {d['max_depth_m']:.0f} m inside"
            if d["max_depth_m"] >= 0
            else f"{-d['max_depth_m']:.0f} m from it, inside its margin"
        )
        bound = f", at most {duration_en(d['dwell_s_max'])}" if d["dwell_s_max"] is not None else ""
        fixes = count_en(d["credible_pings"], "credible fix", "credible fixes")
        lines.append(
            f"{e.person_id} was in {where}, from {_clock(d['entry'], e.tz)} to "
            f"{_clock(d['exit'], e.tz)} ({zone}): at least {duration_en(d['dwell_s'])}{bound}, "
            f"{inside}, with {fixes} (best p_inside {d['p_inside']:.2f})."
        )
        minimum = duration_en(e.min_dwell_s)
        if e.verdict == "exposed":
            lines.append(f"That is a stay of at least {minimum}: the pop-up is justified.")
        else:
            lines.append(
                f"That is a passage, shorter than the {minimum} that make a stay: "
                "the pop-up came from passing through, not from staying."
            )
    elif e.verdict == "false_trigger":
        lines.append(f"{e.person_id}: the pop-up was a false trigger.")
        lines.extend(_false_en(e, zone))
    else:
        lines.append(_unexplained_en(e, zone))
    lines.extend(_others_en(e))
    lines.extend(_other_pairs_en(e, zone))
    lines.extend(_itinerary_en(e, zone))
    lines.extend(_region_en(e, zone))
    lines.extend(_coverage_en(e, zone))
    lines.append(f"Advice: {e.advice['en']}")
    return " ".join(line for line in lines if line)


def _false_en(e: Any, zone: str) -> list[str]:
    out = []
    grazing = e.evidence.get("boundary_uncertainty")
    if grazing:
        where = f"{fence_label(grazing)}, {kind_words(grazing['kind'], 'en')}"
        how_far = (
            f"{grazing['distance_m']:.0f} m outside it"
            if grazing["distance_m"] > 0
            else "just inside its edge"
        )
        out.append(
            f"No fix placed {e.person_id} in {where}: the best, a {grazing['source']} fix at "
            f"{_clock(grazing['t'], e.tz)} ({zone}) with {grazing['accuracy_m']:.0f} m accuracy, "
            f"{how_far}, gives p_inside {grazing['best_p_inside']:.2f}, below the "
            f"{e.credible_p:.2f} a credible fix needs."
        )
    jump = e.evidence.get("location_jump")
    if jump:
        v = jump["implied_speed_mps"]
        out.append(
            f"One fix at {_clock(jump['t'], e.tz)} ({zone}) jumped into {fence_label(jump)}, "
            f"{kind_words(jump['kind'], 'en')}, and back at an implied {v:.0f} m/s "
            f"({v * 3.6:.0f} km/h), beyond any person, while the fixes either side agree."
        )
    for reason in ("timezone_shift", "datum_shift"):
        ev = e.evidence.get(reason)
        if ev:
            out.append(_mistake_en(e, ev, zone))
    coarse = e.evidence.get("grid_coarse")
    if coarse and not _case_decides(e):
        out.extend(_case_en(e, coarse, zone, lead=False))
    return out


def _case_en(e: Any, pair: Mapping[str, Any], zone: str, lead: bool = True) -> list[str]:
    """A companion finding in a worker's words (the grid rule, and how close they really were)."""
    cell = f"{pair['cell_m']:.0f} m"
    when = f"from {_clock(pair['first_together'], e.tz)} to {_clock(pair['last_together'], e.tz)}"
    nearest = f"{pair['min_distance_m']:.0f} m"
    credible = pair["credible_minutes"] * 60
    who = e.person_id if lead else "They"
    if credible > 0:
        when = f"between {_clock(pair['first_close'], e.tz)} and {_clock(pair['last_close'], e.tz)}"
        out = [
            f"{who} was credibly within {e.close_m:.0f} m of case {pair['case_id']} for "
            f"{duration_en(credible)}, {when} ({zone}), as close as {nearest} "
            f"(p_close up to {pair['max_p_close']:.2f})."
        ]
        minimum = duration_en(e.min_together_s)
        if e.verdict == "exposed" and credible >= e.min_together_s:
            out.append(f"That is at least {minimum} together: the pop-up is justified.")
        else:
            out.append(
                f"That is shorter than the {minimum} that make a companion: a brief contact, "
                "a passage rather than time together."
            )
        return out
    robust = (
        "it fires on any grid moved by half a cell"
        if pair["grid_robust"]
        else "moved by half a cell, the grid would give another answer"
    )
    lead_words = f"{e.person_id}: the pop-up was a false trigger. " if lead else ""
    return [
        f"{lead_words}{who} shared a {cell} grid cell with case {pair['case_id']} for "
        f"{duration_en(pair['grid_minutes'] * 60)}, {when} ({zone}), but the two phones were "
        f"never closer than {nearest} and never credibly within {e.close_m:.0f} m: the grid "
        "rule is coarse "
        f"({robust})."
    ]


def _case_decides(e: Any) -> bool:
    return e.decisive is not None and e.decisive.get("source") == "case"


def _other_pair(e: Any) -> Mapping[str, Any] | None:
    """The person's most serious pair, when a fence decided and no reason already names it."""
    if not e.companions or _case_decides(e) or "grid_coarse" in e.evidence:
        return None
    pair: Mapping[str, Any] = e.companions[0]
    return pair


def _other_pairs_en(e: Any, zone: str) -> list[str]:
    """The person's most serious pair when a fence, not a case, decided."""
    pair = _other_pair(e)
    if pair is None:
        return []
    return [
        f"Also: in the same {pair['cell_m']:.0f} m cell as case {pair['case_id']} for "
        f"{duration_en(pair['grid_minutes'] * 60)}, never closer than "
        f"{pair['min_distance_m']:.0f} m ({duration_en(pair['credible_minutes'] * 60)} "
        "credibly close)."
    ]


def _mistake_en(e: Any, ev: Mapping[str, Any], zone: str) -> str:
    where = f"{fence_label(ev)}, {kind_words(ev['kind'], 'en')}"
    if ev["unit"] == "ms":
        story = (
            f"No fix was in an active fence. The fix at {_clock(ev['t_right'], e.tz)} ({zone}) "
            f"was read as {_clock(ev['t'], e.tz)} ({ev['how']}, {_slip_hours(ev['shift'])} h "
            f"off), when {where}, was active."
        )
        others = f"{ev['alternatives']} other whole-hour shifts"
        what = "slip"
    else:
        moved = "the fence" if ev["how"].startswith("fences") else "the fix"
        story = (
            f"No fix was in an active fence: the fix at {_clock(ev['t_right'], e.tz)} ({zone}) "
            f"was {ev['distance_m']:.0f} m from {where}. With {ev['how']}, {moved} moved "
            f"{ev['shift']:.0f} m {ev.get('moved_to', '')} and the fix fell inside."
        ).replace("  ", " ")
        others = f"{ev['alternatives']} other directions for the same {ev['shift']:.0f} m"
        what = "mix-up"
    hit = ev["alternatives_hit"]
    if ev["specific"]:
        so_few = "None" if hit == 0 else f"Only {hit}"
        return (
            f"{story} {so_few} of {others} would also put a fix in a fence: the {what} is "
            "specific, the likely cause."
        )
    return (
        f"Possibly: {story[0].lower()}{story[1:]} But {hit} of {others} would also put a fix in "
        "a fence, so this may be chance and cannot be called the cause."
    )


def _unexplained_en(e: Any, zone: str) -> str:
    cover = e.coverage
    if cover["pings"] == 0:
        return (
            f"{e.person_id}: there is no location data in the {duration_en(e.lookback_s)} before "
            f"{_clock(e.at, e.tz)} ({zone}), so nothing could be checked against the fences."
        )
    near = "; ".join(
        f"{fence_label(m)}, {kind_words(m['kind'], 'en')}, {m['distance_m']:.0f} m away at "
        f"{_clock(m['t'], e.tz)}" + _time_gap_en(m["time_gap_s"])
        for m in e.near_misses
    )
    return (
        f"{e.person_id}: nothing in the data explains a pop-up: no fix was in an active fence, "
        "and no time-zone slip or datum mix-up reproduces one."
        + (f" Nearest: {near}." if near else "")
        + (
            " Not checked: association with a risk person (no case trajectories)."
            if "risk_person" in e.not_checked
            else ""
        )
    )


def _time_gap_en(seconds: float) -> str:
    if not seconds:
        return ""
    side = "before it opened" if seconds < 0 else "after it closed"
    return f", {abs(seconds) / 3600:.1f} h {side}"


def _others_en(e: Any) -> list[str]:
    groups = _other_episodes(e)
    if not groups:
        return []
    words = {"stay": ("stay in", "stays in"), "passage": ("passage through", "passages through"),
             "brush": ("brush with", "brushes with"),
             "jump": ("location jump into", "location jumps into")}  # fmt: skip
    parts = [
        f"{count_en(n, *words[kind])} {label} on {', '.join(days)}"
        for (kind, label), (n, days) in groups
    ]
    return [f"Also in the lookback: {'; '.join(parts)}."]


def _coverage_en(e: Any, zone: str) -> list[str]:
    cover = e.coverage
    gap = cover["longest_gap"]
    if cover["pings"] == 0 or not gap["noted"]:
        return []
    hours = count_en(cover["hours_with_data"], "hour", "hours")
    return [
        f"The location data covers {hours} of the {cover['lookback_hours']:.0f} looked back; "
        f"there is none between {_clock(gap['start'], e.tz)} and {_clock(gap['end'], e.tz)} "
        f"({zone}), so nothing can be said of that time."
    ]


# -- Chinese ----------------------------------------------------------------------------------


def text_zh(e: Any) -> str:
    """The Chinese paragraph of an explanation."""
    zone = zone_label(e.tz, "zh")
    d = e.decisive
    lines: list[str] = []
    if d is not None and _case_decides(e):
        lines.extend(_case_zh(e, d, zone))
    elif d is not None and d.get("source") == "itinerary":
        lines.extend(_itinerary_decides_zh(e, d, zone))
    elif e.verdict in ("exposed", "passed_through") and d is not None:
        inside = (
            f"最深处距边界 {d['max_depth_m']:.0f} 米"
            if d["max_depth_m"] >= 0
            else f"距其 {-d['max_depth_m']:.0f} 米，在缓冲范围内"
        )
        bound = f"，至多 {duration_zh(d['dwell_s_max'])}" if d["dwell_s_max"] is not None else ""
        lines.append(
            f"{e.person_id} 于{zone} {_clock(d['entry'], e.tz)} 至 {_clock(d['exit'], e.tz)} "
            f"位于{kind_words(d['kind'], 'zh')} {fence_label(d)} 内：停留至少 "
            f"{duration_zh(d['dwell_s'])}{bound}，{inside}，可信定位 {d['credible_pings']} 个"
            f"（在围栏内的概率最高 {d['p_inside']:.2f}）。"
        )
        minimum = duration_zh(e.min_dwell_s)
        if e.verdict == "exposed":
            lines.append(f"停留达到 {minimum}，弹窗有依据。")
        else:
            lines.append(f"停留短于构成停留的 {minimum}，属途经，弹窗来自途经而非停留。")
    elif e.verdict == "false_trigger":
        lines.append(f"{e.person_id}：弹窗系误判。")
        lines.extend(_false_zh(e, zone))
    else:
        lines.append(_unexplained_zh(e, zone))
    lines.extend(_others_zh(e))
    lines.extend(_other_pairs_zh(e))
    lines.extend(_itinerary_zh(e, zone))
    lines.extend(_region_zh(e, zone))
    lines.extend(_coverage_zh(e, zone))
    lines.append(f"建议：{e.advice['zh']}")
    return "".join(line for line in lines if line)


def _false_zh(e: Any, zone: str) -> list[str]:
    out = []
    grazing = e.evidence.get("boundary_uncertainty")
    if grazing:
        distance = grazing["distance_m"]
        how_far = f"距围栏 {distance:.0f} 米" if distance > 0 else "紧贴边界内侧"
        source = _SOURCE_ZH.get(grazing["source"], grazing["source"])
        out.append(
            f"没有定位能确认其位于{kind_words(grazing['kind'], 'zh')} {fence_label(grazing)} 内："
            f"最好的是{zone} {_clock(grazing['t'], e.tz)} 的{source}定位，精度 "
            f"{grazing['accuracy_m']:.0f} 米，{how_far}，在围栏内的概率仅 "
            f"{grazing['best_p_inside']:.2f}，低于可信所需的 {e.credible_p:.2f}。"
        )
    jump = e.evidence.get("location_jump")
    if jump:
        v = jump["implied_speed_mps"]
        out.append(
            f"{zone} {_clock(jump['t'], e.tz)} 有一个定位点跳入{kind_words(jump['kind'], 'zh')} "
            f"{fence_label(jump)} 又跳回，折算速度 {v:.0f} 米/秒（{v * 3.6:.0f} 公里/小时），"
            "非人力可及，且前后定位彼此一致。"
        )
    for reason in ("timezone_shift", "datum_shift"):
        ev = e.evidence.get(reason)
        if ev:
            out.append(_mistake_zh(e, ev, zone))
    coarse = e.evidence.get("grid_coarse")
    if coarse and not _case_decides(e):
        out.extend(_case_zh(e, coarse, zone, lead=False))
    return out


def _case_zh(e: Any, pair: Mapping[str, Any], zone: str, lead: bool = True) -> list[str]:
    """:func:`_case_en` in Chinese."""
    when = f"{zone} {_clock(pair['first_together'], e.tz)} 至 {_clock(pair['last_together'], e.tz)}"
    credible = pair["credible_minutes"] * 60
    if credible > 0:
        when = f"{zone} {_clock(pair['first_close'], e.tz)} 至 {_clock(pair['last_close'], e.tz)}"
        out = [
            f"{e.person_id if lead else '其'}于{when}与病例 {pair['case_id']} 可信地相距 "
            f"{e.close_m:.0f} 米以内共 {duration_zh(credible)}，"
            f"最近 {pair['min_distance_m']:.0f} 米（相近概率最高 {pair['max_p_close']:.2f}）。"
        ]
        minimum = duration_zh(e.min_together_s)
        if e.verdict == "exposed" and credible >= e.min_together_s:
            out.append(f"共处达到 {minimum}，弹窗有依据。")
        else:
            out.append(f"短于构成时空伴随的 {minimum}，属短暂接触。")
        return out
    robust = "网格平移半格后结论不变" if pair["grid_robust"] else "网格平移半格后结论会改变"
    lead_words = f"{e.person_id}：弹窗系误判。" if lead else ""
    return [
        f"{lead_words}于{when}与病例 {pair['case_id']} 同处一个 {pair['cell_m']:.0f} 米网格共 "
        f"{duration_zh(pair['grid_minutes'] * 60)}，但最近也相距 {pair['min_distance_m']:.0f} 米，"
        f"从未可信地相距 {e.close_m:.0f} 米以内：网格规则过粗（{robust}）。"
    ]


def _other_pairs_zh(e: Any) -> list[str]:
    pair = _other_pair(e)
    if pair is None:
        return []
    return [
        f"另：与病例 {pair['case_id']} 同处一个 {pair['cell_m']:.0f} 米网格共 "
        f"{duration_zh(pair['grid_minutes'] * 60)}，最近相距 {pair['min_distance_m']:.0f} 米"
        f"（可信相近 {duration_zh(pair['credible_minutes'] * 60)}）。"
    ]


def _mistake_zh(e: Any, ev: Mapping[str, Any], zone: str) -> str:
    where = f"{kind_words(ev['kind'], 'zh')} {fence_label(ev)}"
    how = MISTAKE_ZH.get(ev["how"], ev["how"])
    if ev["unit"] == "ms":
        story = (
            f"没有定位落入生效围栏。{zone} {_clock(ev['t_right'], e.tz)} 的定位被读作 "
            f"{_clock(ev['t'], e.tz)}（{how}，相差 {_slip_hours(ev['shift'])} 小时），"
            f"而该时刻{where} 正生效。"
        )
        others = f"其他 {ev['alternatives']} 种整点时差"
        what = "时差"
    else:
        moved = "围栏" if ev["how"].startswith("fences") else "定位"
        direction = _COMPASS_ZH.get(ev.get("moved_to", ""), "")
        story = (
            f"没有定位落入生效围栏：{zone} {_clock(ev['t_right'], e.tz)} 的定位距{where} "
            f"{ev['distance_m']:.0f} 米；因{how}，{moved}向{direction}偏移 "
            f"{ev['shift']:.0f} 米，定位便落入其中。"
        )
        others = f"同样 {ev['shift']:.0f} 米偏移的其他 {ev['alternatives']} 个方向"
        what = "坐标系错误"
    hit = ev["alternatives_hit"]
    if ev["specific"]:
        few = "没有一种" if hit == 0 else f"只有 {hit} 种"
        return f"{story}{others}中{few}也会使定位落入围栏：此{what}具有特异性，很可能是原因。"
    return (
        f"可能是：{story}但{others}中有 {hit} 种也会使定位落入围栏，可能只是巧合，不能认定为原因。"
    )


def _unexplained_zh(e: Any, zone: str) -> str:
    if e.coverage["pings"] == 0:
        return (
            f"{e.person_id}：{zone} {_clock(e.at, e.tz)} 之前 {duration_zh(e.lookback_s)}内"
            "没有任何定位数据，无法与围栏核对。"
        )
    near = "；".join(
        f"{kind_words(m['kind'], 'zh')} {fence_label(m)}，{zone} {_clock(m['t'], e.tz)} 相距 "
        f"{m['distance_m']:.0f} 米" + _time_gap_zh(m["time_gap_s"])
        for m in e.near_misses
    )
    return (
        f"{e.person_id}：数据中找不到弹窗原因：没有定位落入生效围栏，时区或坐标系错误也无法复现。"
        + (f"最近的围栏：{near}。" if near else "")
        + ("未核查：与风险人员的关联（无病例轨迹）。" if "risk_person" in e.not_checked else "")
    )


def _time_gap_zh(seconds: float) -> str:
    if not seconds:
        return ""
    side = "启用前" if seconds < 0 else "解除后"
    return f"（{side} {abs(seconds) / 3600:.1f} 小时）"


def _others_zh(e: Any) -> list[str]:
    groups = _other_episodes(e)
    if not groups:
        return []
    words = {"stay": "停留于", "passage": "途经", "brush": "擦边（不可信）", "jump": "定位跳入"}
    parts = [
        f"{', '.join(days)} {words[kind]} {label} 共 {n} 次" for (kind, label), (n, days) in groups
    ]
    return [f"回溯期内另有：{'；'.join(parts)}。"]


def _coverage_zh(e: Any, zone: str) -> list[str]:
    cover = e.coverage
    gap = cover["longest_gap"]
    if cover["pings"] == 0 or not gap["noted"]:
        return []
    lookback, hours = f"{cover['lookback_hours']:.0f}", cover["hours_with_data"]
    return [
        f"回溯的 {lookback} 小时中只有 {hours} 小时有定位数据；"
        f"{zone} {_clock(gap['start'], e.tz)} 至 {_clock(gap['end'], e.tz)} 之间没有数据，"
        "这段时间无法判断。"
    ]


# -- itinerary and region ---------------------------------------------------------------------


def _span(start: Any, end: Any, tz: str) -> tuple[str, str]:
    return _clock(start, tz), _clock(end, tz)


def _itinerary_decides_en(e: Any, d: Mapping[str, Any], zone: str) -> list[str]:
    start, end = _span(d["entry"], d["exit"], e.tz)
    where = "inside it" if d["max_depth_m"] >= 0 else f"{-d['max_depth_m']:.0f} m from it"
    lines = [
        f"{e.person_id} reported being at {d['place']} (within {d['radius_m']:.0f} m of the pin) "
        f"while {fence_label(d)}, {kind_words(d['kind'], 'en')}, was active, from {start} to "
        f"{end} ({zone}): {duration_en(d['dwell_s'])} by the itinerary, the pin {where}, "
        f"{d['p_inside']:.0%} of the reported place inside the fence."
    ]
    minimum = duration_en(e.min_dwell_s)
    if e.verdict == "exposed":
        lines.append(
            f"By the itinerary that is a stay of at least {minimum}: the pop-up is justified."
        )
    else:
        lines.append(
            f"By the itinerary that is a passage, shorter than the {minimum} that make a stay."
        )
    return lines


def _itinerary_decides_zh(e: Any, d: Mapping[str, Any], zone: str) -> list[str]:
    start, end = _span(d["entry"], d["exit"], e.tz)
    where = (
        "定位点在围栏内" if d["max_depth_m"] >= 0 else f"定位点距围栏 {-d['max_depth_m']:.0f} 米"
    )
    lines = [
        f"{e.person_id} 自述于{zone} {start} 至 {end} 在{d['place']}（标注点 {d['radius_m']:.0f} 米"
        f"范围内），其时{kind_words(d['kind'], 'zh')} {fence_label(d)} 处于有效期：按行程停留 "
        f"{duration_zh(d['dwell_s'])}，{where}，所报地点 {d['p_inside']:.0%} 的范围在围栏内。"
    ]
    minimum = duration_zh(e.min_dwell_s)
    if e.verdict == "exposed":
        lines.append(f"按行程停留达到 {minimum}，弹窗有依据。")
    else:
        lines.append(f"按行程停留短于构成停留的 {minimum}，属途经。")
    return lines


def _other_findings(place: Mapping[str, Any], decisive: Mapping[str, Any]) -> list[Any]:
    """A reported place's fence findings, less the one the lead sentence already gives."""
    said = decisive.get("source") == "itinerary" and decisive.get("row") == place["row"]
    return [f for f in place["fences"] if not (said and decisive.get("fence_id") == f["fence_id"])]


def _itinerary_en(e: Any, zone: str) -> list[str]:
    if e.itinerary is None:
        return []
    if not e.itinerary:
        return ["No itinerary was reported for this person."]
    out = []
    decisive = e.decisive or {}
    for place in e.itinerary:
        start, end = _span(place["start"], place["end"], e.tz)
        if not place["in_lookback"]:
            out.append(
                f"The reported place {place['place']} ({start} to {end}) lies outside the lookback."
            )
            continue
        met = _other_findings(place, decisive)
        for f in met:
            how = "a credible overlap" if f["credible"] else "only an uncertain brush"
            out.append(
                f"The reported place {place['place']} ({start} to {end}) meets {fence_label(f)}, "
                f"{kind_words(f['kind'], 'en')}, for {duration_en(f['dwell_s'])}: {how} "
                f"({f['p_inside']:.0%} of the place inside)."
            )
        if place["pings_agree"] is False:
            out.append(
                f"The pings do not come near the reported place {place['place']} ({start} to "
                f"{end}): the closest fix in that time was {place['nearest_m']:.0f} m away."
            )
        elif place["pings_agree"] is None:
            out.append(
                f"No location data covers the reported place {place['place']} ({start} to {end})."
            )
    for ep in e.itinerary_unreported or []:
        start, end = _span(ep["entry"], ep["exit"], e.tz)
        out.append(
            f"The pings put {e.person_id} in {fence_label(ep)}, {kind_words(ep['kind'], 'en')}, "
            f"from {start} to {end} ({zone}), which the itinerary leaves out."
        )
    return out


def _itinerary_zh(e: Any, zone: str) -> list[str]:
    if e.itinerary is None:
        return []
    if not e.itinerary:
        return ["此人未填报行程。"]
    out = []
    decisive = e.decisive or {}
    for place in e.itinerary:
        start, end = _span(place["start"], place["end"], e.tz)
        if not place["in_lookback"]:
            out.append(f"所报地点{place['place']}（{start} 至 {end}）不在回溯期内。")
            continue
        met = _other_findings(place, decisive)
        for f in met:
            how = "可信交集" if f["credible"] else "仅边缘擦过，不确定"
            out.append(
                f"所报地点{place['place']}（{start} 至 {end}）与{kind_words(f['kind'], 'zh')} "
                f"{fence_label(f)} 重叠 {duration_zh(f['dwell_s'])}：{how}"
                f"（地点 {f['p_inside']:.0%} 的范围在围栏内）。"
            )
        if place["pings_agree"] is False:
            out.append(
                f"定位数据与所报地点{place['place']}（{start} 至 {end}）不符："
                f"该时段最近的定位相距 {place['nearest_m']:.0f} 米。"
            )
        elif place["pings_agree"] is None:
            out.append(f"所报地点{place['place']}（{start} 至 {end}）期间没有定位数据。")
    for ep in e.itinerary_unreported or []:
        start, end = _span(ep["entry"], ep["exit"], e.tz)
        out.append(
            f"定位数据显示 {e.person_id} 于{zone} {start} 至 {end} 在"
            f"{kind_words(ep['kind'], 'zh')} {fence_label(ep)} 内，行程中未填报。"
        )
    return out


def _region_en(e: Any, zone: str) -> list[str]:
    if e.left_region is None:
        return []
    name = e.region or "the region"
    if not e.left_region:
        return [f"No credible fix in the lookback lies outside {name}."]
    spells = "; ".join(
        f"{_clock(s['start'], e.tz)} to {_clock(s['end'], e.tz)}, "
        f"{count_en(s['pings'], 'credible fix', 'credible fixes')}, up to "
        f"{s['farthest_km']:.1f} km beyond the boundary"
        for s in e.left_region
    )
    return [
        f"Left {name} in the lookback: {count_en(len(e.left_region), 'spell', 'spells')} "
        f"outside ({zone}): {spells}."
    ]


def _region_zh(e: Any, zone: str) -> list[str]:
    if e.left_region is None:
        return []
    name = e.region or "所在地区"
    if not e.left_region:
        return [f"回溯期内没有{name}以外的可信定位。"]
    spells = "；".join(
        f"{_clock(s['start'], e.tz)} 至 {_clock(s['end'], e.tz)}，可信定位 {s['pings']} 个，"
        f"最远在边界外 {s['farthest_km']:.1f} 公里"
        for s in e.left_region
    )
    return [f"回溯期内曾离开{name} {len(e.left_region)} 次（{zone}）：{spells}。"]


# -- shared ---------------------------------------------------------------------------------


def _other_episodes(e: Any, limit: int = 3) -> list[tuple[tuple[str, str], tuple[int, list[str]]]]:
    """The episodes other than the decisive one, grouped by kind and fence: count and days."""
    d = e.decisive
    groups: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for ep in e.episodes:
        if d is not None and ep["fence_id"] == d.get("fence_id") and ep["entry"] == d["entry"]:
            continue
        if ep["credible_pings"] == 0 and ep["jump_pings"] > 0:
            kind = "jump"
        elif ep["credible_pings"] == 0:
            kind = "brush"
        elif ep["dwell_s"] >= e.min_dwell_s:
            kind = "stay"
        else:
            kind = "passage"
        day = format_local(ep["entry"], e.tz, pattern="%m-%d", show_zone=False)
        n, days = groups.get((kind, fence_label(ep)), (0, []))
        groups[(kind, fence_label(ep))] = (n + 1, days if day in days else [*days, day])
    ranked = sorted(
        groups.items(), key=lambda item: ("stay", "passage", "brush", "jump").index(item[0][0])
    )
    return ranked[:limit]
