"""Verdicts: why a person got pop-up ③, judged for every person at once.

docs/domain.md, section 4, first match wins:

- ``exposed``: an episode with a credible hit (``p_inside >= policy.credible_p``
  and not a location jump) and a dwell (lower bound) of at least
  ``policy.min_dwell_s``;
- ``passed_through``: credible hits, but every episode holding one is shorter;
- ``false_trigger``: hits, none credible. Reasons: ``boundary_uncertainty``
  (a hit that is not a jump but whose ``p_inside`` stays low: the disc only
  grazes the fence) and ``location_jump`` (a hit on an isolated jump). With no
  hit at all, an upstream mistake that reproduces one: ``timezone_shift``
  (naive local times read as UTC, or the reverse: the zone's offset either
  way) or ``datum_shift`` (GCJ-02 read as WGS-84 or the reverse, for the pings
  or for the fences);
- ``unexplained``: nothing in the data explains a pop-up.

A person is judged at ``at`` (by default the time of their own last ping) over
the ``lookback`` before it. Candidates come from ``disc`` mode by default.
Every threshold is the :class:`~fencecheck.policy.Policy`'s.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> verdicts = judge(pings, index)
>>> dict(zip(verdicts.person_ids().tolist(), verdicts.verdict.tolist()))["P01"]
'exposed'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fencecheck._compiled.groupby import any_by
from fencecheck.errors import OptionError
from fencecheck.hits import HIT_COLUMNS, Hits
from fencecheck.index import FenceIndex
from fencecheck.judging.companions import Companions, companions
from fencecheck.judging.coverage import Coverage, coverage
from fencecheck.judging.episodes import Episodes, find_episodes
from fencecheck.judging.jumps import find_jumps
from fencecheck.judging.mistakes import upstream_mistakes
from fencecheck.matching import match, p_inside_bound, p_inside_of
from fencecheck.options import MatchMode
from fencecheck.pings import PersonRegistry, PingTable, ping_positions
from fencecheck.policy import Policy
from fencecheck.tables import NO_TIME
from fencecheck.times import parse_time

__all__ = ["REASONS", "VERDICTS", "Findings", "Rules", "Verdicts", "judge", "parse_duration"]

VERDICTS = ("exposed", "passed_through", "false_trigger", "unexplained")
REASONS = (
    "boundary_uncertainty",
    "location_jump",
    "timezone_shift",
    "datum_shift",
    "grid_coarse",
)
DEFAULT_LOOKBACK_S = 14 * 86_400
_UNITS = {"s": 1, "min": 60, "m": 60, "h": 3600, "d": 86_400}


def parse_duration(value: object) -> float:
    """Seconds in a duration: a number of seconds, or text such as ``14d``, ``90min``.

    Examples
    --------
    >>> parse_duration("14d"), parse_duration("90min"), parse_duration(30)
    (1209600.0, 5400.0, 30.0)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        text = value.strip().lower()
        for unit in sorted(_UNITS, key=len, reverse=True):
            if text.endswith(unit):
                try:
                    number = float(text[: -len(unit)])
                except ValueError:
                    break
                if number >= 0:
                    return number * _UNITS[unit]
    raise OptionError(f"{value!r} is not a duration (seconds, or like 14d, 12h, 90min, 30s)")


@dataclass(frozen=True)
class Rules:
    """The choices every judging function takes: thresholds, lookback and mode.

    Examples
    --------
    >>> rules = Rules.of(None, "14d", "disc")
    >>> rules.lookback_s, rules.mode.value, rules.policy.min_dwell_s
    (1209600.0, 'disc', 600.0)
    """

    policy: Policy
    lookback_s: float
    mode: MatchMode

    @classmethod
    def of(cls, policy: Policy | None, lookback: object, mode: MatchMode | str) -> Rules:
        """Read the three as a caller gives them (``None`` for the default policy)."""
        return cls(
            policy=Policy() if policy is None else policy,
            lookback_s=parse_duration(lookback),
            mode=MatchMode.parse(mode),
        )


