"""Explanations a community worker can read out: verdict, evidence, advice, in zh and en.

:func:`explain` judges people (:func:`fencecheck.judging.verdicts.judge`) and turns each
verdict into an :class:`Explanation`: the verdict and its reasons with their
numbers, the decisive episode, every episode in the lookback, for an
unexplained pop-up the nearest misses in space and time, and advice from a
replaceable table that defaults to the seed's May 2022 Beijing practice.
``to_dict()`` has docs/contract.md's JSON fields (times ISO 8601 UTC with ``Z``);
``to_text("zh" | "en")`` is a short paragraph (:mod:`fencecheck.judging.wording`)
that names every fence by name and id, with times in the display zone
(``display_tz``, Beijing time by default, whatever zone naive input was read
in), distances in metres and how sure each finding is. Every explanation also
says how much of the lookback the person's data covers: no data is not "no
hit".

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> [p06] = explain(pings, index, person=["P06"])
>>> p06.verdict, p06.reasons
('false_trigger', ('datum_shift',))
>>> "the fence moved 545 m east and the fix fell inside" in p06.to_text("en")
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from fencecheck.errors import OptionError
from fencecheck.io.itinerary import read_itinerary
from fencecheck.io.region import read_region
from fencecheck.judging.inputs import as_index, as_people, as_pings
from fencecheck.judging.itinerary import ItineraryFindings, check_itinerary
from fencecheck.judging.left_region import left_region_spells
from fencecheck.judging.near import near_misses
from fencecheck.judging.plot import plot_explanation
from fencecheck.judging.track import Track, tracks_of
from fencecheck.judging.verdicts import DEFAULT_LOOKBACK_S, Findings, Rules, Verdicts, judge
from fencecheck.judging.wording import duration_en, duration_zh, text_en, text_zh
from fencecheck.optional import Progress, tracked
from fencecheck.options import MatchMode, Source
from fencecheck.pings import ping_positions
from fencecheck.policy import Policy
from fencecheck.times import DEFAULT_TZ, format_utc, resolve_zone, zone_name

if TYPE_CHECKING:
    from fencecheck.fences import FenceSet
    from fencecheck.index import FenceIndex
    from fencecheck.itinerary import Itinerary
    from fencecheck.pings import PingTable
    from fencecheck.region import Region

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
        "en": "A verified overlap with a risk venue: sign the pledge and take two tests in three "
        "days, then apply to have the pop-up lifted.",
    },
    "passage_one_test": {
        "zh": "仅途经、未停留（如驾车经过环路）：请社区核实行程后，持一次核酸阴性结果即可申请"
        "解除弹窗，无需居家。",
        "en": "Only a passage, not a stay (like driving past on a ring road): once the community "
        "has verified the itinerary, one negative test result is enough to apply to have the "
        "pop-up lifted; there is no need to stay home.",
    },
    "companion_three_days_two_tests": {
        "zh": "经核实与确诊病例有时空伴随（可信地相距很近达到规定时长）：签署承诺书，"
        "三天两检后可申请解除弹窗。",
        "en": "Verified time close to a confirmed case (a spatiotemporal companion): sign the "
        "pledge and take two tests in three days, then apply to have the pop-up lifted.",
    },
    "one_negative_test": {
        "zh": "系围栏误判：持一次核酸阴性结果即可申请解除弹窗。",
        "en": "A fence mistake: one negative test result is enough to apply to have the pop-up "
        "lifted.",
    },
    "contact_community": {
        "zh": "数据中未发现与风险区域或点位的时空交集，弹窗可能来自风险人员关联（时空伴随）："
        "请先联系所在社区核实，社区处理比拨打 12345 热线更快。",
        "en": "No overlap with a risk area or venue was found in the data; the pop-up may come "
        "from a risk-person association: contact your community first, which is faster than "
        "the 12345 hotline.",
    },
}
"""Advice by key, in zh and en: the seed's May 2022 Beijing practice. Replaceable.

