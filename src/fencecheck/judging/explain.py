"""Explanations a community worker can read out: verdict, evidence, advice, in zh and en.

:func:`explain` judges people (:func:`fencecheck.judging.verdicts.judge`) and turns each
verdict into an :class:`Explanation`: the verdict and its reasons with their
numbers, the decisive episode, every episode in the lookback, for an
unexplained pop-up the nearest misses in space and time, and advice from a
replaceable table that defaults to the seed's May 2022 Beijing practice.
``to_dict()`` has docs/contract.md's JSON fields (times ISO 8601 UTC with ``Z``);
``to_text("zh" | "en")`` is a short paragraph with times in Beijing local time
(or the pings' zone), distances in metres and durations in minutes.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> [p06] = explain(pings, index, person=["P06"])
>>> p06.verdict, p06.reasons
('false_trigger', ('datum_shift',))
>>> print(p06.to_text("en"))  # doctest: +ELLIPSIS
P06: the pop-up was a false trigger. ...fences in GCJ-02 read as WGS-84...
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import OptionError
from fencecheck.judging.near import near_misses
from fencecheck.judging.plot import plot_explanation
from fencecheck.judging.track import Track, tracks_of
from fencecheck.judging.verdicts import DEFAULT_LOOKBACK_S, Rules, Verdicts, judge
from fencecheck.options import MatchMode
from fencecheck.policy import Policy
from fencecheck.times import format_local, format_utc, zone_label

if TYPE_CHECKING:
    from fencecheck.index import FenceIndex
    from fencecheck.pings import PingTable

__all__ = ["DEFAULT_ADVICE", "Explanation", "advice_key", "explain"]

HIGH_RISK_KINDS = frozenset({"sealed", "controlled", "risk_area"})
"""Fence kinds whose exposure means home observation (the seed's high-risk overlap)."""

DEFAULT_ADVICE: Mapping[str, Mapping[str, str]] = {
    "home_observation": {
        "zh": "属高风险时空交集：请居家观察，按社区要求多次核酸检测。",
        "en": "A high-risk overlap: stay home under observation and take repeated tests as the "
        "community asks.",
    },
    "pledge_three_days_two_tests": {
        "zh": "经核实与风险点位有时空交集：签署承诺书，三天两检后可申请解除弹窗。",
        "en": "A verified overlap with a risk place: sign the pledge and take two tests in three "
        "days, then apply to have the pop-up lifted.",
    },
    "one_negative_test": {
        "zh": "系围栏误判：持一次核酸阴性结果即可申请解除弹窗。",
        "en": "A fence mistake: one negative test result is enough to apply to have the pop-up "
        "lifted.",
    },
    "ask_hotline": {
        "zh": "数据中未发现时空交集，弹窗可能来自风险人员关联：请拨打热线核实关联类型。",
        "en": "No overlap with any fence was found in the data; the pop-up may come from a risk "
        "person association: call the hotline to ask which kind.",
    },
}
"""Advice by key, in zh and en: the seed's May 2022 Beijing practice. Replaceable."""

NOT_CHECKED = ("risk_person",)
"""Association types fencecheck cannot check without case trajectories."""


def advice_key(verdict: str, kind: str | None) -> str:
    """The advice for a verdict and the decisive fence's kind.

    Examples
    --------
    >>> advice_key("exposed", "sealed"), advice_key("exposed", "risk_venue")
    ('home_observation', 'pledge_three_days_two_tests')
    """
    if verdict == "exposed":
        return "home_observation" if kind in HIGH_RISK_KINDS else "pledge_three_days_two_tests"
    if verdict == "passed_through":
        return "pledge_three_days_two_tests"
    if verdict == "false_trigger":
        return "one_negative_test"
    return "ask_hotline"


@dataclass(frozen=True)
class Explanation:
    """Why one person got pop-up ③ (or why it was a false trigger)."""

    person_id: str
    at: int
    lookback_s: float
    verdict: str
    reasons: tuple[str, ...]
    evidence: dict[str, Any]
    decisive: dict[str, Any] | None
    episodes: list[dict[str, Any]]
    near_misses: list[dict[str, Any]]
    advice_key: str
    advice: Mapping[str, str]
    not_checked: tuple[str, ...] = NOT_CHECKED
    tz: str = "Asia/Shanghai"
    extra: dict[str, Any] = field(default_factory=dict)
    track: Track | None = field(default=None, repr=False, compare=False)
    """The person's pings over the lookback and their hits, for :meth:`plot` (not in JSON)."""

    def to_dict(self) -> dict[str, Any]:
        """docs/contract.md's JSON fields (and a little more), JSON-ready."""
        return {
            "person_id": self.person_id,
            "at": format_utc(self.at),
            "lookback_s": self.lookback_s,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "evidence": self.evidence,
            "decisive": self.decisive,
            "episodes": self.episodes,
            "near_misses": self.near_misses,
            "not_checked": list(self.not_checked),
            "advice": {"key": self.advice_key, **dict(self.advice)},
            "text": self.to_text("zh"),
            "text_en": self.to_text("en"),
        }

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False)

    def to_text(self, lang: str = "zh") -> str:
        """A short paragraph in plain language (``zh`` or ``en``)."""
        if lang not in ("zh", "en"):
            raise OptionError(f"lang: {lang!r} is not one of zh, en")
        return _text_zh(self) if lang == "zh" else _text_en(self)

    def plot(self, ax: Any = None, *, zoom: str = "fences") -> Any:
        """Draw the explanation on a map (:func:`fencecheck.judging.plot.plot_explanation`).

        Needs matplotlib (``pip install 'fencecheck[plot]'``); returns the axes.
        """
        return plot_explanation(self, ax=ax, zoom=zoom)


