"""Episodes: a person's hits on one fence, grouped into stays and passages.

For one person, hits on the same fence and window that follow each other form
an episode; two hits at most ``policy.gap_s`` apart (default 15 minutes) belong
to the same one, whatever pings lie between them, so a ping that flaps out across
the boundary, or a logger that goes quiet while the phone lies still, does not
split a stay (docs/domain.md, section 4). Everything is computed for all people at
once from sorted columns (no loop per ping or per person); only the stay
detector runs as a compiled loop (:mod:`fencecheck._compiled.episodes`).

Dwell is measured on credible pings only (docs/domain.md, section 4): a hit
is credible when its ``p_inside`` is at least ``policy.credible_p`` and it is
not a location jump, and a hit that is not credible never lengthens a stay. A
car on a ring road with one good GPS fix inside a fence and cell fixes whose
discs graze it around that fix passed through, whatever the cell fixes say.
Per episode:

- ``entry`` / ``exit``: the first and last credible hit; ``dwell_s`` = exit -
  entry, the lower bound the verdicts use. An episode without a credible hit
  has its first and last hit as ``entry`` and ``exit``, and a dwell of 0 (both
  bounds);
- ``dwell_s_max``, the upper bound: from the person's last ping before the
  entry that is not credibly inside the fence to their first such ping after
  the exit (NaN when the data starts or ends inside);
- ``pings`` (hits), ``credible_pings``, ``inside_pings`` (hits whose point rule
  holds), the deepest
  hit (``max_depth_m``, ``deepest_ping``), the best and the typical (median)
  ``p_inside``;
- ``speed_mps``: the net speed, first hit to last, the distance shortened by
  both fixes' accuracies (``max(0, d - acc1 - acc2) / dwell``, docs/domain.md's
  accuracy-aware speed), so that the jitter of a still phone adds nothing and
  a drive through reads as a drive whatever the fix rate; NaN for one ping;
- ``stopped``: the stay detector found ``policy.stay_min_s`` within
  ``policy.stay_radius_m`` among fixes at least that accurate (coarse cell
  fixes cannot place a stay, and never make one).

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> hits = index.match(pings, mode="disc")
>>> episodes = find_episodes(hits, pings, index)
>>> p01 = episodes.person_ids() == "P01"
>>> episodes.fence_ids()[p01].tolist(), episodes.stopped[p01].tolist()
(['F-sealed-1'], [True])
>>> p02 = episodes.person_ids() == "P02"
>>> bool(episodes.stopped[p02].any()), bool((episodes.speed_mps[p02] > 5).all())
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError
from fencecheck.pings import (
    PersonRegistry,
    is_person_time_sorted,
    person_time_order,
    ping_positions,
)
from fencecheck.policy import Policy
from fencecheck.times import OPEN_END

if TYPE_CHECKING:
    from fencecheck.hits import Hits
    from fencecheck.index import FenceIndex
    from fencecheck.pings import PingTable

__all__ = ["EPISODE_COLUMNS", "Episodes", "find_episodes"]

EPISODE_COLUMNS = (
    "person",
    "fence",
    "window_start",
    "window_end",
    "entry",
    "exit",
    "first_hit",
    "entry_ping",
    "exit_ping",
    "dwell_s",
    "dwell_s_max",
    "pings",
    "credible_pings",
    "inside_pings",
    "max_depth_m",
    "deepest_ping",
    "p_best",
    "p_typical",
    "speed_mps",
    "stopped",
)
"""The numpy columns of an :class:`Episodes` table."""


@dataclass(frozen=True)
class Episodes:
    """Episodes as columns, ordered by person, then entry, then fence.

    Attributes
    ----------
    person : ndarray of int32
        Person code (``person_ids()`` gives the id).
    fence : ndarray of int64
        Fence position in the index (``fence_ids()``, ``kinds()``).
    window_start, window_end : ndarray of int64
        The fence window the episode lies in (``OPEN_END`` when open).
    entry, exit : ndarray of int64
        First and last credible hit (without one, first and last hit), UTC milliseconds.
    first_hit : ndarray of int64
        The episode's first hit, credible or not: when it began to flag the person.
    entry_ping, exit_ping, deepest_ping : ndarray of int64
        Row numbers of the entry's, the exit's and the deepest hit's ping.
    dwell_s, dwell_s_max : ndarray of float64
        Dwell on credible pings: lower bound and upper bound (NaN when open), seconds.
    pings, credible_pings, inside_pings : ndarray of int64
        Hits in the episode, the credible ones, and those whose point rule holds.
    max_depth_m : ndarray of float64
        The deepest hit's ``depth_m``.
    p_best, p_typical : ndarray of float64
        The largest and the median ``p_inside`` of the episode's hits.
    speed_mps : ndarray of float64
        Accuracy-aware net speed through the episode (NaN for one ping).
    stopped : ndarray of bool
        The stay detector found a stay.
    of_hit : ndarray of int64
        Each hit's episode, in the order of the hits table.
    fence_lookup, kind_lookup : ndarray of object
        Fence ids and kinds by position.
    persons : PersonRegistry
        Person ids by code.
    policy : Policy
        The thresholds used.
    """

    person: NDArray[np.int32]
    fence: NDArray[np.int64]
    window_start: NDArray[np.int64]
    window_end: NDArray[np.int64]
    entry: NDArray[np.int64]
    exit: NDArray[np.int64]
    first_hit: NDArray[np.int64]
    entry_ping: NDArray[np.int64]
    exit_ping: NDArray[np.int64]
    dwell_s: NDArray[np.float64]
    dwell_s_max: NDArray[np.float64]
    pings: NDArray[np.int64]
    credible_pings: NDArray[np.int64]
    inside_pings: NDArray[np.int64]
    max_depth_m: NDArray[np.float64]
    deepest_ping: NDArray[np.int64]
    p_best: NDArray[np.float64]
    p_typical: NDArray[np.float64]
    speed_mps: NDArray[np.float64]
    stopped: NDArray[np.bool_]
    of_hit: NDArray[np.int64]
    fence_lookup: NDArray[np.object_]
    kind_lookup: NDArray[np.object_]
    persons: PersonRegistry
    policy: Policy

    def __len__(self) -> int:
        return int(self.person.shape[0])

    def __repr__(self) -> str:
        return (
            f"<Episodes: {len(self)} episodes of {np.unique(self.person).shape[0]} people, "
            f"{int(self.stopped.sum())} stopped>"
        )

    def fence_ids(self) -> NDArray[np.object_]:
        """Each episode's fence id."""
        ids: NDArray[np.object_] = self.fence_lookup[self.fence]
        return ids

    def kinds(self) -> NDArray[np.object_]:
        """Each episode's fence kind."""
        kinds: NDArray[np.object_] = self.kind_lookup[self.fence]
        return kinds

    def person_ids(self) -> NDArray[np.object_]:
        """Each episode's person id."""
        ids: NDArray[np.object_] = self.persons.ids()[self.person]
        return ids

    def to_pandas(self) -> Any:
        """The episodes as a DataFrame (times tz-aware UTC, ids as text)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("pandas", "pandas", "Episodes.to_pandas") from exc
        end = np.where(self.window_end == OPEN_END, np.iinfo(np.int64).min, self.window_end)
        frame = {name: getattr(self, name) for name in EPISODE_COLUMNS}
        frame["person"] = self.person_ids()
        frame["fence"] = self.fence_ids()
        for name in ("window_start", "entry", "exit", "first_hit"):
            frame[name] = pd.to_datetime(frame[name], unit="ms", utc=True)
        frame["window_end"] = pd.to_datetime(end, unit="ms", utc=True, errors="coerce")
        out = pd.DataFrame(frame).rename(columns={"person": "person_id", "fence": "fence_id"})
        out.insert(2, "kind", self.kinds())
        return out


def find_episodes(
    hits: Hits,
    pings: PingTable,
    index: FenceIndex,
    policy: Policy | None = None,
    *,
    xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    credible: NDArray[np.bool_] | None = None,
) -> Episodes:
    """Group hits into episodes, for every person at once.

    Parameters
    ----------
    hits : Hits
        Hits of ``pings`` against ``index`` (from :func:`fencecheck.match`).
    pings : PingTable
        The pings that were matched (their positions, accuracies and each
        person's neighbouring pings are needed).
    index : FenceIndex
        The index the hits came from (frame, fence ids and kinds).
    policy : Policy, optional
        ``gap_s``, ``stay_radius_m``, ``stay_min_s`` and ``credible_p`` are used.
    xy : (ndarray, ndarray), optional
        All the pings already in the index's frame, when the caller has them.
    credible : ndarray of bool, optional
        Which hits are credible (in the order of ``hits``). By default those with
        ``p_inside >= policy.credible_p``; :func:`~fencecheck.judging.judge` also
        takes location jumps out.

    Raises
    ------
    ValueError
        When a hit's ping row is not among the pings.
    """
    policy = Policy() if policy is None else policy
    position = ping_positions(hits.ping, pings.row)
    n = len(hits)
    if credible is None:
        credible = np.asarray(hits.p_inside >= policy.credible_p, dtype=bool)
    elif credible.shape != (n,):
        raise ValueError(f"credible has {credible.shape[0]} values for {n} hits")
    from fencecheck._compiled.episodes import episode_statistics

    members, ep_start = _episode_members(hits, policy)
    accuracy, at = pings.accuracy_m, position
    if xy is None:  # only the hits' pings projected
        x, y = index.frame.to_xy(pings.lon[position], pings.lat[position])
        accuracy, at = accuracy[position], np.arange(n, dtype=np.int64)
    else:
        x, y = xy
    # Every per-episode figure in one compiled pass over each episode's hits, in
    # the episodes' final order (no sorted copy of each hit column).
    (
        head, tail, deep, first_hit, dwell, count, n_credible, inside_pings, p_best, p_typical,
        speed, stopped, has_credible, of_hit,
    ) = episode_statistics(
        members, ep_start, np.ascontiguousarray(hits.t, dtype=np.int64),
        np.ascontiguousarray(hits.depth_m, dtype=np.float64),
        np.ascontiguousarray(hits.p_inside, dtype=np.float64),
        np.ascontiguousarray(hits.inside, dtype=np.bool_),
        np.ascontiguousarray(credible, dtype=np.bool_),
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(y, dtype=np.float64),
        np.ascontiguousarray(accuracy),
        np.ascontiguousarray(at, dtype=np.int64),
        float(policy.stay_radius_m),
        policy.stay_min_s * 1000.0,
    )  # fmt: skip
    upper = _dwell_upper_bound(pings, position, credible, hits.fence, head, tail, has_credible)
    return Episodes(
        person=hits.person[head],
        fence=hits.fence[head],
        window_start=hits.window_start[head],
        window_end=hits.window_end[head],
        entry=hits.t[head],
        exit=hits.t[tail],
        first_hit=np.asarray(first_hit, dtype=np.int64),
        entry_ping=hits.ping[head],
        exit_ping=hits.ping[tail],
        dwell_s=np.asarray(dwell, dtype=np.float64),
        dwell_s_max=upper,
        pings=np.asarray(count, dtype=np.int64),
        credible_pings=np.asarray(n_credible, dtype=np.int64),
        inside_pings=np.asarray(inside_pings, dtype=np.int64),
        max_depth_m=hits.depth_m[deep],
        deepest_ping=hits.ping[deep],
        p_best=np.asarray(p_best, dtype=np.float64),
        p_typical=np.asarray(p_typical, dtype=np.float64),
        speed_mps=np.asarray(speed, dtype=np.float64),
        stopped=np.asarray(stopped, dtype=bool),
        of_hit=np.asarray(of_hit, dtype=np.int64),
        fence_lookup=index.fences.ids,
        kind_lookup=index.fences.kinds,
        persons=hits.persons,
        policy=policy,
    )


def _episode_members(hits: Hits, policy: Policy) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each episode's hits (rows of ``hits``, in time order), episodes by person, entry, fence.

    Episode ``q`` is ``members[ep_start[q]:ep_start[q + 1]]``. Hits that come by
    person, then time (those of pings sorted so, in match's order) are grouped
    in one pass without a sort; anything else is sorted by person, fence,
    window and time, and cut into runs.
    """
    from fencecheck._compiled.episodes import (
        by_first_hit,
        episode_bounds,
        runs_in_order,
        stream_episodes,
    )

    n = len(hits)
    person = np.ascontiguousarray(hits.person)
    fence = np.ascontiguousarray(hits.fence, dtype=np.int64)
    start = np.ascontiguousarray(hits.window_start, dtype=np.int64)
    t = np.ascontiguousarray(hits.t, dtype=np.int64)
    gap_ms = policy.gap_s * 1000.0
    time_sorted = is_person_time_sorted(person, t)
    if time_sorted:
        n_fences = max(int(fence.max(initial=-1)) + 1, 1)
        members, ep_start, windows_in_order = stream_episodes(
            person, fence, start, t, gap_ms, n_fences
        )
        if windows_in_order:
            return np.asarray(members), np.asarray(ep_start)
    key = person.astype(np.int64) * max(int(hits.fence_lookup.shape[0]), 1) + fence
    order = np.asarray(np.lexsort((t, start, key)), dtype=np.int64)
    first, last = episode_bounds(order, person, fence, start, t, gap_ms)
    heads = order[first]
    if time_sorted:  # the order of the heads is by person and entry
        final, misordered = by_first_hit(order, first, person, fence, t)
        if misordered:
            final = _by_first_hit(heads, n, fence[heads], person[heads], t[heads])
    else:
        final = _by_person_entry_fence(person[heads], t[heads], fence[heads])
    members, ep_start = runs_in_order(order, first, last, np.asarray(final, dtype=np.int64))
    return np.asarray(members), np.asarray(ep_start)


def _by_first_hit(
    head: NDArray[np.int64],
    n_hits: int,
    fence: NDArray[np.int64],
    person: NDArray[np.int32],
    entry: NDArray[np.int64],
) -> NDArray[np.int64]:
    """Episodes by person, entry, then fence, for hits that come by person and time.

    ``head`` is each episode's first hit (a row of the hits table), so the
    order of the heads is the order by person and entry: it is read off a mark
    per hit, without a sort. Only episodes that enter at the same instant (two
    pings of one person with the same time) may then need their fences put in
    order.
    """
    m = head.shape[0]
    marked = np.zeros(n_hits, dtype=bool)
    marked[head] = True
    episode_at = np.empty(n_hits, dtype=np.int64)
    episode_at[head] = np.arange(m)
    final = episode_at[np.flatnonzero(marked)]
    p, e, f = person[final], entry[final], fence[final]
    tie = (p[1:] == p[:-1]) & (e[1:] == e[:-1])
    misordered = tie & (f[1:] < f[:-1])
    if misordered.any():
        run = np.cumsum(np.concatenate([[True], ~tie])) - 1
        bad_run = np.zeros(int(run[-1]) + 1, dtype=bool)
        bad_run[run[1:][misordered]] = True
        rows = np.flatnonzero(bad_run[run])
        final[rows] = final[rows][np.lexsort((f[rows], run[rows]))]
    return np.asarray(final, dtype=np.int64)


def _by_person_entry_fence(
    person: NDArray[np.int32], entry: NDArray[np.int64], fence: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The order by person, entry, then fence: one int64 key when it fits, else lexsort."""
    if person.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    n_fences = int(fence.max()) + 1
    when = entry - entry.min()
    n_people = int(person.max()) + 1
    if (int(when.max()) + 1) * n_fences * n_people < 2**62:
        key = (person.astype(np.int64) * (int(when.max()) + 1) + when) * n_fences + fence
        return np.asarray(np.argsort(key, kind="stable"), dtype=np.int64)
    return np.asarray(np.lexsort((fence, entry, person)), dtype=np.int64)


def _dwell_upper_bound(
    pings: PingTable,
    position: NDArray[np.int64],
    credible: NDArray[np.bool_],
    fence: NDArray[np.int64],
    head: NDArray[np.int64],
    tail: NDArray[np.int64],
    has_credible: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """Per episode (entry hit ``head``, exit hit ``tail``), the dwell's upper bound in seconds.

    From the person's last ping before the entry that is not credibly inside the
    episode's fence to their first such ping after the exit; 0 for an episode
    without a credible hit (``has_credible``). ``position`` is each hit's
    position in ``pings``; ``credible`` and ``fence`` are per hit.
    """
    from fencecheck._compiled.episodes import dwell_upper_bounds_by_ping

    if is_person_time_sorted(pings.person, pings.t):
        person, t = pings.person, pings.t
        rank = position  # positions are ranks already
    else:
        order = person_time_order(pings.person, pings.t)
        by_position = np.empty(order.shape[0], dtype=np.int64)
        by_position[order] = np.arange(order.shape[0])
        person, t = pings.person[order], pings.t[order]
        rank = by_position[position]
    entry, exit_, entry_fence = rank[head], rank[tail], fence[head]
    if rank.shape[0] and not bool(np.all(rank[1:] >= rank[:-1])):
        # Hits in ping order (as match gives them) need no sort.
        by_rank = np.argsort(rank, kind="stable")
        rank, fence, credible = rank[by_rank], fence[by_rank], credible[by_rank]
    # Each ping's hits are a run, found by its start, and a ping's credible fences
    # are read off the run.
    hit_start = np.zeros(person.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rank, minlength=person.shape[0]), out=hit_start[1:])
    return np.asarray(
        dwell_upper_bounds_by_ping(
            person, t, hit_start, np.ascontiguousarray(fence, dtype=np.int64),
            np.ascontiguousarray(credible, dtype=np.bool_), entry, exit_, entry_fence,
            np.ascontiguousarray(has_credible, dtype=np.bool_),
        ),
        dtype=np.float64,
    )  # fmt: skip