The seed (a Beijing Daily report of May 2022) describes what a community did to
lift pop-up ③: a verified overlap with a risk place meant a pledge and "three
days, two tests"; a high-risk overlap, home observation; a pure fence mistake
(电子围栏误伤, such as drivers caught on a ring road), one negative test once the
community had checked the itinerary. It also says that most pop-ups were
handled faster by the community than through the 12345 hotline, which took 300
calls about pop-up ③ in ten minutes one evening. A passage is never told to stay
home.
"""

NOT_CHECKED = ("risk_person",)
"""Association types fencecheck cannot check without case trajectories."""


def advice_key(verdict: str, kind: str | None, source: str | None = None) -> str:
    """The advice for a verdict and the decisive fence's kind.

    Examples
    --------
    >>> advice_key("exposed", "sealed"), advice_key("exposed", "risk_venue")
    ('home_observation', 'pledge_three_days_two_tests')
    >>> advice_key("passed_through", "sealed"), advice_key("unexplained", None)
    ('passage_one_test', 'contact_community')
    >>> advice_key("exposed", None, "case")
    'companion_three_days_two_tests'
    """
    if verdict == "exposed":
        if source == "case":
            return "companion_three_days_two_tests"
        return "home_observation" if kind in HIGH_RISK_KINDS else "pledge_three_days_two_tests"
    if verdict == "passed_through":
        return "passage_one_test"
    if verdict == "false_trigger":
        return "one_negative_test"
    return "contact_community"


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
    tz: str = DEFAULT_TZ
    """The zone the text shows times in (``display_tz``)."""
    coverage: dict[str, Any] = field(default_factory=dict)
    """What the person's data covers of the lookback (pings, hours, the longest gap)."""
    min_dwell_s: float = 600.0
    credible_p: float = 0.9
    companions: list[dict[str, Any]] | None = None
    """With cases: the person's (person, case) pairs, most credible minutes first."""
    close_m: float = 100.0
    min_together_s: float = 600.0
    extra: dict[str, Any] = field(default_factory=dict)
    left_region: list[dict[str, Any]] | None = None
    """With a region: each spell of credible pings outside it (``start``, ``end``, ``pings``,
    ``farthest_km``, ``left_after``, ``back_by``); ``None`` when no region was given."""
    region: str | None = None
    """With a region: its name ("北京市")."""
    itinerary: list[dict[str, Any]] | None = None
    """With an itinerary: each reported place and its findings; ``None`` without one."""
    itinerary_unreported: list[dict[str, Any]] | None = None
    """With an itinerary: the credible episodes in a fence that no reported place accounts for."""
    track: Track | None = field(default=None, repr=False, compare=False)
    """The person's pings over the lookback and their hits, for :meth:`plot` (not in JSON)."""

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """docs/contract.md's JSON fields (and a little more), JSON-ready.

        ``text`` is in ``lang``; ``text_zh`` and ``text_en`` are both always there.
        """
        text = {"zh": self.to_text("zh"), "en": self.to_text("en")}
        if lang not in text:
            raise OptionError(f"lang: {lang!r} is not one of zh, en")
        return {
            "person_id": self.person_id,
            "at": format_utc(self.at),
            "lookback_s": self.lookback_s,
            "policy": {
                "min_dwell_s": self.min_dwell_s,
                "credible_p": self.credible_p,
                "close_m": self.close_m,
                "min_together_s": self.min_together_s,
            },
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "evidence": self.evidence,
            "decisive": self.decisive,
            "episodes": self.episodes,
            "near_misses": self.near_misses,
            "coverage": self.coverage,
            **({} if self.companions is None else {"companions": self.companions}),
            **(
                {}
                if self.left_region is None
                else {"region": self.region, "left_region": self.left_region}
            ),
            **(
                {}
                if self.itinerary is None
                else {
                    "itinerary": self.itinerary,
                    "itinerary_unreported": self.itinerary_unreported or [],
                }
            ),
            "not_checked": list(self.not_checked),
            "advice": {"key": self.advice_key, **dict(self.advice)},
            "display_tz": self.tz,
            "text": text[lang],
            "text_zh": text["zh"],
            "text_en": text["en"],
        }

    def to_json(self, lang: str = "zh") -> str:
        """One JSON line (``text`` in ``lang``)."""
        return json.dumps(self.to_dict(lang), ensure_ascii=False, allow_nan=False)

    def to_text(self, lang: str = "zh") -> str:
        """A short paragraph in plain language (``zh`` or ``en``)."""
        if lang not in ("zh", "en"):
            raise OptionError(f"lang: {lang!r} is not one of zh, en")
        text = text_zh(self) if lang == "zh" else text_en(self)
        return text + _policy_note(self, lang)

    def plot(self, ax: Any = None, *, zoom: str = "fences") -> Any:
        """Draw the explanation on a map (:func:`fencecheck.judging.plot.plot_explanation`).

        Needs matplotlib (``pip install 'fencecheck[plot]'``); returns the axes.
        """
        return plot_explanation(self, ax=ax, zoom=zoom)

    def to_html(self, lang: str = "zh") -> str:
        """A self-contained, printable HTML page (:mod:`fencecheck.judging.html`)."""
        from fencecheck.judging.html import render_html

        return render_html(self, lang)

    def _repr_html_(self) -> str:
        """The page, for notebooks (in Chinese, the page's default)."""
        return self.to_html("zh")


