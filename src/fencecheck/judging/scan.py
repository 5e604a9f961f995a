"""Scan a whole city: every person's verdict, per-fence statistics, what-if rules.

:func:`scan` runs :func:`~fencecheck.judging.verdicts.judge` (the logic of ``explain``)
over everyone at once, a batch of people at a time, and sums the results into
four tables (:class:`~fencecheck.tables.Table`):

``people``
    One row per person with a hit, a reproduced upstream mistake or a near
    miss: ``verdict`` (``explain``'s, with ``not_flagged`` where ``explain``
    says ``unexplained``), ``reasons`` (``;``-separated), the decisive fence
    (for an upstream mistake, the fence the mistaken data hits) with its
    ``kind``, ``entry``, ``exit``, ``dwell_s``, ``dwell_s_max``, ``pings`` and
    best ``p_inside``; ``popup``, when that decisive finding began (the
    episode's first hit, credible or not; for an upstream mistake, the right
    time of the fix it put in the fence); the mistake and its shift; and, for
    people not flagged, the nearest miss (``near_fence_id``, ``near_m``,
    ``near_gap_s``). Every column of a row describes the one decisive finding
    that ``explain`` reports (:meth:`~fencecheck.judging.verdicts.Verdicts.findings`).
``fences``
    One row per live fence: the ``people`` it triggered and what each of those
    triggers was, judged on that fence's hits alone with the verdict rules:
    ``exposed`` (an episode there with a credible hit, long enough),
    ``passed_through`` (credible hits there, every such episode short) or
    ``false_trigger`` (no credible hit there), the false trigger's reasons
    (``boundary_uncertainty``, ``location_jump``; a person whose only trigger is
    an upstream mistake counts at the fence the mistaken data hits, under
    ``timezone_shift`` or ``datum_shift``), ``false_share``, the median dwell of
    the episodes there, and ``decisive_for`` (people whose decisive fence it is).
    A person exposed at one fence who grazed another is a false trigger of the
    other: that fence's trigger was not evidence.
``timeline``
    Per hour (UTC), the people whose pop-up came in that hour, by verdict.
``whatif``
    For each alternative rule of :data:`WHATIF_RULES`: how many people it would
    flag, and how many of today's false triggers, passages and true exposures
    it would no longer flag. A rule acts on the matching of our data; a pop-up
    caused by an upstream mistake is counted as still flagged under every rule,
    since no matching rule repairs the mistake.

``flags`` holds, for each person row, whether each rule would flag them;
``triggers`` one row per (person, fence) trigger with its ``outcome``,
``reasons`` and whether it is an ``upstream`` mistake's (the rows the
``fences`` table counts). Neither is written by :meth:`Scan.write`.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> result = scan(fc.read_pings("data/samples/pings.csv"), index)
>>> dict(zip(result.people["person_id"], result.people["verdict"]))["008"]
'not_flagged'
>>> row = list(result.whatif["rule"]).index("min_dwell_10min")
>>> int(result.whatif["missed_exposures"][row])
0
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck._compiled.groupby import any_by, pairs_of
from fencecheck.errors import OptionError
from fencecheck.io.tally import Reading
from fencecheck.judging.case_scan import COMPANION_RULES, case_pairs, case_table, companion_flags
from fencecheck.judging.inputs import as_index, as_pings
from fencecheck.judging.near import near_misses
from fencecheck.judging.plot import plot_fence
from fencecheck.judging.verdicts import DEFAULT_LOOKBACK_S, REASONS, Rules, judge
from fencecheck.optional import Progress, tracked
from fencecheck.options import MatchMode, Source
from fencecheck.pings import ping_positions
from fencecheck.policy import Policy
from fencecheck.tables import NO_TIME, Table
from fencecheck.times import DEFAULT_TZ, parse_time

if TYPE_CHECKING:
    from fencecheck.fences import FenceSet
    from fencecheck.index import FenceIndex
    from fencecheck.pings import PingTable

__all__ = ["OUTCOMES", "WHATIF_RULES", "Scan", "ScanPart", "assemble", "scan", "scan_part"]

WHATIF_RULES: tuple[tuple[str, str], ...] = (
    ("min_dwell_0min", "any hit flags (today's rule)"),
    ("min_dwell_5min", "an episode of at least 5 minutes"),
    ("min_dwell_10min", "an episode of at least 10 minutes"),
    ("min_dwell_30min", "an episode of at least 30 minutes"),
    ("ignore_cell_fixes", "cell fixes never flag"),
    ("point_mode", "the fix itself must be in the fence with its margin (no accuracy disc)"),
    ("margins_halved", "every fence's margin halved"),
)
"""Name and meaning of each alternative rule in the what-if table."""
_DWELL_RULES = {"min_dwell_0min": 0.0, "min_dwell_5min": 300.0, "min_dwell_10min": 600.0,
                "min_dwell_30min": 1800.0}  # fmt: skip
OUTCOMES = ("exposed", "passed_through", "false_trigger")
"""What one fence's trigger of one person was (the ``fences`` table)."""
DEFAULT_BATCH_PINGS = 2_000_000
_HOUR_MS = 3_600_000
_PEOPLE_TIMES = ("entry", "exit", "popup")
_PEOPLE_COLUMNS: dict[str, Any] = {
    "person_id": object, "verdict": object, "reasons": object, "fence_id": object,
    "case_id": object, "kind": object, "entry": np.int64, "exit": np.int64, "dwell_s": np.float64,
    "dwell_s_max": np.float64, "pings": np.int64, "p_inside": np.float64, "popup": np.int64,
    "mistake": object, "shift_s": np.float64, "shift_m": np.float64, "near_fence_id": object,
    "near_m": np.float64, "near_gap_s": np.float64,
}  # fmt: skip
"""The columns of the ``people`` table and their types."""