@dataclass(frozen=True)
class Verdicts:
    """One row per person, with the evidence behind the verdict.

    Attributes
    ----------
    person : ndarray of int32
        Person code (``person_ids()`` gives the id).
    at : ndarray of int64
        The moment each person is judged at (UTC milliseconds).
    verdict : ndarray of str
        One of :data:`VERDICTS`.
    reasons : ndarray of object
        A tuple of :data:`REASONS` names per person (empty unless ``false_trigger``).
    decisive : ndarray of int64
        The decisive episode (a row of ``episodes``), or -1.
    grazing_p : ndarray of float64
        The best ``p_inside`` among non-credible, non-jump hits (NaN when none).
    grazing_hit : ndarray of int64
        That hit (a row of ``hits``), or -1.
    jump_speed_mps : ndarray of float64
        The implied speed into the fastest jump that hit a fence (NaN when none).
    jump_hit : ndarray of int64
        That hit (a row of ``hits``), or -1.
    upstream : ndarray of object
        For an upstream mistake, what reproduces a hit: a dict with ``reason``,
        ``how``, ``shift`` (milliseconds or metres), ``unit``, ``fence``
        (position), ``t`` and ``p_inside`` of the reproduced hit with the best
        ``p_inside``, and ``first_t``, the (right) time of the first ping whose
        mistaken version hits; with the evidence of :func:`~fencecheck.judging.mistakes.
        upstream_mistakes`; else None.
    coverage : Coverage
        What each person's data covers of their lookback.
    episodes : Episodes
        All episodes within each person's lookback.
    hits : Hits
        The hits within each person's lookback.
    credible, jump : ndarray of bool
        Per hit (a row of ``hits``): credible (``p_inside`` high enough and not a
        jump), and on an isolated location jump.
    policy : Policy
        The thresholds used.
    companions : Companions, optional
        With cases: every (person, case) pair over the person's lookback.
    case_pair : ndarray of int64, optional
        Per person, their most serious pair (a row of ``companions.table``), or -1.
    case_decides : ndarray of bool, optional
        Per person, whether a case, not a fence, gives the verdict.
    """

    person: NDArray[np.int32]
    at: NDArray[np.int64]
    verdict: NDArray[np.str_]
    reasons: NDArray[np.object_]
    decisive: NDArray[np.int64]
    grazing_p: NDArray[np.float64]
    grazing_hit: NDArray[np.int64]
    jump_speed_mps: NDArray[np.float64]
    jump_hit: NDArray[np.int64]
    upstream: NDArray[np.object_]
    coverage: Coverage
    episodes: Episodes
    hits: Hits
    credible: NDArray[np.bool_]
    jump: NDArray[np.bool_]
    persons: PersonRegistry
    policy: Policy
    companions: Companions | None = None
    case_pair: NDArray[np.int64] | None = None
    case_decides: NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return int(self.person.shape[0])

    def person_ids(self) -> NDArray[np.object_]:
        """Each row's person id."""
        ids: NDArray[np.object_] = self.persons.ids()[self.person]
        return ids

    def findings(self) -> Findings:
        """Per person, the one decisive finding that ``explain`` and ``scan`` both report."""
        return Findings.of(self)