def explain(
    pings: PingTable | str | os.PathLike[str] | Any,
    index: FenceIndex | FenceSet,
    *,
    person: Sequence[str] | str | None = None,
    at: object = None,
    lookback: object = DEFAULT_LOOKBACK_S,
    policy: Policy | None = None,
    mode: MatchMode | str = MatchMode.DISC,
    advice: Mapping[str, Mapping[str, str]] | None = None,
    track: bool = True,
    display_tz: str | None = None,
    cases: PingTable | None = None,
    grid_origin: tuple[float, float] | str | None = None,
    region: Region | str | os.PathLike[str] | None = None,
    itinerary: Itinerary | str | os.PathLike[str] | None = None,
    progress: Progress = None,
) -> list[Explanation]:
    """Explain the pop-up of each person (all of them, or those named).

    Parameters
    ----------
    pings : PingTable, path or DataFrame
        Everyone's pings (a person is judged on all of theirs); a path or a
        pandas DataFrame is read with :func:`fencecheck.read_pings`'s defaults.
    index : FenceIndex or FenceSet
        The fences (a fence set is indexed in its own frame).
    person : str or sequence of str, optional
        Only these people (one id may be given as a bare string).
    at, lookback, policy, mode
        As for :func:`~fencecheck.judging.judge`.
    advice : mapping, optional
        Advice by key, in zh and en (default :data:`DEFAULT_ADVICE`).
    track : bool
        Keep each person's pings over the lookback and their hits, for
        :meth:`Explanation.plot` (a copy of those pings, which ``False`` spares).
    display_tz : str, optional
        The zone reports show times in (default Asia/Shanghai, whatever zone
        naive input was read in).
    cases : PingTable, optional
        Confirmed cases' pings: each person's companions are judged too
        (docs/domain.md, "Risk persons"), the verdict is the most serious over
        fences and cases, and risk persons are no longer "not checked".
    grid_origin : (lon, lat) or "LON,LAT", optional
        The companion grid's origin (default: the index's frame centre); every
        report says which.
    region : Region or path, optional
        The region the person should not have left in the lookback (the
        Beijing municipality, say; a path is read in WGS-84, use
        :func:`fencecheck.io.region.read_region` for another datum): each spell
        of credible fixes outside it goes in ``left_region`` and the text.
    itinerary : Itinerary or path, optional
        The places residents reported (a path is read as GCJ-02 Amap pins, see
        :func:`fencecheck.io.itinerary.read_itinerary`): each place is checked
        against the fences like a stay and set against the pings
        (:mod:`fencecheck.judging.itinerary`); a credible stay or passage in a
        fence it reports can make the verdict, with ``"source": "itinerary"``.
    progress : bool or callable, optional
        Everyone is judged at once; then each person's explanation is written.
        ``True`` shows a bar over the people (tqdm: a widget in a notebook, a line
        on a terminal; needs the ``progress`` extra); a callable is called with a
        line such as ``"3 of 8 people explained"`` instead.

    Raises
    ------
    OptionError
        When a named person has no pings.
    MissingDependencyError
        For ``progress=True`` without tqdm.
    """
    pings = as_pings(pings, purpose="explain")
    index = as_index(index, purpose="explain")
    wanted_ids = as_people(person)
    table = advice or DEFAULT_ADVICE
    shown = zone_name(resolve_zone(display_tz or DEFAULT_TZ))
    if wanted_ids is not None:
        wanted = wanted_ids
        known = set(pings.persons.ids()[np.unique(pings.person)].tolist())
        missing = [p for p in wanted if p not in known]
        if missing:
            raise OptionError(f"person {missing[0]!r} has no pings in the input")
        codes = [pings.persons.code(p) for p in wanted]
        pings = pings.take(np.isin(pings.person, codes))
    rules = Rules.of(policy, lookback, mode)
    verdicts = judge(
        pings,
        index,
        at=at,
        lookback=rules.lookback_s,
        policy=rules.policy,
        mode=rules.mode,
        cases=cases,
        grid_origin=grid_origin,
    )
    tracks: list[Track | None] = (
        list(tracks_of(verdicts, pings, index, int(rules.lookback_s * 1000)))
        if track
        else [None] * len(verdicts)
    )
    parts = _Parts(verdicts, pings, index)
    explanations = [
        _explanation(parts, k, rules.lookback_s, table, tracks[k], shown)
        for k in tracked(
            range(len(verdicts)),
            progress,
            total=len(verdicts),
            noun="people explained",
            unit="person",
            purpose="explain(progress=True)",
        )
    ]
    span_ms = int(rules.lookback_s * 1000)
    if region is not None:
        outline = read_region(region)
        spells = left_region_spells(
            pings, outline, verdicts.person, verdicts.at, span_ms, rules.policy
        )
        explanations = [
            replace(e, left_region=found, region=outline.name)
            for e, found in zip(explanations, spells, strict=True)
        ]
    if itinerary is not None:
        checked = check_itinerary(
            read_itinerary(itinerary),
            index,
            [e.person_id for e in explanations],
            [rules.lookback_s] * len(explanations),
            [e.at for e in explanations],
            pings=pings,
            episodes=[e.episodes for e in explanations],
            policy=rules.policy,
        )
        explanations = [
            _with_itinerary(e, found, table) for e, found in zip(explanations, checked, strict=True)
        ]
    return explanations