@dataclass(frozen=True)
class ScanPart:
    """The scan of one batch of people, before it is summed with the others.

    ``people``, ``flags`` and ``decisive_fence`` (the position of the fence in the
    ``fence_id`` column, -1 for none) have one row per listed person; ``pair_*``
    one entry per (person, fence) trigger; ``dwell_*`` one per episode.
    """

    people: Table
    flags: NDArray[np.bool_]
    decisive_fence: NDArray[np.int64]
    pair_person: NDArray[np.object_]
    pair_fence: NDArray[np.int64]
    pair_outcome: NDArray[np.int8]
    pair_reasons: NDArray[np.bool_]
    pair_upstream: NDArray[np.bool_]
    dwell_fence: NDArray[np.int64]
    dwell_s: NDArray[np.float64]
    cases: dict[str, NDArray[Any]] | None = None
    """With cases: per pair that fired or came close, its case, outcome, and if it decides."""


@dataclass(frozen=True)
class Scan:
    """The tables of a scan (see the module docstring), and how it was run."""

    people: Table
    fences: Table
    timeline: Table
    whatif: Table
    flags: Table
    trigger_parts: _Triggers = field(repr=False, compare=False)
    policy: Policy
    mode: str
    lookback_s: float
    at: int | None
    tz: str = "Asia/Shanghai"
    tables: tuple[str, ...] = field(default=("people", "fences", "timeline", "whatif"))
    cases: Table | None = None
    """With cases: one row per case (:mod:`fencecheck.judging.case_scan`); in ``tables`` too."""
    index: FenceIndex | None = field(default=None, repr=False, compare=False)
    """The fences scanned (for :func:`fencecheck.judging.plot.plot_fence`)."""
    pings: PingTable | None = field(default=None, repr=False, compare=False)
    """The pings ``scan()`` was given (None for a scan assembled from parts)."""
    reading: Reading | None = field(default=None, repr=False, compare=False)
    """What :func:`~fencecheck.scan_file` read, used and set aside (None for ``scan()``)."""

    def to_pandas(self) -> dict[str, Any]:
        """Each table as a :class:`pandas.DataFrame`, by name."""
        return {
            name: getattr(self, name).to_pandas() for name in (*self.tables, "flags", "triggers")
        }

    @cached_property
    def triggers(self) -> Table:
        """One row per (person, fence) trigger (made on first use).

        Columns ``person_id``, ``fence_id``, ``kind``, ``outcome``, ``reasons``
        and ``upstream``: the rows the ``fences`` table counts.
        """
        if self.index is None:
            raise OptionError("this scan has no index to name the fences of its triggers")
        return self.trigger_parts.table(self.index)

    def plot_fence(self, fence_id: str, ax: Any = None) -> Any:
        """Map one fence and its triggered people (:func:`fencecheck.judging.plot.plot_fence`)."""
        return plot_fence(self, fence_id, ax=ax)

    def write(self, folder: Any, file_format: str = "csv", *, excel: bool = False) -> list[str]:
        """Write ``people``, ``fences``, ``timeline`` and ``whatif`` into ``folder``.

        ``excel=True`` writes CSV as UTF-8 with a byte-order mark, which Excel needs to
        read Chinese names (:meth:`fencecheck.tables.Table.to_csv`). Returns the paths
        written.
        """
        from pathlib import Path

        from fencecheck.tables import table_format

        kind = table_format(file_format)
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.tables:
            path = out / f"{name}.{kind}"
            getattr(self, name).write(path, kind, excel=excel)
            written.append(str(path))
        return written

    def verdict_counts(self) -> dict[str, int]:
        """People per verdict (``not_flagged`` counts only the listed near misses)."""
        names, counts = np.unique(self.people["verdict"].astype(str), return_counts=True)
        return dict(zip(names.tolist(), counts.astype(int).tolist(), strict=True))

    def datum_warning(self) -> str | None:
        """A warning when many pop-ups are reproduced only by a datum mix-up, else ``None``.

        Each such person is a ``false_trigger`` with reason ``datum_shift``: their
        fixes miss every fence as read, and hit one once GCJ-02 is read as WGS-84
        (or the reverse). When that is at least a fifth of the flagged people (and
        at least three), the fences and the pings most likely disagree about
        where the city is, and the datums given should be checked.

        Examples
        --------
        >>> import fencecheck as fc
        >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
        >>> fc.scan(fc.read_pings("data/samples/pings.csv"), index).datum_warning() is None
        True
        """
        people = self.people
        flagged = people["verdict"] != "not_flagged"
        shifted = flagged & np.array(
            ["datum_shift" in str(r) for r in people["reasons"].tolist()], dtype=bool
        )
        n, m = int(shifted.sum()), int(flagged.sum())
        if n < 3 or n < 0.2 * m:
            return None
        return (
            f"{n:,} of {m:,} flagged people are false triggers that only a GCJ-02 / WGS-84 "
            "mix-up reproduces: the fences and the pings may disagree about where the city is; "
            "check the datums they were read in (--fence-datum, --ping-datum; a DataV or Amap "
            "file is GCJ-02)"
        )

    def summary(self, top: int = 5) -> str:
        """A short plain-text summary: verdicts, the busiest fences, the what-if rules."""
        counts = self.verdict_counts()
        lines = [
            "verdicts: "
            + ", ".join(f"{name} {counts.get(name, 0)}" for name in (*OUTCOMES, "not_flagged"))
        ]
        warning = self.datum_warning()
        if warning is not None:
            lines.append(f"warning: {warning}")
        f = self.fences
        busiest = np.argsort(-f["people"], kind="stable")[:top]
        busiest = busiest[f["people"][busiest] > 0]
        if busiest.shape[0]:
            lines.append(f"{'fence':<20} {'kind':<12} {'people':>7} {'false':>6} {'share':>6}")
            for k in busiest.tolist():
                lines.append(
                    f"{str(f['fence_id'][k])[:20]:<20} {str(f['kind'][k])[:12]:<12} "
                    f"{int(f['people'][k]):>7} {int(f['false_trigger'][k]):>6} "
                    f"{float(f['false_share'][k]):>6.0%}"
                )
        w = self.whatif
        lines.append(f"{'what if':<20} {'flagged':>8} {'false avoided':>14} {'exposed missed':>15}")
        for k in range(len(w)):
            lines.append(
                f"{w['rule'][k]!s:<20} {int(w['flagged'][k]):>8} "
                f"{int(w['avoided_false_triggers'][k]):>14} {int(w['missed_exposures'][k]):>15}"
            )
        return "\n".join(lines)