@dataclass(frozen=True)
class Findings:
    """Per person (a row of :class:`Verdicts`), the decisive finding, every column from it.

    The finding is the decisive episode, or, for a pop-up only an upstream
    mistake reproduces, the fence the mistake put the person in. ``explain``'s
    ``decisive`` and a ``scan`` people row are both read from here, so they
    always describe the same episode.

    Attributes
    ----------
    source : ndarray of object
        ``"episode"``, ``"upstream"``, ``"case"`` (a confirmed case's phone), or ``""``
        (nothing decisive).
    case : ndarray of int64
        The deciding case (a code in the cases' registry), or -1.
    fence : ndarray of int64
        The fence (a position in the index), or -1.
    entry, exit : ndarray of int64
        The episode's entry and exit (for a mistake, the right time of the fix
        it put in the fence, both), or ``NO_TIME``.
    popup : ndarray of int64
        When the finding began: the episode's first hit, credible or not (for a
        mistake, that fix's right time), or ``NO_TIME``.
    dwell_s, dwell_s_max : ndarray of float64
        The dwell bounds (0 and NaN for a mistake; NaN when nothing is decisive).
    pings, credible_pings : ndarray of int64
        The episode's hits and credible hits (1 and 0 for a mistake).
    max_depth_m, p_inside : ndarray of float64
        The deepest hit's depth and the best ``p_inside``.
    """

    source: NDArray[np.object_]
    case: NDArray[np.int64]
    fence: NDArray[np.int64]
    entry: NDArray[np.int64]
    exit: NDArray[np.int64]
    popup: NDArray[np.int64]
    dwell_s: NDArray[np.float64]
    dwell_s_max: NDArray[np.float64]
    pings: NDArray[np.int64]
    credible_pings: NDArray[np.int64]
    max_depth_m: NDArray[np.float64]
    p_inside: NDArray[np.float64]

    @classmethod
    def of(cls, v: Verdicts) -> Findings:
        """Read the findings off verdicts."""
        n, ep = len(v), v.episodes
        d = v.decisive
        has = d >= 0
        e = np.where(has, d, 0)

        def take(values: NDArray[Any], missing: Any, dtype: Any) -> NDArray[Any]:
            out = np.full(n, missing, dtype=dtype)
            if len(ep):
                out[has] = values[e[has]]
            return out

        found = cls(
            source=np.where(has, "episode", "").astype(object),
            case=np.full(n, -1, dtype=np.int64),
            fence=take(ep.fence, -1, np.int64),
            entry=take(ep.entry, NO_TIME, np.int64),
            exit=take(ep.exit, NO_TIME, np.int64),
            popup=take(ep.first_hit, NO_TIME, np.int64),
            dwell_s=take(ep.dwell_s, np.nan, np.float64),
            dwell_s_max=take(ep.dwell_s_max, np.nan, np.float64),
            pings=take(ep.pings, 0, np.int64),
            credible_pings=take(ep.credible_pings, 0, np.int64),
            max_depth_m=take(ep.max_depth_m, np.nan, np.float64),
            p_inside=take(ep.p_best, np.nan, np.float64),
        )
        for k, mistake in enumerate(v.upstream.tolist()):
            if mistake is None:
                continue
            found.source[k] = "upstream"
            found.fence[k] = mistake["fence"]
            found.entry[k] = found.exit[k] = found.popup[k] = mistake["t_right"]
            found.dwell_s[k], found.dwell_s_max[k] = 0.0, np.nan
            found.pings[k], found.credible_pings[k] = 1, 0
            found.max_depth_m[k] = mistake["depth_m"]
            found.p_inside[k] = mistake["p_inside"]
        if v.companions is not None and v.case_decides is not None and v.case_pair is not None:
            pairs = v.companions.table
            for k in np.flatnonzero(v.case_decides).tolist():
                q = int(v.case_pair[k])
                found.source[k] = "case"
                found.case[k] = v.companions.case_code[q]
                found.fence[k] = -1
                found.entry[k] = found.popup[k] = pairs["first_together"][q]
                found.exit[k] = pairs["last_together"][q]
                found.dwell_s[k] = float(pairs["credible_minutes"][q]) * 60.0
                found.dwell_s_max[k] = np.nan
                found.pings[k] = found.credible_pings[k] = 0
                found.max_depth_m[k] = np.nan
                found.p_inside[k] = pairs["max_p_close"][q]
        return found