def explain(
    pings: PingTable,
    index: FenceIndex,
    *,
    person: Sequence[str] | None = None,
    at: object = None,
    lookback: object = DEFAULT_LOOKBACK_S,
    policy: Policy | None = None,
    mode: MatchMode | str = MatchMode.DISC,
    advice: Mapping[str, Mapping[str, str]] | None = None,
    track: bool = True,
) -> list[Explanation]:
    """Explain the pop-up of each person (all of them, or those named).

    With ``track=True`` (the default) each explanation keeps the person's pings
    over the lookback and their hits, for :meth:`Explanation.plot`; that is a
    copy of those pings, which ``track=False`` spares.

    Raises
    ------
    OptionError
        When a named person has no pings.
    """
    table = advice or DEFAULT_ADVICE
    if person is not None:
        wanted = list(person)
        known = set(pings.persons.ids()[np.unique(pings.person)].tolist())
        missing = [p for p in wanted if p not in known]
        if missing:
            raise OptionError(f"person {missing[0]!r} has no pings in the input")
        codes = [pings.persons.code(p) for p in wanted]
        pings = pings.take(np.isin(pings.person, codes))
    verdicts = judge(pings, index, at=at, lookback=lookback, policy=policy, mode=mode)
    span_s = Rules.of(policy, lookback, mode).lookback_s
    n_episodes = len(verdicts.episodes)
    counts = np.column_stack(
        [
            np.bincount(verdicts.episodes.of_hit[flags], minlength=n_episodes)
            for flags in (verdicts.credible, verdicts.jump)
        ]
    ).astype(np.int64)
    tracks: list[Track | None] = (
        list(tracks_of(verdicts, pings, index, int(span_s * 1000)))
        if track
        else [None] * len(verdicts)
    )
    return [
        _explanation(verdicts, k, pings, index, span_s, table, counts, tracks[k])
        for k in range(len(verdicts))
    ]