def scan(
    pings: PingTable | str | os.PathLike[str] | Any,
    index: FenceIndex | FenceSet,
    *,
    at: object = None,
    lookback: object = DEFAULT_LOOKBACK_S,
    policy: Policy | None = None,
    mode: MatchMode | str = MatchMode.DISC,
    batch_pings: int = DEFAULT_BATCH_PINGS,
    cases: PingTable | None = None,
    grid_origin: tuple[float, float] | str | None = None,
    progress: Progress = None,
) -> Scan:
    """Judge everyone in ``pings`` and sum it up (see the module docstring).

    Parameters
    ----------
    pings : PingTable, path or DataFrame
        Everyone's pings (a path or a pandas DataFrame is read with
        :func:`fencecheck.read_pings`'s defaults).
    index : FenceIndex or FenceSet
        The fences (a fence set is indexed in its own frame).
    at : time, optional
        One moment for everyone; by default each person's own last ping.
    lookback : float or str
        Seconds, or text such as ``"14d"``.
    policy : Policy, optional
        The thresholds.
    mode : {"disc", "point"}
        How candidate hits are found.
    batch_pings : int
        People are judged a batch at a time, about this many pings per batch
        (a person is never split), which bounds the memory.
    cases, grid_origin
        Confirmed cases' pings and the companion grid's origin, as for
        :func:`~fencecheck.judging.judge`: ``people`` then names the deciding case.
    progress : bool or callable, optional
        ``True`` shows a bar of the pings judged (tqdm: a widget in a notebook, a
        line on a terminal; needs the ``progress`` extra); a callable is called with
        a short line instead.
    """
    pings = as_pings(pings, purpose="scan")
    index = as_index(index, purpose="scan")
    rules = Rules.of(policy, lookback, mode)
    batches = tracked(
        person_batches(pings, batch_pings),
        progress,
        total=len(pings),
        noun="pings judged",
        unit="ping",
        purpose="scan(progress=True)",
        size=len,
    )
    parts = [
        scan_part(batch, index, rules, at=at, cases=cases, grid_origin=grid_origin)
        for batch in batches
    ]
    result = assemble(parts, index, rules, at=at, tz=pings.tz)
    return replace(result, pings=pings)


