"""Compiled (numba) kernels of judging: episodes, their statistics and dwell bounds, coverage.

Each is one pass over columns a vectorized version would have sorted, copied or
scanned a dozen times; each gives the same values, bit for bit, as the
operations it replaces (the same arithmetic in the same order).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "best_flagged",
    "best_per_group",
    "by_first_hit",
    "coverage_pass",
    "dwell_upper_bounds_by_ping",
    "episode_bounds",
    "episode_statistics",
    "median_by_group",
    "runs_in_order",
    "stream_episodes",
]


@njit(nogil=True, cache=True, error_model="numpy")
def median_by_group(group: Any, values: Any, n: int) -> Any:
    """The median of ``values`` per group ``0..n-1`` (NaN for an empty group).

    A counting sort by group, then each group's values sorted on their own.
    """
    counts = np.zeros(n + 1, dtype=np.int64)
    for g in group:
        counts[g + 1] += 1
    starts = np.cumsum(counts)
    fill = starts[:-1].copy()
    ordered = np.empty(values.shape[0], dtype=np.float64)
    for i in range(group.shape[0]):
        ordered[fill[group[i]]] = values[i]
        fill[group[i]] += 1
    out = np.full(n, np.nan)
    for g in range(n):
        lo = starts[g]
        k = starts[g + 1] - lo
        if k:
            chunk = np.sort(ordered[lo : lo + k])
            out[g] = (chunk[(k - 1) // 2] + chunk[k // 2]) / 2.0
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def best_per_group(
    group: Any, eligible: Any, dwell: Any, p: Any, entry: Any, fence: Any, n_groups: int
) -> Any:
    """Per group, the best eligible row; -1 for a group without one.

    Best is the longest dwell, then the highest ``p`` (NaN lowest), then the
    earliest entry, then the lowest fence, then the first row: the first row
    of a stable sort by those keys, found in one pass.
    """
    best = np.full(n_groups, -1, dtype=np.int64)
    for e in range(group.shape[0]):
        if not eligible[e]:
            continue
        g = group[e]
        b = best[g]
        if b < 0:
            best[g] = e
            continue
        if dwell[e] != dwell[b]:
            if dwell[e] > dwell[b]:
                best[g] = e
            continue
        pe = p[e] if p[e] == p[e] else -np.inf
        pb = p[b] if p[b] == p[b] else -np.inf
        if pe != pb:
            if pe > pb:
                best[g] = e
            continue
        if entry[e] != entry[b]:
            if entry[e] < entry[b]:
                best[g] = e
            continue
        if fence[e] < fence[b]:
            best[g] = e
    return best


@njit(nogil=True, cache=True, error_model="numpy")
def coverage_pass(
    person: Any, t: Any, slot: Any, at: Any, span_ms: int, hour_ms: int, n: int
) -> Any:
    """Per person slot: pings in the lookback, clock hours with one, and the longest gap.

    ``person`` and ``t`` are sorted by person, then time; ``slot[person]`` is the
    person's slot (-1 to leave them out) and ``at[slot]`` their judging time, the
    lookback being ``[at - span_ms, at]``. A gap runs from the lookback's start or
    the previous ping in it to a ping, or from the last ping (the start, without
    one) to ``at``; the longest wins, ties going to the earliest start. Returns
    the counts, the hours, and the longest gap's start and end.
    """
    count = np.zeros(n, dtype=np.int64)
    hours = np.zeros(n, dtype=np.int64)
    last_t = np.zeros(n, dtype=np.int64)
    last_hour = np.zeros(n, dtype=np.int64)
    gap_start = np.zeros(n, dtype=np.int64)
    gap_end = np.zeros(n, dtype=np.int64)
    for i in range(person.shape[0]):
        r = slot[person[i]]
        if r < 0:
            continue
        ti = t[i]
        end = at[r]
        if ti > end or ti < end - span_ms:
            continue
        hour = ti // hour_ms
        if count[r] == 0:
            start = end - span_ms
            hours[r] = 1
            gap_start[r] = start
            gap_end[r] = ti
        else:
            start = last_t[r]
            if hour != last_hour[r]:
                hours[r] += 1
            length = ti - start
            best = gap_end[r] - gap_start[r]
            if length > best or (length == best and start < gap_start[r]):
                gap_start[r] = start
                gap_end[r] = ti
        count[r] += 1
        last_t[r] = ti
        last_hour[r] = hour
    for r in range(n):
        end = at[r]
        start = last_t[r] if count[r] > 0 else end - span_ms
        length = end - start
        if count[r] == 0:
            gap_start[r] = start
            gap_end[r] = end
            continue
        best = gap_end[r] - gap_start[r]
        if length > best or (length == best and start < gap_start[r]):
            gap_start[r] = start
            gap_end[r] = end
    return count, hours, gap_start, gap_end


@njit(nogil=True, cache=True, error_model="numpy")
def stream_episodes(
    person: Any, fence: Any, start: Any, t: Any, gap_ms: float, n_fences: int
) -> Any:
    """Episodes of hits that come by person and time, in one pass and without a sort.

    Walking each person's hits in time order, a hit joins the episode its fence
    has open (same window, at most ``gap_ms`` after that fence's previous hit)
    or opens a new one; episodes are numbered as they open, which is the order
    by person and entry (first hit). Two episodes of one person opening at one
    instant are then put in fence order (stably). Each episode's hits are
    listed in time order: ``members[ep_start[q]:ep_start[q + 1]]``, rows of the
    hits table. The same episodes as grouping the hits sorted by person, fence,
    window and time, as long as a fence's windows come in order within each
    person (the third value; else the caller sorts).
    """
    n = person.shape[0]
    current = np.full(n_fences, -1, dtype=np.int64)  # the episode a fence has open
    current_start = np.zeros(n_fences, dtype=np.int64)
    current_t = np.zeros(n_fences, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)  # the fences the person has opened
    n_touched = 0
    episode = np.empty(n, dtype=np.int64)
    head = np.empty(n, dtype=np.int64)
    m = 0
    ok = True
    for i in range(n):
        if i > 0 and person[i] != person[i - 1]:
            for j in range(n_touched):
                current[touched[j]] = -1
            n_touched = 0
        f = fence[i]
        e = current[f]
        if e >= 0 and current_start[f] == start[i] and not t[i] - current_t[f] > gap_ms:
            episode[i] = e
        else:
            if e < 0:
                touched[n_touched] = f
                n_touched += 1
            elif start[i] < current_start[f]:
                ok = False
            e = m
            m += 1
            head[e] = i
            current[f] = e
            current_start[f] = start[i]
            episode[i] = e
        current_t[f] = t[i]
    # Episodes of one person opening at one instant: fences in order (a stable sort
    # of each such run, which is almost always sorted already).
    rank = np.arange(m)  # rank[q]: the episode in place q
    q = 1
    while q < m:
        a = head[rank[q - 1]]
        b = head[rank[q]]
        if person[a] == person[b] and t[a] == t[b] and fence[b] < fence[a]:
            lo = q - 1
            while lo > 0:
                c = head[rank[lo - 1]]
                if person[c] == person[a] and t[c] == t[a]:
                    lo -= 1
                else:
                    break
            hi = q + 1
            while hi < m:
                c = head[rank[hi]]
                if person[c] == person[a] and t[c] == t[a]:
                    hi += 1
                else:
                    break
            for r in range(lo + 1, hi):  # insertion sort by fence: stable
                x = rank[r]
                s = r - 1
                while s >= lo and fence[head[rank[s]]] > fence[head[x]]:
                    rank[s + 1] = rank[s]
                    s -= 1
                rank[s + 1] = x
            q = hi
        else:
            q += 1
    place = np.empty(m, dtype=np.int64)
    for r in range(m):
        place[rank[r]] = r
    ep_start = np.zeros(m + 1, dtype=np.int64)
    for i in range(n):
        ep_start[place[episode[i]] + 1] += 1
    for r in range(m):
        ep_start[r + 1] += ep_start[r]
    fill = ep_start[:m].copy()
    members = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = place[episode[i]]
        members[fill[r]] = i
        fill[r] += 1
    return members, ep_start, ok


@njit(nogil=True, cache=True, error_model="numpy")
def runs_in_order(order: Any, first: Any, last: Any, final: Any) -> Any:
    """The hits of episodes ``final`` (runs ``order[first[e]:last[e] + 1]``), end to end."""
    m = final.shape[0]
    ep_start = np.zeros(m + 1, dtype=np.int64)
    for q in range(m):
        e = final[q]
        ep_start[q + 1] = ep_start[q] + last[e] - first[e] + 1
    members = np.empty(ep_start[m], dtype=np.int64)
    for q in range(m):
        e = final[q]
        for i in range(first[e], last[e] + 1):
            members[ep_start[q] + i - first[e]] = order[i]
    return members, ep_start


@njit(nogil=True, cache=True, error_model="numpy")
def episode_bounds(order: Any, person: Any, fence: Any, start: Any, t: Any, gap_ms: float) -> Any:
    """First and last positions (in ``order``) of each episode of the sorted hits.

    A new episode begins at a new person, fence or window, or after more than
    ``gap_ms`` without a hit.
    """
    n = order.shape[0]
    first = np.empty(n, dtype=np.int64)
    last = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        k = order[i]
        if i > 0:
            j = order[i - 1]
            if (
                person[k] == person[j]
                and fence[k] == fence[j]
                and start[k] == start[j]
                and not t[k] - t[j] > gap_ms
            ):
                continue
            last[m - 1] = i - 1
        first[m] = i
        m += 1
    if m:
        last[m - 1] = n - 1
    return first[:m].copy(), last[:m].copy()


@njit(nogil=True, cache=True, error_model="numpy")
def by_first_hit(order: Any, first: Any, person: Any, fence: Any, t: Any) -> Any:
    """Episodes in the order of their first hit in the hits table, and if a tie needs fences.

    For hits that come by person and time this is the order by person and
    entry; it is also by fence unless two episodes of a person begin at one
    instant with their fences out of order (the second value says so).
    """
    n = order.shape[0]
    m = first.shape[0]
    episode_at = np.full(n, -1, dtype=np.int64)
    for e in range(m):
        episode_at[order[first[e]]] = e
    final = np.empty(m, dtype=np.int64)
    q = 0
    for k in range(n):
        if episode_at[k] >= 0:
            final[q] = episode_at[k]
            q += 1
    misordered = False
    for q in range(1, m):
        a = order[first[final[q - 1]]]
        b = order[first[final[q]]]
        if person[a] == person[b] and t[a] == t[b] and fence[b] < fence[a]:
            misordered = True
            break
    return final, misordered


@njit(nogil=True, cache=True, error_model="numpy")
def episode_statistics(
    members: Any,
    ep_start: Any,
    t: Any,
    depth: Any,
    p: Any,
    inside: Any,
    credible: Any,
    x: Any,
    y: Any,
    accuracy: Any,
    position: Any,
    radius_m: float,
    min_ms: float,
) -> Any:
    """Every per-episode figure of :func:`fencecheck.judging.episodes.find_episodes`, in one pass.

    Episode ``q`` is the hits ``members[ep_start[q]:ep_start[q + 1]]`` (rows of the
    hits table, in time order). Per hit: ``t``, ``depth``, ``p``, ``inside``,
    ``credible`` (by hit) and its ping's ``position`` in ``x``, ``y`` and
    ``accuracy`` (by ping). Returns, per output episode: the entry, exit and
    deepest hits (rows of the hits table), the first hit's time, the dwell, the
    hit, credible-hit and inside counts, the best and median ``p``, the net
    speed, whether it stopped and whether it holds a credible hit; and each
    hit's output episode. Each figure is computed as the vectorized code did
    (the same operations in the same order), so the values are the same bits.
    """
    m = ep_start.shape[0] - 1
    n = members.shape[0]
    order = members
    head = np.empty(m, dtype=np.int64)
    tail = np.empty(m, dtype=np.int64)
    deep = np.empty(m, dtype=np.int64)
    first_hit = np.empty(m, dtype=np.int64)
    dwell = np.empty(m, dtype=np.float64)
    count = np.empty(m, dtype=np.int64)
    n_credible = np.empty(m, dtype=np.int64)
    inside_count = np.empty(m, dtype=np.int64)
    p_best = np.empty(m, dtype=np.float64)
    p_median = np.empty(m, dtype=np.float64)
    speed = np.empty(m, dtype=np.float64)
    stopped = np.zeros(m, dtype=np.bool_)
    has_credible = np.empty(m, dtype=np.bool_)
    of_hit = np.empty(n, dtype=np.int64)
    scratch = np.empty(n, dtype=np.float64)
    for q in range(m):
        lo = ep_start[q]
        hi = ep_start[q + 1]
        best_row = lo
        top = -np.inf
        unknown = False
        inner = 0
        c_first = -1
        c_last = -1
        c_count = 0
        for i in range(lo, hi):
            k = order[i]
            of_hit[k] = q
            if depth[k] > depth[order[best_row]]:
                best_row = i
            pk = p[k]
            if pk > top:
                top = pk
            elif not pk <= top:
                unknown = True  # a NaN: a value not computed
            if inside[k]:
                inner += 1
            if credible[k]:
                if c_first < 0:
                    c_first = i
                c_last = i
                c_count += 1
        k_first = order[lo]
        k_last = order[hi - 1]
        size = hi - lo
        if c_count > 0:
            entry = order[c_first]
            exit_ = order[c_last]
            dwell[q] = (t[exit_] - t[entry]) / 1000.0
        else:
            entry = k_first
            exit_ = k_last
            dwell[q] = 0.0
        head[q] = entry
        tail[q] = exit_
        deep[q] = order[best_row]
        first_hit[q] = t[k_first]
        count[q] = size
        n_credible[q] = c_count
        has_credible[q] = c_count > 0
        inside_count[q] = inner
        p_best[q] = top if top > -np.inf else np.nan
        if unknown:
            p_median[q] = np.nan
        elif size == 1:
            p_median[q] = p[k_first]
        else:
            for i in range(lo, hi):
                scratch[i - lo] = p[order[i]]
            ordered = np.sort(scratch[:size])
            p_median[q] = (ordered[(size - 1) // 2] + ordered[size // 2]) / 2.0
        # Net speed, first hit to last, shortened by both fixes' accuracies.
        span = (t[k_last] - t[k_first]) / 1000.0
        a = position[k_first]
        b = position[k_last]
        net = np.hypot(x[b] - x[a], y[b] - y[a]) - accuracy[a] - accuracy[b]
        # np.maximum(net, 0.0): net itself when it is at least 0 or NaN
        speed[q] = (net if net >= 0.0 or net != net else 0.0) / span if span > 0 else np.nan
        # The stay detector, over the usable fixes (accuracy within the radius).
        for i in range(lo, hi):
            pi = position[order[i]]
            if not accuracy[pi] <= radius_m:
                continue
            t_last = t[order[i]]
            for j in range(i + 1, hi):
                pj = position[order[j]]
                if not accuracy[pj] <= radius_m:
                    continue
                if math.hypot(x[pj] - x[pi], y[pj] - y[pi]) > radius_m:
                    break
                t_last = t[order[j]]
            if t_last - t[order[i]] >= min_ms:
                stopped[q] = True
                break
    return (
        head,
        tail,
        deep,
        first_hit,
        dwell,
        count,
        n_credible,
        inside_count,
        p_best,
        p_median,
        speed,
        stopped,
        has_credible,
        of_hit,
    )


@njit(nogil=True, cache=True, error_model="numpy")
def dwell_upper_bounds_by_ping(
    person: Any,
    t: Any,
    hit_start: Any,
    hit_fence: Any,
    hit_credible: Any,
    entry: Any,
    exit_: Any,
    fence: Any,
    open_: Any,
) -> Any:
    """Seconds from the last ping before ``entry`` to the first after ``exit_`` not credibly inside.

    ``person`` and ``t`` are the pings sorted by person, then time; the hits of
    ping ``r`` are ``hit_start[r]:hit_start[r + 1]`` (``hit_fence`` and
    ``hit_credible`` per hit). ``entry`` and ``exit_`` are positions in the
    pings (an episode's first and last credible ping) and ``fence`` the
    episode's fence; the bound steps over pings with a credible hit on that
    fence and stops at the first ping without one. NaN when the person has no
    such ping before or after; 0 for episodes where ``open_`` is false.
    """
    n = person.shape[0]
    out = np.zeros(entry.shape[0], dtype=np.float64)
    for e in range(entry.shape[0]):
        if not open_[e]:
            continue
        who = person[entry[e]]
        f = fence[e]
        before = entry[e] - 1
        while before >= 0 and person[before] == who:
            inside = False
            for h in range(hit_start[before], hit_start[before + 1]):
                if hit_fence[h] == f and hit_credible[h]:
                    inside = True
                    break
            if not inside:
                break
            before -= 1
        after = exit_[e] + 1
        while after < n and person[after] == who:
            inside = False
            for h in range(hit_start[after], hit_start[after + 1]):
                if hit_fence[h] == f and hit_credible[h]:
                    inside = True
                    break
            if not inside:
                break
            after += 1
        if before >= 0 and after < n and person[before] == who and person[after] == who:
            out[e] = (t[after] - t[before]) / 1000.0
        else:
            out[e] = np.nan
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def best_flagged(row: Any, flags: Any, value: Any, n: int) -> Any:
    """Per row ``0..n-1``, the flagged entry with the largest value (-1 for none).

    Values rank as ``np.nan_to_num(value, nan=-inf)`` does (NaN lowest, then
    -inf, +inf as the largest finite number); ties go to the first entry.
    """
    big = np.finfo(np.float64).max
    best = np.full(n, -1, dtype=np.int64)
    top = np.empty(n, dtype=np.float64)
    for k in range(row.shape[0]):
        if not flags[k]:
            continue
        v = value[k]
        if v != v:
            v = -np.inf
        elif v == np.inf:
            v = big
        elif v == -np.inf:
            v = -big
        r = row[k]
        if best[r] < 0 or v > top[r]:
            best[r] = k
            top[r] = v
    return best