_SERIOUSNESS = ("unexplained", "false_trigger", "passed_through", "exposed")


def _policy_note(e: Explanation, lang: str) -> str:
    """The stay and credibility thresholds, said when they are not the defaults."""
    default = Policy()
    if e.min_dwell_s == default.min_dwell_s and e.credible_p == default.credible_p:
        return ""
    if lang == "zh":
        return (
            f"本次判断采用的阈值：停留至少 {duration_zh(e.min_dwell_s)}"
            f"（默认 {duration_zh(default.min_dwell_s)}），可信定位在围栏内的概率至少 "
            f"{e.credible_p:.2f}（默认 {default.credible_p:.2f}）。"
        )
    return (
        f" Thresholds used: a stay is at least {duration_en(e.min_dwell_s)} (default "
        f"{duration_en(default.min_dwell_s)}); a credible fix has p_inside of at least "
        f"{e.credible_p:.2f} (default {default.credible_p:.2f})."
    )


def _with_itinerary(
    e: Explanation, found: ItineraryFindings, table: Mapping[str, Mapping[str, str]]
) -> Explanation:
    """The explanation with the itinerary's findings; its verdict when that is more serious."""
    e = replace(e, itinerary=found.places, itinerary_unreported=found.unreported)
    if found.verdict is None or _SERIOUSNESS.index(found.verdict) <= _SERIOUSNESS.index(e.verdict):
        return e
    assert found.decisive is not None
    key = advice_key(found.verdict, found.decisive["kind"], "itinerary")
    return replace(
        e,
        verdict=found.verdict,
        reasons=(),
        evidence={},
        decisive=found.decisive,
        near_misses=[],
        advice_key=key,
        advice=table[key],
    )