def person_batches(pings: PingTable, batch_pings: int) -> Iterable[PingTable]:
    """The pings in batches of whole people, about ``batch_pings`` pings each."""
    if isinstance(batch_pings, bool) or not isinstance(batch_pings, int) or batch_pings < 1:
        raise OptionError(f"batch_pings: {batch_pings!r} is not a positive whole number")
    if len(pings) <= batch_pings:
        yield pings
        return
    counts = np.bincount(pings.person)
    before = np.cumsum(counts) - counts
    batch_of_person = before // batch_pings
    batch = batch_of_person[pings.person]
    if bool(np.all(batch[1:] >= batch[:-1])):
        # Pings grouped by person in code order (as read): each batch is a slice, no copy.
        cuts = np.flatnonzero(batch[1:] != batch[:-1]) + 1
        for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(pings)], strict=True):
            yield pings.take(slice(lo, hi))
        return
    order = np.argsort(batch, kind="stable")
    bounds = np.searchsorted(batch[order], np.unique(batch), side="left").tolist()
    for lo, hi in zip(bounds, [*bounds[1:], len(pings)], strict=True):
        yield pings.take(np.sort(order[lo:hi]))


def scan_part(
    pings: PingTable,
    index: FenceIndex,
    rules: Rules,
    *,
    at: object = None,
    cases: PingTable | None = None,
    grid_origin: tuple[float, float] | str | None = None,
) -> ScanPart:
    """The scan of one batch of whole people (:func:`assemble` sums the parts)."""
    policy, mode_ = rules.policy, rules.mode
    v = judge(
        pings,
        index,
        at=at,
        lookback=rules.lookback_s,
        policy=policy,
        mode=mode_,
        evidence="verdicts",
        cases=cases,
        grid_origin=grid_origin,
    )
    n = len(v)
    size = int(v.person.max(initial=-1)) + 1
    slot = np.full(size, -1, dtype=np.int64)
    slot[v.person] = np.arange(n)
    episodes = v.episodes
    flagged = v.verdict != "unexplained"
    upstream = np.array([u is not None for u in v.upstream.tolist()], dtype=bool)

    # The decisive finding (an episode, or the fence an upstream mistake puts them in):
    # the same one explain reports, every column of the row read from it.
    found = v.findings()
    fence = found.fence
    popup = np.where(flagged, found.popup, NO_TIME)
    mistake = np.full(n, "", dtype=object)
    shift_s = np.full(n, np.nan)
    shift_m = np.full(n, np.nan)
    for k in np.flatnonzero(upstream).tolist():
        ev = v.upstream[k]
        mistake[k] = ev["how"]
        if ev["unit"] == "ms":
            shift_s[k] = ev["shift"] / 1000.0
        else:
            shift_m[k] = ev["shift"]

    # The nearest miss of people not flagged.
    quiet = np.flatnonzero(~flagged)
    near_fence = np.full(n, -1, dtype=np.int64)
    near_m = np.full(n, np.nan)
    near_gap_s = np.full(n, np.nan)
    if quiet.shape[0]:
        misses = near_misses(
            pings, index, v.person[quiet], v.at[quiet], int(rules.lookback_s * 1000), policy
        )
        first = misses.first_per_person()
        rows = slot[misses.person[first]]
        near_fence[rows] = misses.fence[first]
        near_m[rows] = misses.distance_m[first]
        near_gap_s[rows] = misses.time_gap_ms[first] / 1000.0
    listed = flagged | (near_fence >= 0)

    fence_ids, kinds = index.fences.ids, index.fences.kinds

    def label(positions: NDArray[np.int64], lookup: NDArray[np.object_]) -> NDArray[np.object_]:
        out = np.full(positions.shape[0], "", dtype=object)
        ok = positions >= 0
        out[ok] = lookup[positions[ok]]
        return out

    people = Table(
        {
            "person_id": v.person_ids(),
            "verdict": np.where(flagged, v.verdict, "not_flagged").astype(object),
            "reasons": np.array([";".join(r) for r in v.reasons.tolist()], dtype=object),
            "fence_id": label(fence, fence_ids),
            "case_id": _case_ids(v, found),
            "kind": label(fence, kinds),
            "entry": found.entry,
            "exit": found.exit,
            "dwell_s": found.dwell_s,
            "dwell_s_max": found.dwell_s_max,
            "pings": found.pings,
            "p_inside": found.p_inside,
            "popup": popup,
            "mistake": mistake,
            "shift_s": shift_s,
            "shift_m": shift_m,
            "near_fence_id": label(near_fence, fence_ids),
            "near_m": near_m,
            "near_gap_s": near_gap_s,
        },
        times=_PEOPLE_TIMES,
    ).take(listed)

    flags = _whatif_flags(pings, index, v, slot, mode_)
    flags[upstream] = True
    cases_found: dict[str, NDArray[Any]] | None = None
    if cases is not None and v.companions is not None:
        grid_today, grid_flags = companion_flags(pings, cases, v, slot, policy)
        fence_today = flags[:, 0].copy()  # any hit (or a reproduced mistake) flags today
        flags |= grid_today[:, None]  # a fence rule leaves the companion rule as it is
        flags = np.column_stack([flags, fence_today[:, None] | grid_flags])
        cases_found = case_pairs(v)
    flags[~flagged] = False
    pair_person, pair_fence, pair_outcome, pair_reasons, pair_upstream = _fence_outcomes(
        v, upstream
    )
    return ScanPart(
        people=people,
        flags=flags[listed],
        decisive_fence=fence[listed].astype(np.int64),
        pair_person=pair_person,
        pair_fence=pair_fence,
        pair_outcome=pair_outcome,
        pair_reasons=pair_reasons,
        pair_upstream=pair_upstream,
        dwell_fence=episodes.fence.astype(np.int64),
        dwell_s=episodes.dwell_s.astype(np.float64),
        cases=cases_found,
    )