def _episode_dict(verdicts: Verdicts, e: int, counts: NDArray[np.int64]) -> dict[str, Any]:
    """One episode as JSON; ``counts`` holds each episode's credible and jump hits."""
    ep = verdicts.episodes
    max_dwell = float(ep.dwell_s_max[e])
    fence = int(ep.fence[e])
    return {
        "fence_id": str(ep.fence_lookup[fence]),
        "kind": str(ep.kind_lookup[fence]),
        "entry": format_utc(int(ep.entry[e])),
        "exit": format_utc(int(ep.exit[e])),
        "dwell_s": float(ep.dwell_s[e]),
        "dwell_s_max": None if np.isnan(max_dwell) else max_dwell,
        "pings": int(ep.pings[e]),
        "max_depth_m": round(float(ep.max_depth_m[e]), 3),
        "p_inside": round(float(ep.p_best[e]), 6),
        "p_typical": round(float(ep.p_typical[e]), 6),
        "speed_mps": None if np.isnan(ep.speed_mps[e]) else round(float(ep.speed_mps[e]), 2),
        "stopped": bool(ep.stopped[e]),
        "credible_pings": int(counts[e, 0]),
        "jump_pings": int(counts[e, 1]),
    }


def _explanation(
    verdicts: Verdicts,
    k: int,
    pings: PingTable,
    index: FenceIndex,
    span_s: float,
    table: Mapping[str, Mapping[str, str]],
    counts: NDArray[np.int64],
    track: Track | None,
) -> Explanation:
    code = int(verdicts.person[k])
    mine = np.flatnonzero(verdicts.episodes.person == code)
    episodes = [_episode_dict(verdicts, int(e), counts) for e in mine]
    d = int(verdicts.decisive[k])
    decisive = _episode_dict(verdicts, d, counts) if d >= 0 else None
    verdict = str(verdicts.verdict[k])
    evidence: dict[str, Any] = {}
    if not np.isnan(verdicts.grazing_p[k]):
        evidence["boundary_uncertainty"] = {"best_p_inside": round(float(verdicts.grazing_p[k]), 6)}
    if not np.isnan(verdicts.jump_speed_mps[k]):
        evidence["location_jump"] = {
            "implied_speed_mps": round(float(verdicts.jump_speed_mps[k]), 1)
        }
    upstream = verdicts.upstream[k]
    if upstream is not None:
        evidence[upstream["reason"]] = {
            "how": upstream["how"],
            "shift": upstream["shift"],
            "unit": upstream["unit"],
            "fence_id": str(index.fences.ids[upstream["fence"]]),
            "t": format_utc(upstream["t"]),
            "p_inside": round(upstream["p_inside"], 6),
        }
    evidence = {name: evidence[name] for name in verdicts.reasons[k] if name in evidence}
    near = (
        _near_misses(pings, index, code, int(verdicts.at[k]), span_s, verdicts.policy)
        if verdict == "unexplained"
        else []
    )
    kind = (
        decisive["kind"]
        if decisive
        else (str(index.fences.kinds[upstream["fence"]]) if upstream is not None else None)
    )
    key = advice_key(verdict, kind)
    return Explanation(
        person_id=str(verdicts.persons.ids()[code]),
        at=int(verdicts.at[k]),
        lookback_s=span_s,
        verdict=verdict,
        reasons=tuple(verdicts.reasons[k]),
        evidence=evidence,
        decisive=decisive,
        episodes=episodes,
        near_misses=near,
        advice_key=key,
        advice=table[key],
        tz=pings.tz,
        track=track,
    )


def _near_misses(
    pings: PingTable,
    index: FenceIndex,
    code: int,
    at: int,
    span_s: float,
    policy: Policy,
) -> list[dict[str, Any]]:
    """The fences that came closest to the person in the lookback (see ``judging.near``)."""
    misses = near_misses(
        pings,
        index,
        np.array([code], dtype=np.int32),
        np.array([at], dtype=np.int64),
        int(span_s * 1000),
        policy,
    )
    ids = misses.fence_ids()
    return [
        {
            "fence_id": str(ids[k]),
            "kind": str(index.fences.kinds[misses.fence[k]]),
            "distance_m": round(float(misses.distance_m[k]), 1),
            "time_gap_s": round(float(misses.time_gap_ms[k]) / 1000.0, 0),
            "t": format_utc(int(misses.t[k])),
        }
        for k in range(len(misses))
    ]