class _Parts:
    """What every person's explanation reads: verdicts, findings, fence names, hit details."""

    def __init__(self, verdicts: Verdicts, pings: PingTable, index: FenceIndex) -> None:
        self.verdicts = verdicts
        self.pings = pings
        self.index = index
        self.findings: Findings = verdicts.findings()
        ep = verdicts.episodes
        self.jump_pings = np.bincount(ep.of_hit[verdicts.jump], minlength=len(ep))
        self.hit_position = ping_positions(verdicts.hits.ping, pings.row)

    def fence(self, position: int) -> dict[str, Any]:
        """A fence's id, name and kind."""
        fences = self.index.fences
        name = fences.names[position]
        return {
            "fence_id": str(fences.ids[position]),
            "name": _name(name),
            "kind": str(fences.kinds[position]),
        }

    def episode(self, e: int) -> dict[str, Any]:
        """One episode as JSON."""
        ep = self.verdicts.episodes
        max_dwell = float(ep.dwell_s_max[e])
        return {
            **self.fence(int(ep.fence[e])),
            "entry": format_utc(int(ep.entry[e])),
            "exit": format_utc(int(ep.exit[e])),
            "first_hit": format_utc(int(ep.first_hit[e])),
            "dwell_s": float(ep.dwell_s[e]),
            "dwell_s_max": None if np.isnan(max_dwell) else max_dwell,
            "pings": int(ep.pings[e]),
            "credible_pings": int(ep.credible_pings[e]),
            "max_depth_m": round(float(ep.max_depth_m[e]), 3),
            "p_inside": round(float(ep.p_best[e]), 6),
            "p_typical": round(float(ep.p_typical[e]), 6),
            "speed_mps": None if np.isnan(ep.speed_mps[e]) else round(float(ep.speed_mps[e]), 2),
            "stopped": bool(ep.stopped[e]),
            "jump_pings": int(self.jump_pings[e]),
        }

    def pair(self, q: int) -> dict[str, Any]:
        """One (person, case) pair of the companion table, as JSON."""
        companions = self.verdicts.companions
        assert companions is not None
        table = companions.table
        row: dict[str, Any] = {}
        for name in table.names:
            if name == "person_id":
                continue
            value = table[name][q]
            if name in table.times:
                row[name] = format_utc(int(value))
            elif isinstance(value, (bool, np.bool_)):
                row[name] = bool(value)
            elif isinstance(value, (float, np.floating)):
                row[name] = round(float(value), 6)
            else:
                row[name] = str(value)
        row["grid_origin"] = list(companions.grid_origin)
        row["cell_m"] = companions.policy.cell_m
        return row

    def pairs_of(self, code: int) -> list[dict[str, Any]]:
        """The person's pairs, most credible minutes first."""
        companions = self.verdicts.companions
        if companions is None:
            return []
        mine = np.flatnonzero(companions.person_code == code)
        credible = companions.table["credible_minutes"][mine]
        grid = companions.table["grid_minutes"][mine]
        return [self.pair(int(q)) for q in mine[np.lexsort((-grid, -credible))]]

    def hit(self, h: int) -> dict[str, Any]:
        """One hit's fence, time, fix and how far it lay from the fence."""
        hits = self.verdicts.hits
        k = int(self.hit_position[h])
        return {
            **self.fence(int(hits.fence[h])),
            "t": format_utc(int(hits.t[h])),
            "accuracy_m": round(float(self.pings.accuracy_m[k]), 1),
            "source": list(Source)[int(self.pings.source[k])].value,
            "distance_m": round(max(0.0, -float(hits.depth_m[h])), 1),
        }