def _case_ids(v: Any, found: Any) -> NDArray[np.object_]:
    """Per person, the id of the case that decides (``""`` where a fence or nothing does)."""
    out = np.full(len(v), "", dtype=object)
    if v.companions is not None:
        deciding = np.flatnonzero(found.source == "case")
        out[deciding] = v.companions.table["case_id"][v.case_pair[deciding]]
    return out


def _whatif_flags(
    pings: PingTable,
    index: FenceIndex,
    v: Any,
    slot: NDArray[np.int64],
    mode: MatchMode,
) -> NDArray[np.bool_]:
    """Per person and rule of :data:`WHATIF_RULES`, whether the rule flags them on our data.

    ``slot`` maps person codes to rows of ``v``.
    """
    hits, episodes = v.hits, v.episodes
    n = len(v)
    hit_row = slot[hits.person]
    flags = np.zeros((n, len(WHATIF_RULES)), dtype=bool)
    longest = np.full(n, -np.inf)
    np.maximum.at(longest, slot[episodes.person], episodes.dwell_s)
    position = ping_positions(hits.ping, pings.row)
    accuracy = pings.accuracy_m[position].astype(np.float64)
    buffer_m = index.fences.buffer_m[hits.fence]
    # The rules only ever drop hits: a hit kept by a rule is one of today's.
    outside = -hits.depth_m
    reach = accuracy if mode is MatchMode.DISC else np.zeros_like(accuracy)
    kept = {
        "ignore_cell_fixes": pings.source[position] != Source.CELL.code,
        "point_mode": hits.inside,
        "margins_halved": (hits.depth_m >= 0) | (outside <= buffer_m * 0.5 + reach),
    }
    for r, (name, _) in enumerate(WHATIF_RULES):
        if name in _DWELL_RULES:
            flags[:, r] = longest >= _DWELL_RULES[name]
        else:
            flags[:, r] = any_by(hit_row, kept[name], n)
    return flags