def _local(when: int | str, tz: str) -> str:
    return format_local(when, tz, pattern="%m-%d %H:%M", show_zone=False)


_KIND_ZH = {
    "sealed": "封控区",
    "controlled": "管控区",
    "precaution": "防范区",
    "risk_area": "风险区域",
    "risk_venue": "风险点位",
}


def _depth_en(episode: Mapping[str, Any]) -> str:
    depth = episode["max_depth_m"]
    if depth >= 0:
        return f"up to {depth:.0f} m inside"
    return f"as close as {-depth:.0f} m (within its margin)"


def _depth_zh(episode: Mapping[str, Any]) -> str:
    depth = episode["max_depth_m"]
    if depth >= 0:
        return f"最深处距边界 {depth:.0f} 米"
    return f"最近相距 {-depth:.0f} 米（在其缓冲范围内）"


def _time_gap_en(seconds: float) -> str:
    if not seconds:
        return ""
    side = "before it opened" if seconds < 0 else "after it closed"
    return f", {abs(seconds) / 3600:.1f} h {side}"


def _time_gap_zh(seconds: float) -> str:
    if not seconds:
        return ""
    side = "启用前" if seconds < 0 else "解除后"
    return f"（{side} {abs(seconds) / 3600:.1f} 小时）"


def _minutes(seconds: float | None) -> str:
    return "?" if seconds is None else f"{seconds / 60:.0f}"


def _text_en(e: Explanation) -> str:
    zone = zone_label(e.tz, "en")
    d = e.decisive
    if e.verdict in ("exposed", "passed_through") and d is not None:
        where = (
            f"{e.person_id} was in {d['fence_id']} ({d['kind']}) from {_local(d['entry'], e.tz)} "
            f"to {_local(d['exit'], e.tz)} ({zone}), at least {_minutes(d['dwell_s'])} minutes"
            + (f" (at most {_minutes(d['dwell_s_max'])})" if d["dwell_s_max"] is not None else "")
            + f", {_depth_en(d)}; the location is reliable (p_inside {d['p_inside']:.2f})."
        )
        judged = (
            "The pop-up is justified: this was a stay."
            if e.verdict == "exposed"
            else "This was only a passage (shorter than the minimum stay)."
        )
        body = f"{where} {judged}"
    elif e.verdict == "false_trigger":
        parts = []
        if "boundary_uncertainty" in e.evidence:
            p = e.evidence["boundary_uncertainty"]["best_p_inside"]
            parts.append(
                f"the only fixes near a fence were too coarse to place the person in it "
                f"(at best p_inside {p:.2f})"
            )
        if "location_jump" in e.evidence:
            v = e.evidence["location_jump"]["implied_speed_mps"]
            parts.append(
                f"one fix jumped into a fence and back at an implied {v:.0f} m/s, beyond any person"
            )
        for reason in ("timezone_shift", "datum_shift"):
            if reason in e.evidence:
                ev = e.evidence[reason]
                amount = (
                    f"{abs(ev['shift']) / 3_600_000:.0f} h"
                    if ev["unit"] == "ms"
                    else f"{ev['shift']:.0f} m"
                )
                parts.append(
                    f"no fix was in an active fence, but with {ev['how']} (a shift of {amount}) "
                    f"one falls in {ev['fence_id']} at {_local(ev['t'], e.tz)} ({zone})"
                )
        text = "; ".join(parts)
        body = f"{e.person_id}: the pop-up was a false trigger. {text[:1].upper()}{text[1:]}."
    else:
        near = "; ".join(
            f"{m['fence_id']} {m['distance_m']:.0f} m away" + _time_gap_en(m["time_gap_s"])
            for m in e.near_misses
        )
        body = (
            f"{e.person_id}: nothing in the data explains a pop-up: no fix in an active fence, "
            f"and no time-zone or datum mistake reproduces one."
            + (f" Nearest: {near}." if near else "")
            + " Not checked: association with a risk person (no case trajectories)."
        )
    return f"{body} Advice: {e.advice['en']}"