def _explanation(
    parts: _Parts,
    k: int,
    span_s: float,
    table: Mapping[str, Mapping[str, str]],
    track: Track | None,
    shown: str,
) -> Explanation:
    v, index = parts.verdicts, parts.index
    code = int(v.person[k])
    episodes = [parts.episode(int(e)) for e in np.flatnonzero(v.episodes.person == code)]
    verdict = str(v.verdict[k])
    upstream = v.upstream[k]
    decisive = _decisive(parts, k)
    evidence: dict[str, Any] = {}
    if v.grazing_hit[k] >= 0:
        evidence["boundary_uncertainty"] = {
            "best_p_inside": round(float(v.grazing_p[k]), 6),
            **parts.hit(int(v.grazing_hit[k])),
        }
    if v.jump_hit[k] >= 0:
        evidence["location_jump"] = {
            "implied_speed_mps": round(float(v.jump_speed_mps[k]), 1),
            **parts.hit(int(v.jump_hit[k])),
        }
    if upstream is not None:
        evidence[upstream["reason"]] = {
            "how": upstream["how"],
            "shift": upstream["shift"],
            "unit": upstream["unit"],
            **parts.fence(upstream["fence"]),
            "t": format_utc(upstream["t"]),
            "t_right": format_utc(upstream["t_right"]),
            "p_inside": round(upstream["p_inside"], 6),
            "distance_m": round(upstream["distance_m"], 1),
            **({"moved_to": upstream["moved_to"]} if "moved_to" in upstream else {}),
            "alternatives": upstream["alternatives"],
            "alternatives_hit": upstream["alternatives_hit"],
            "specific": upstream["specific"],
        }
    if "grid_coarse" in v.reasons[k] and v.case_pair is not None and v.case_pair[k] >= 0:
        evidence["grid_coarse"] = parts.pair(int(v.case_pair[k]))
    evidence = {name: evidence[name] for name in v.reasons[k] if name in evidence}
    near = (
        _near_misses(parts.pings, index, code, int(v.at[k]), span_s, v.policy)
        if verdict == "unexplained"
        else []
    )
    key = advice_key(
        verdict,
        decisive.get("kind") if decisive else None,
        decisive.get("source") if decisive else None,
    )
    return Explanation(
        person_id=str(v.persons.ids()[code]),
        at=int(v.at[k]),
        lookback_s=span_s,
        verdict=verdict,
        reasons=tuple(v.reasons[k]),
        evidence=evidence,
        decisive=decisive,
        episodes=episodes,
        near_misses=near,
        advice_key=key,
        advice=table[key],
        tz=shown,
        coverage=_coverage(v, k),
        min_dwell_s=v.policy.min_dwell_s,
        credible_p=v.policy.credible_p,
        close_m=v.policy.close_m,
        min_together_s=v.policy.min_together_s,
        track=track,
        not_checked=() if v.companions is not None else NOT_CHECKED,
        companions=None if v.companions is None else parts.pairs_of(code),
    )


def _decisive(parts: _Parts, k: int) -> dict[str, Any] | None:
    """The decisive finding as JSON: the decisive episode, or the mistake's fence."""
    found = parts.findings
    if found.source[k] == "episode":
        return parts.episode(int(parts.verdicts.decisive[k]))
    if found.source[k] == "case":
        v = parts.verdicts
        assert v.companions is not None and v.case_pair is not None
        return {**parts.pair(int(v.case_pair[k])), "source": "case"}
    if found.source[k] != "upstream":
        return None
    upstream = parts.verdicts.upstream[k]
    when = format_utc(int(found.entry[k]))
    return {
        **parts.fence(int(found.fence[k])),
        "entry": when,
        "exit": when,
        "first_hit": when,
        "dwell_s": 0.0,
        "dwell_s_max": None,
        "pings": 1,
        "credible_pings": 0,
        "max_depth_m": round(float(found.max_depth_m[k]), 3),
        "p_inside": round(float(found.p_inside[k]), 6),
        "source": "upstream",
        "mistake": upstream["how"],
    }


def _coverage(v: Verdicts, k: int) -> dict[str, Any]:
    """What the person's data covers of the lookback, as JSON."""
    c = v.coverage
    return {
        "pings": int(c.pings[k]),
        "hours_with_data": int(c.hours[k]),
        "lookback_hours": round(c.lookback_s / 3600.0, 2),
        "longest_gap": {
            "start": format_utc(int(c.gap_start[k])),
            "end": format_utc(int(c.gap_end[k])),
            "hours": round(float(c.gap_s[k]) / 3600.0, 2),
            "noted": bool(c.gap_s[k] >= v.policy.coverage_gap_s),
        },
    }


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
    fences = index.fences
    return [
        {
            "fence_id": str(fences.ids[misses.fence[k]]),
            "name": _name(fences.names[misses.fence[k]]),
            "kind": str(fences.kinds[misses.fence[k]]),
            "distance_m": round(float(misses.distance_m[k]), 1),
            "time_gap_s": round(float(misses.time_gap_ms[k]) / 1000.0, 0),
            "t": format_utc(int(misses.t[k])),
        }
        for k in range(len(misses))
    ]


def _name(value: object) -> str | None:
    """A fence's name as text, or None when it has none."""
    return None if value is None or value != value or value == "" else str(value)