def _fence_outcomes(
    v: Any, upstream: NDArray[np.bool_]
) -> tuple[
    NDArray[np.object_], NDArray[np.int64], NDArray[np.int8], NDArray[np.bool_], NDArray[np.bool_]
]:
    """Each (person, fence) trigger.

    Returns the person's id, the fence, the outcome, the reasons (one column
    each), and whether the trigger is an upstream mistake's.
    """
    hits, episodes = v.hits, v.episodes
    n_fences = int(hits.fence_lookup.shape[0])
    pair_of_hit, pair_person, fence = pairs_of(hits.person, hits.fence, n_fences)
    m = fence.shape[0]
    credible = any_by(pair_of_hit, v.credible, m)
    grazing = any_by(pair_of_hit, ~v.credible & ~v.jump, m)
    jump = any_by(pair_of_hit, v.jump, m)
    holds_credible = any_by(episodes.of_hit, v.credible, len(episodes))
    long_enough = episodes.dwell_s >= v.policy.min_dwell_s
    # An episode's hits share its person and fence, so one pair each.
    pair_of_episode = np.zeros(len(episodes), dtype=np.int64)
    pair_of_episode[episodes.of_hit] = pair_of_hit
    exposed = any_by(pair_of_episode, holds_credible & long_enough, m)
    outcome = np.where(exposed, 0, np.where(credible, 1, 2)).astype(np.int8)
    reasons = np.zeros((m, len(REASONS)), dtype=bool)
    false = outcome == 2
    reasons[:, REASONS.index("boundary_uncertainty")] = false & grazing
    reasons[:, REASONS.index("location_jump")] = false & jump
    # People whose only trigger is an upstream mistake count at the fence it hits.
    rows = np.flatnonzero(upstream)
    extra_fence = np.array([v.upstream[k]["fence"] for k in rows.tolist()], dtype=np.int64)
    extra_reasons = np.zeros((rows.shape[0], len(REASONS)), dtype=bool)
    for j, k in enumerate(rows.tolist()):
        extra_reasons[j, REASONS.index(v.upstream[k]["reason"])] = True
    ids = v.persons.ids()
    person = np.concatenate([ids[pair_person], ids[v.person[rows]]])
    return (
        person.astype(object),
        np.concatenate([fence, extra_fence]),
        np.concatenate([outcome, np.full(rows.shape[0], 2, dtype=np.int8)]),
        np.concatenate([reasons, extra_reasons]),
        np.concatenate([np.zeros(m, dtype=bool), np.ones(rows.shape[0], dtype=bool)]),
    )