def _text_zh(e: Explanation) -> str:
    zone = zone_label(e.tz, "zh")
    d = e.decisive
    if e.verdict in ("exposed", "passed_through") and d is not None:
        where = (
            f"{e.person_id} 于{zone} {_local(d['entry'], e.tz)} 至 {_local(d['exit'], e.tz)} "
            f"位于 {d['fence_id']}（{_KIND_ZH.get(d['kind'], d['kind'])}）内，"
            f"停留至少 {_minutes(d['dwell_s'])} 分钟"
            + (
                f"（至多 {_minutes(d['dwell_s_max'])} 分钟）"
                if d["dwell_s_max"] is not None
                else ""
            )
            + f"，{_depth_zh(d)}；定位可信（在围栏内的概率 {d['p_inside']:.2f}）。"
        )
        judged = (
            "弹窗有依据：属停留。" if e.verdict == "exposed" else "仅为途经（停留短于最短时长）。"
        )
        body = where + judged
    elif e.verdict == "false_trigger":
        parts = []
        if "boundary_uncertainty" in e.evidence:
            p = e.evidence["boundary_uncertainty"]["best_p_inside"]
            parts.append(f"围栏附近只有精度很差的定位，无法确认人在围栏内（概率最高 {p:.2f}）")
        if "location_jump" in e.evidence:
            v = e.evidence["location_jump"]["implied_speed_mps"]
            parts.append(f"有一个定位点跳入围栏又跳回，折算速度 {v:.0f} 米/秒，非人力可及")
        names = {
            "local times read as UTC": "本地时间被当作 UTC",
            "UTC times read as local time": "UTC 时间被当作本地时间",
            "fences in GCJ-02 read as WGS-84": "围栏坐标为 GCJ-02 却按 WGS-84 读取",
            "fences in WGS-84 read as GCJ-02": "围栏坐标为 WGS-84 却按 GCJ-02 读取",
            "pings in GCJ-02 read as WGS-84": "定位坐标为 GCJ-02 却按 WGS-84 读取",
            "pings in WGS-84 read as GCJ-02": "定位坐标为 WGS-84 却按 GCJ-02 读取",
        }
        for reason in ("timezone_shift", "datum_shift"):
            if reason in e.evidence:
                ev = e.evidence[reason]
                amount = (
                    f"{abs(ev['shift']) / 3_600_000:.0f} 小时"
                    if ev["unit"] == "ms"
                    else f"{ev['shift']:.0f} 米"
                )
                how = names.get(ev["how"], ev["how"])
                parts.append(
                    f"正确处理时没有定位落入生效围栏；若{how}（偏移 {amount}），"
                    f"则{zone} {_local(ev['t'], e.tz)} 有定位落入 {ev['fence_id']}"
                )
        body = f"{e.person_id}：弹窗系误判。" + "；".join(parts) + "。"
    else:
        near = "；".join(
            f"{m['fence_id']} 相距 {m['distance_m']:.0f} 米" + _time_gap_zh(m["time_gap_s"])
            for m in e.near_misses
        )
        body = (
            f"{e.person_id}：数据中找不到弹窗原因：没有定位落入生效围栏，时区或坐标系错误也无法复现。"
            + (f"最近的围栏：{near}。" if near else "")
            + "未核查：与风险人员的关联（无病例轨迹）。"
        )
    return f"{body}建议：{e.advice['zh']}"