def judge(
    pings: PingTable,
    index: FenceIndex,
    *,
    at: object = None,
    lookback: object = DEFAULT_LOOKBACK_S,
    policy: Policy | None = None,
    mode: MatchMode | str = MatchMode.DISC,
    evidence: str = "all",
    cases: PingTable | None = None,
    grid_origin: tuple[float, float] | str | None = None,
) -> Verdicts:
    """Judge every person in ``pings`` (see the module docstring for the rules).

    Parameters
    ----------
    pings : PingTable
        Everyone's pings.
    index : FenceIndex
        The fences.
    at : time, optional
        One moment for everyone (anything :func:`~fencecheck.times.parse_time`
        reads); by default each person's last ping.
    lookback : float or str
        Seconds, or text such as ``"14d"``.
    policy : Policy, optional
        The thresholds.
    mode : {"disc", "point"}
        How candidate hits are found.
    evidence : {"all", "verdicts"}
        ``all``: every hit's ``p_inside``. ``verdicts``: only where the verdicts
        need it (hits that may be credible, every hit of a person without a
        credible one); the others' ``p_inside`` is NaN, known to be below
        ``policy.credible_p`` by a rigorous bound, and so is the ``p_typical`` of
        their episodes. Verdicts, decisive episodes and their ``p_best`` are the
        same either way; :func:`fencecheck.judging.scan` uses ``verdicts``.
    cases : PingTable, optional
        Confirmed cases' pings: each person's companions over their lookback
        (:func:`~fencecheck.judging.companions.companions`) are judged too, and the
        verdict is the most serious over fences and cases.
    grid_origin : (lon, lat) or "LON,LAT", optional
        The companion grid's origin; by default the index's frame centre.
    """
    if evidence not in ("all", "verdicts"):
        raise OptionError(f"evidence: {evidence!r} is not one of 'all', 'verdicts'")
    rules = Rules.of(policy, lookback, mode)
    policy, mode = rules.policy, rules.mode
    span_ms = int(rules.lookback_s * 1000)
    people = np.unique(pings.person)
    person_at = _judging_times(pings, people, at)
    x, y = index.frame.to_xy(pings.lon, pings.lat)
    lazy = evidence == "verdicts"
    hits = _within(
        match(pings, index, mode=mode, xy=(x, y), evidence=not lazy),
        _at_by_code(people, person_at),
        span_ms,
    )

    # Credibility: p_inside high enough, and not an isolated jump.
    jumps = find_jumps(pings.person, pings.t, x, y, pings.accuracy_m.astype(np.float64), policy)
    position = ping_positions(hits.ping, pings.row)
    jump = jumps.jump[position]
    if lazy:
        hits = _needed_p_inside(hits, pings, index, (x, y), position, jump, policy)
    credible = (hits.p_inside >= policy.credible_p) & ~jump
    grazing = ~credible & ~jump

    episodes = find_episodes(hits, pings, index, policy, xy=(x, y), credible=credible)
    holds_credible = episodes.credible_pings > 0
    long_enough = episodes.dwell_s >= policy.min_dwell_s

    size = int(people.max()) + 1 if people.shape[0] else 0
    slot = np.full(size, -1, dtype=np.int64)
    slot[people] = np.arange(people.shape[0])

    def any_per_person(flags: NDArray[np.bool_], person: NDArray[np.int32]) -> NDArray[np.bool_]:
        return any_by(slot[person], flags, people.shape[0])

    exposed = any_per_person(holds_credible & long_enough, episodes.person)
    passed = any_per_person(credible, hits.person) & ~exposed
    has_hit = any_per_person(np.ones(len(hits), dtype=bool), hits.person)
    by_jump = any_per_person(jump, hits.person)
    by_grazing = any_per_person(grazing, hits.person)

    grazing_hit = _best_hit(slot[hits.person], grazing, hits.p_inside, people.shape[0])
    grazing_p = _at_hit(hits.p_inside, grazing_hit)
    speed_in = jumps.speed_before[position]
    jump_hit = _best_hit(slot[hits.person], jump, speed_in, people.shape[0])
    jump_speed = _at_hit(speed_in, jump_hit)

    verdict = np.full(people.shape[0], "unexplained", dtype=object)
    reasons = np.empty(people.shape[0], dtype=object)
    reasons[:] = [()] * people.shape[0]
    false_in_data = has_hit & ~exposed & ~passed
    verdict[exposed] = "exposed"
    verdict[passed] = "passed_through"
    verdict[false_in_data] = "false_trigger"
    for k in np.flatnonzero(false_in_data):
        names = []
        if by_grazing[k]:
            names.append("boundary_uncertainty")
        if by_jump[k]:
            names.append("location_jump")
        reasons[k] = tuple(names)

    upstream = np.full(people.shape[0], None, dtype=object)
    quiet = np.flatnonzero(~has_hit)
    if quiet.shape[0]:
        found = upstream_mistakes(
            pings, index, people[quiet], person_at[quiet], span_ms, mode, (x, y), policy
        )
        for k, mistake in zip(quiet.tolist(), found, strict=True):
            if mistake is not None:
                verdict[k] = "false_trigger"
                reasons[k] = (mistake["reason"],)
                upstream[k] = mistake

    decisive = _decisive_episodes(
        episodes, slot, people.shape[0], holds_credible, long_enough, exposed, passed
    )
    found_pairs, case_pair, case_decides = None, np.full(people.shape[0], -1), None
    if cases is not None:
        lo = np.full(len(pings.persons), np.iinfo(np.int64).min // 4, dtype=np.int64)
        hi = lo.copy()
        lo[people], hi[people] = person_at - span_ms, person_at
        origin = grid_origin if grid_origin is not None else (index.frame.lon0, index.frame.lat0)
        found_pairs = companions(pings, cases, grid_origin=origin, policy=policy, windows=(lo, hi))
        case_pair, case_rank = _decisive_pairs(found_pairs, slot, people.shape[0], policy)
        fence_rank = np.select(
            [verdict == "exposed", verdict == "passed_through", verdict == "false_trigger"],
            [3, 2, 1],
            0,
        )
        case_decides = case_rank > fence_rank
        by_rank = np.array(["unexplained", "false_trigger", "passed_through", "exposed"])
        verdict = np.where(case_decides, by_rank[case_rank], verdict).astype(object)
        for k in np.flatnonzero(case_decides & (case_rank > 1)).tolist():
            reasons[k] = ()  # a case's exposure or passage has no false-trigger reason
        for k in np.flatnonzero(case_rank == 1).tolist():
            if case_decides[k]:
                reasons[k] = ("grid_coarse",)
            elif fence_rank[k] == 1:
                reasons[k] = (*reasons[k], "grid_coarse")
        decisive[case_decides] = -1
    return Verdicts(
        person=people.astype(np.int32),
        at=person_at,
        verdict=verdict.astype(str),
        reasons=reasons,
        decisive=decisive,
        grazing_p=grazing_p,
        grazing_hit=grazing_hit,
        jump_speed_mps=jump_speed,
        jump_hit=jump_hit,
        upstream=upstream,
        coverage=coverage(pings, people, person_at, span_ms),
        episodes=episodes,
        hits=hits,
        credible=credible,
        jump=jump,
        persons=pings.persons,
        policy=policy,
        companions=found_pairs,
        case_pair=case_pair,
        case_decides=(
            np.zeros(people.shape[0], dtype=bool) if case_decides is None else case_decides
        ),
    )


def _decisive_pairs(
    pairs: Companions, slot: NDArray[np.int64], n: int, policy: Policy
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per person, the pair that decides and its rank (3 exposed, 2 passage, 1 grid only, 0).

    A pair is an exposure at ``policy.min_together_s`` or more of credibly close
    time, a passage with less, and only the grid rule's when it fires without a
    credibly close slot. Ties go to more credible minutes, then more grid minutes.
    """
    table = pairs.table
    best = np.full(n, -1, dtype=np.int64)
    rank = np.zeros(n, dtype=np.int64)
    if len(table) == 0:
        return best, rank
    credible = np.asarray(table["credible_minutes"], dtype=np.float64)
    need = policy.min_together_s / 60.0
    pair_rank = np.select(
        [credible >= need - 1e-9, credible > 0, np.asarray(table["grid_rule"], dtype=bool)],
        [3, 2, 1],
        0,
    )
    row = slot[pairs.person_code]
    order = np.lexsort((-np.asarray(table["grid_minutes"]), -credible, -pair_rank, row))
    head = np.ones(order.shape[0], dtype=bool)
    head[1:] = row[order][1:] != row[order][:-1]
    chosen = order[head & (pair_rank[order] > 0)]
    best[row[chosen]] = chosen
    rank[row[chosen]] = pair_rank[chosen]
    return best, rank


def _needed_p_inside(
    hits: Hits,
    pings: PingTable,
    index: FenceIndex,
    xy: tuple[NDArray[np.float64], NDArray[np.float64]],
    position: NDArray[np.int64],
    jump: NDArray[np.bool_],
    policy: Policy,
) -> Hits:
    """``p_inside`` where the verdicts need it (see :func:`judge`'s ``evidence``)."""
    accuracy = pings.accuracy_m[position]
    sure, bound = p_inside_bound(index, hits.fence, accuracy, hits.depth_m)
    p = np.full(len(hits), np.nan)
    p[sure] = 1.0

    def compute(which: NDArray[np.bool_]) -> None:
        k = np.flatnonzero(which)
        if k.shape[0]:
            p[k] = p_inside_of(
                index, hits.fence[k], xy[0][position[k]], xy[1][position[k]], accuracy[k],
                hits.depth_m[k],
            )  # fmt: skip

    # Whatever may be credible (a margin far above rounding on the bound)...
    compute(~sure & (bound >= policy.credible_p * (1.0 - 1e-9)))
    # ...and every hit of a person left without a credible one (their episodes,
    # grazing discs and decisive episode all need the values).
    credible = (p >= policy.credible_p) & ~jump
    size = int(hits.person.max(initial=-1)) + 1
    with_credible = np.zeros(size, dtype=bool)
    with_credible[hits.person[credible]] = True
    compute(np.isnan(p) & ~with_credible[hits.person])
    return replace(hits, p_inside=p)


def _best_hit(
    row: NDArray[np.int64], flags: NDArray[np.bool_], value: NDArray[np.float64], n: int
) -> NDArray[np.int64]:
    """Per row (person), the flagged hit with the largest value (NaN lowest, then first), or -1.

    Examples
    --------
    >>> _best_hit(np.array([0, 0, 1]), np.array([True, True, False]),
    ...           np.array([0.2, 0.5, 0.9]), 3).tolist()
    [1, -1, -1]
    """
    from fencecheck._compiled.episodes import best_flagged

    return np.asarray(
        best_flagged(
            np.ascontiguousarray(row, dtype=np.int64),
            np.ascontiguousarray(flags, dtype=np.bool_),
            np.ascontiguousarray(value, dtype=np.float64),
            n,
        ),
        dtype=np.int64,
    )


def _at_hit(values: NDArray[np.float64], hit: NDArray[np.int64]) -> NDArray[np.float64]:
    """``values`` at each person's hit, NaN where there is none."""
    return np.where(hit >= 0, values[np.maximum(hit, 0)] if values.shape[0] else np.nan, np.nan)


def _judging_times(pings: PingTable, people: NDArray[np.int32], at: object) -> NDArray[np.int64]:
    if at is not None:
        try:
            when = parse_time(at, tz=pings.tz)
        except ValueError as exc:
            raise OptionError(f"at: {exc}") from None
        return np.full(people.shape[0], when, dtype=np.int64)
    last = np.full(int(people.max()) + 1 if people.shape[0] else 0, np.iinfo(np.int64).min)
    np.maximum.at(last, pings.person, pings.t)
    return np.asarray(last[people], dtype=np.int64)


def _at_by_code(people: NDArray[np.int32], person_at: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each person's judging time, indexed by person code."""
    table = np.full(int(people.max()) + 1 if people.shape[0] else 0, np.iinfo(np.int64).min)
    table[people] = person_at
    return table


def _within(hits: Hits, at_by_code: NDArray[np.int64], span_ms: int) -> Hits:
    """The hits in each person's lookback ``[at - span, at]``."""
    at = at_by_code[hits.person]
    keep = (hits.t <= at) & (hits.t >= at - span_ms)
    if keep.all():
        return hits
    return replace(hits, **{name: getattr(hits, name)[keep] for name in HIT_COLUMNS})


def _decisive_episodes(
    episodes: Episodes,
    slot: NDArray[np.int64],
    n_people: int,
    holds_credible: NDArray[np.bool_],
    long_enough: NDArray[np.bool_],
    exposed: NDArray[np.bool_],
    passed: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """Per person, the episode that decides: the longest among those the verdict rests on.

    Exposed: credible episodes long enough; passed through: credible episodes;
    otherwise any episode. Ties go to the higher best ``p_inside``, then the
    earlier, then the fence first in the index.
    """
    from fencecheck._compiled.episodes import best_per_group

    row = slot[episodes.person]
    eligible = np.where(
        exposed[row],
        holds_credible & long_enough,
        np.where(passed[row], holds_credible, True),
    )
    return np.asarray(
        best_per_group(
            row, eligible, episodes.dwell_s, episodes.p_best, episodes.entry,
            episodes.fence, n_people,
        )
    )  # fmt: skip