def assemble(
    parts: Sequence[ScanPart],
    index: FenceIndex,
    rules: Rules,
    *,
    at: object = None,
    tz: str = DEFAULT_TZ,
) -> Scan:
    """Sum the scans of batches of people (each person in one part) into the tables."""
    people_cols = {
        name: _joined([p.people[name] for p in parts], np.zeros(0, dtype))
        for name, dtype in _PEOPLE_COLUMNS.items()
    }
    order = np.argsort(people_cols["person_id"].astype(str), kind="stable")
    people = Table({k: c[order] for k, c in people_cols.items()}, times=_PEOPLE_TIMES)
    with_cases = any(p.cases is not None for p in parts)
    rule_list = WHATIF_RULES + (COMPANION_RULES if with_cases else ())
    flags = _joined([p.flags for p in parts], np.zeros((0, len(rule_list)), dtype=bool))[order]
    fences = _fence_table(parts, index)
    timeline = _timeline(people)
    whatif = _whatif_table(people, flags, rule_list)
    flag_table = Table(
        {
            "person_id": people["person_id"],
            **{rule: flags[:, r] for r, (rule, _) in enumerate(rule_list)},
        }
    )
    case_stats = case_table([p.cases for p in parts if p.cases is not None]) if with_cases else None
    try:
        when = None if at is None else parse_time(at, tz=tz)
    except ValueError as exc:
        raise OptionError(f"at: {exc}") from None
    return Scan(
        people=people,
        fences=fences,
        timeline=timeline,
        whatif=whatif,
        flags=flag_table,
        trigger_parts=_Triggers.of(parts),
        policy=rules.policy,
        mode=rules.mode.value,
        lookback_s=rules.lookback_s,
        at=when,
        tz=tz,
        index=index,
        cases=case_stats,
        tables=("people", "fences", "timeline", "whatif", *(("cases",) if with_cases else ())),
    )


def _joined(columns: list[NDArray[Any]], empty: NDArray[Any]) -> NDArray[Any]:
    """The parts' columns end to end (``empty`` when there are no parts)."""
    return np.concatenate(columns) if columns else empty


@dataclass(frozen=True)
class _Triggers:
    """The (person, fence) triggers as the parts left them, made a table on demand."""

    person: NDArray[np.object_]
    fence: NDArray[np.int64]
    outcome: NDArray[np.int8]
    reasons: NDArray[np.bool_]
    upstream: NDArray[np.bool_]

    @classmethod
    def of(cls, parts: Sequence[ScanPart]) -> _Triggers:
        return cls(
            person=_joined([p.pair_person for p in parts], np.zeros(0, object)),
            fence=_joined([p.pair_fence for p in parts], np.zeros(0, np.int64)),
            outcome=_joined([p.pair_outcome for p in parts], np.zeros(0, np.int8)),
            reasons=_joined(
                [p.pair_reasons for p in parts], np.zeros((0, len(REASONS)), dtype=bool)
            ),
            upstream=_joined([p.pair_upstream for p in parts], np.zeros(0, bool)),
        )

    def table(self, index: FenceIndex) -> Table:
        """One row per trigger, by person then fence."""
        fence_ids = index.fences.ids[self.fence].astype(str)
        order = np.lexsort((fence_ids, self.person.astype(str)))
        # Each of the 2**len(REASONS) sets of reasons spelled once, then looked up.
        bits = self.reasons[order].astype(np.int64) @ (1 << np.arange(len(REASONS)))
        spelled = np.array(
            [";".join(r for k, r in enumerate(REASONS) if code >> k & 1)
             for code in range(1 << len(REASONS))],
            dtype=object,
        )  # fmt: skip
        return Table(
            {
                "person_id": self.person[order],
                "fence_id": fence_ids[order].astype(object),
                "kind": index.fences.kinds[self.fence[order]],
                "outcome": np.array(OUTCOMES, dtype=object)[self.outcome[order]],
                "reasons": spelled[bits],
                "upstream": self.upstream[order],
            }
        )


def _fence_table(parts: Sequence[ScanPart], index: FenceIndex) -> Table:
    n_fences = len(index.fences)
    live = np.flatnonzero(index.alive)
    fence = _joined([p.pair_fence for p in parts], np.zeros(0, np.int64))
    outcome = _joined([p.pair_outcome for p in parts], np.zeros(0, np.int8))
    reasons = _joined([p.pair_reasons for p in parts], np.zeros((0, len(REASONS)), dtype=bool))
    total = np.bincount(fence, minlength=n_fences)
    columns: dict[str, NDArray[Any]] = {
        "fence_id": index.fences.ids,
        "kind": index.fences.kinds,
        "people": total,
    }
    for k, name in enumerate(OUTCOMES):
        columns[name] = np.bincount(fence[outcome == k], minlength=n_fences)
    for k, name in enumerate(REASONS):
        columns[name] = np.bincount(fence[reasons[:, k]], minlength=n_fences)
    with np.errstate(invalid="ignore", divide="ignore"):
        columns["false_share"] = np.where(total > 0, columns["false_trigger"] / total, np.nan)
    dwell_fence = _joined([p.dwell_fence for p in parts], np.zeros(0, np.int64))
    dwell = _joined([p.dwell_s for p in parts], np.zeros(0))
    columns["median_dwell_s"] = _median_by(dwell_fence, dwell, n_fences)
    decisive = _joined([p.decisive_fence for p in parts], np.zeros(0, np.int64))
    columns["decisive_for"] = np.bincount(decisive[decisive >= 0], minlength=n_fences)
    return Table({k: c[live] for k, c in columns.items()})


def _median_by(group: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[Any]:
    """The median of ``values`` per group ``0..n-1`` (NaN for an empty group)."""
    from fencecheck._compiled.episodes import median_by_group

    return np.asarray(
        median_by_group(
            np.ascontiguousarray(group, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            n,
        )
    )


def _timeline(people: Table) -> Table:
    flagged = people["verdict"] != "not_flagged"
    popup = people["popup"][flagged]
    verdict = people["verdict"][flagged]
    if popup.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Table({"hour": empty, **{v: empty for v in OUTCOMES}, "total": empty}, ("hour",))
    hour = popup // _HOUR_MS
    first, last = int(hour.min()), int(hour.max())
    columns: dict[str, NDArray[Any]] = {"hour": np.arange(first, last + 1) * _HOUR_MS}
    for name in OUTCOMES:
        columns[name] = np.bincount(hour[verdict == name] - first, minlength=last - first + 1)
    columns["total"] = np.bincount(hour - first, minlength=last - first + 1)
    return Table(columns, times=("hour",))


def _whatif_table(
    people: Table, flags: NDArray[np.bool_], rule_list: tuple[tuple[str, str], ...] = WHATIF_RULES
) -> Table:
    verdict = people["verdict"]
    today = {name: verdict == name for name in OUTCOMES}
    rows = range(len(rule_list))
    return Table(
        {
            "rule": np.array([rule for rule, _ in rule_list], dtype=object),
            "description": np.array([text for _, text in rule_list], dtype=object),
            "flagged": np.array([int(flags[:, r].sum()) for r in rows]),
            "avoided_false_triggers": np.array(
                [int((today["false_trigger"] & ~flags[:, r]).sum()) for r in rows]
            ),
            "avoided_passed_through": np.array(
                [int((today["passed_through"] & ~flags[:, r]).sum()) for r in rows]
            ),
            "missed_exposures": np.array(
                [int((today["exposed"] & ~flags[:, r]).sum()) for r in rows]
            ),
        }
    )
