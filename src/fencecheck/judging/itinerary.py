"""A resident's reported places checked against the fences and against their own pings.

Each reported place is checked like a stay: a disc of its ``radius_m`` around
the pin over its interval (clipped to the lookback). It meets a fence when the
disc reaches the fence with its margin while one of the fence's windows is
active; the time there is the overlap of the interval with the windows, and
``p_inside`` is the share of the disc's area inside the fence with its margin
(the pin is equally likely anywhere in its disc; the disc is a 128-gon, which
understates its area by 0.04 %). A finding is credible at ``p_inside`` ≥
``Policy.credible_p``; a credible one of at least ``min_dwell_s`` makes the
person ``exposed``, a shorter one ``passed_through``, with
``"source": "itinerary"``.

The places are also set against the pings, both ways:

- a place the pings never come near: there are fixes in its interval, and none
  whose accuracy disc reaches the place's disc (``pings_agree`` false, with the
  nearest fix's distance);
- an episode the itinerary leaves out: a credible episode in a fence that no
  reported place accounts for (none meets that fence within 15 minutes of the
  episode).

Examples
--------
>>> import fencecheck as fc
>>> from fencecheck.io.itinerary import read_itinerary
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> places = read_itinerary([{"person_id": "P01", "place": "朋友家",
...     "lon": 116.32298, "lat": 40.06498, "start": "2022-05-03 10:00",
...     "end": "2022-05-03 12:00", "radius_m": 50}], datum="wgs84")
>>> [found] = check_itinerary(places, index, ["P01"], [14 * 86_400], [1_651_700_000_000])
>>> [(f["fence_id"], f["dwell_s"], f["credible"]) for f in found.places[0]["fences"]]
[('F-sealed-2', 7200.0, True)]
>>> found.verdict, found.decisive["source"], found.decisive["place"]
('exposed', 'itinerary', '朋友家')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from fencecheck.policy import Policy
from fencecheck.times import format_utc, parse_time

if TYPE_CHECKING:
    from fencecheck.index import FenceIndex
    from fencecheck.itinerary import Itinerary
    from fencecheck.pings import PingTable

__all__ = ["ItineraryFindings", "check_itinerary"]

_DISC_QUAD_SEGMENTS = 32
"""Quarter-circle segments of a place's disc (a 128-gon)."""

_ACCOUNTS_SLACK_MS = 15 * 60_000
"""A place accounts for an episode in its fence within this much of its interval."""


@dataclass
class ItineraryFindings:
    """One person's reported places and what they say.

    Attributes
    ----------
    places : list of dict
        Each place with its findings (docs/contract.md, ``itinerary``).
    unreported : list of dict
        Credible episodes in a fence that no reported place accounts for.
    verdict : str or None
        ``exposed`` or ``passed_through`` when a credible finding says so.
    decisive : dict or None
        That finding, shaped like an episode, with ``"source": "itinerary"``.
    """

    places: list[dict[str, Any]] = field(default_factory=list)
    unreported: list[dict[str, Any]] = field(default_factory=list)
    verdict: str | None = None
    decisive: dict[str, Any] | None = None


def check_itinerary(
    itinerary: Itinerary,
    index: FenceIndex,
    person_ids: Sequence[str],
    lookback_s: Sequence[float],
    at: Sequence[int],
    *,
    pings: PingTable | None = None,
    episodes: Sequence[Sequence[dict[str, Any]]] | None = None,
    policy: Policy | None = None,
) -> list[ItineraryFindings]:
    """Check each person's reported places.

    Parameters
    ----------
    itinerary : Itinerary
        Everyone's reported places.
    index : FenceIndex
        The fences.
    person_ids, lookback_s, at : sequence
        The judged people, their lookbacks (seconds) and judging times (UTC ms).
    pings : PingTable, optional
        Their pings, to set the places against (``pings``, ``nearest_m``,
        ``pings_agree``).
    episodes : sequence of list of dict, optional
        Each person's episodes (as in a report), for ``unreported``.
    policy : Policy, optional
        ``credible_p`` and ``min_dwell_s``.
    """
    policy = Policy() if policy is None else policy
    geometry = index.geometry
    boxes = shapely.bounds(geometry) if len(geometry) else np.zeros((0, 4))
    out = []
    for k, pid in enumerate(person_ids):
        span_ms = int(float(lookback_s[k]) * 1000)
        when = int(at[k])
        found = ItineraryFindings()
        mine = itinerary.of(pid)
        person_pings = _person_pings(pings, pid)
        for q in mine:
            found.places.append(
                _place(itinerary, int(q), index, boxes, when - span_ms, when, person_pings, policy)
            )
        if mine.size:
            found.unreported = _unreported(found.places, episodes[k] if episodes else [])
        found.verdict, found.decisive = _most_serious(found.places, policy)
        out.append(found)
    return out


def _person_pings(pings: PingTable | None, pid: str) -> dict[str, np.ndarray] | None:
    if pings is None:
        return None
    try:
        code = pings.persons.code(pid)
    except (KeyError, ValueError):
        return {
            "t": np.zeros(0, np.int64),
            "lon": np.zeros(0),
            "lat": np.zeros(0),
            "acc": np.zeros(0),
        }
    mine = np.flatnonzero(pings.person == code)
    return {
        "t": pings.t[mine],
        "lon": pings.lon[mine],
        "lat": pings.lat[mine],
        "acc": pings.accuracy_m[mine].astype(np.float64),
    }


def _place(
    it: Itinerary,
    q: int,
    index: FenceIndex,
    boxes: np.ndarray,
    lo: int,
    hi: int,
    person_pings: dict[str, np.ndarray] | None,
    policy: Policy,
) -> dict[str, Any]:
    radius = float(it.radius_m[q])
    start, end = max(int(it.start[q]), lo), min(int(it.end[q]), hi)
    x, y = index.frame.to_xy(float(it.lon[q]), float(it.lat[q]))
    place: dict[str, Any] = {
        "row": int(it.row[q]),
        "place": str(it.place[q]),
        "lon": float(it.given_lon[q]),
        "lat": float(it.given_lat[q]),
        "datum": it.datum,
        "start": format_utc(int(it.start[q])),
        "end": format_utc(int(it.end[q])),
        "radius_m": radius,
        "in_lookback": start < end,
        "fences": [],
        "pings": 0,
        "nearest_m": None,
        "pings_agree": None,
    }
    if start >= end:
        return place
    place["fences"] = _fences_met(index, boxes, x, y, radius, start, end, policy)
    if person_pings is not None:
        during = (person_pings["t"] >= start) & (person_pings["t"] <= end)
        if during.any():
            px, py = index.frame.to_xy(person_pings["lon"][during], person_pings["lat"][during])
            d = np.hypot(np.asarray(px) - x, np.asarray(py) - y)
            place["pings"] = int(during.sum())
            place["nearest_m"] = round(float(d.min()), 0)
            place["pings_agree"] = bool((d <= radius + person_pings["acc"][during]).any())
    return place


def _fences_met(
    index: FenceIndex,
    boxes: np.ndarray,
    x: float,
    y: float,
    radius: float,
    start: int,
    end: int,
    policy: Policy,
) -> list[dict[str, Any]]:
    fences = index.fences
    if not len(fences):
        return []
    reach = fences.buffer_m + radius
    near_box = (
        index.alive
        & (boxes[:, 0] - reach <= x)
        & (boxes[:, 2] + reach >= x)
        & (boxes[:, 1] - reach <= y)
        & (boxes[:, 3] + reach >= y)
    )
    candidates = np.flatnonzero(near_box)
    if not candidates.size:
        return []
    pin = shapely.Point(x, y)
    distance = shapely.distance(index.geometry[candidates], pin)
    reached = candidates[distance <= reach[candidates]]
    found: list[dict[str, Any]] = []
    disc = pin.buffer(radius, quad_segs=_DISC_QUAD_SEGMENTS)
    for f in reached:
        on = fences.window_fence == f
        ws, we = fences.window_start[on], fences.window_end[on]
        overlap = np.minimum(we, end) - np.maximum(ws, start)
        live = overlap > 0
        if not live.any():
            continue
        grown = index.grown_geometry(np.array([f], dtype=np.int64))[0]
        p = float(shapely.area(shapely.intersection(disc, grown)) / shapely.area(disc))
        inside = bool(shapely.covers(index.geometry[f], pin))
        d = float(shapely.distance(index.geometry[f], pin))
        depth = float(shapely.distance(index.geometry[f].boundary, pin)) if inside else -d
        found.append(
            {
                "fence_id": str(fences.ids[f]),
                "name": _name(fences.names[f]),
                "kind": str(fences.kinds[f]),
                "entry": format_utc(int(max(start, ws[live].min()))),
                "exit": format_utc(int(min(end, we[live].max()))),
                "dwell_s": float(overlap[live].sum()) / 1000.0,
                "distance_m": round(max(0.0, d - float(fences.buffer_m[f])), 1),
                "depth_m": round(depth, 1),
                "p_inside": round(min(max(p, 0.0), 1.0), 6),
                "credible": p >= policy.credible_p,
            }
        )
    found.sort(
        key=lambda item: (not item["credible"], -float(item["dwell_s"]), -float(item["p_inside"]))
    )
    return found


def _unreported(
    places: list[dict[str, Any]], episodes: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Credible episodes that no place meets in their fence near their time."""
    out = []
    for ep in episodes:
        if ep.get("credible_pings", 0) == 0:
            continue
        entry, leave = parse_time(ep["entry"]), parse_time(ep["exit"])
        accounted = any(
            met["fence_id"] == ep["fence_id"]
            and parse_time(place["start"]) - _ACCOUNTS_SLACK_MS <= leave
            and parse_time(place["end"]) + _ACCOUNTS_SLACK_MS >= entry
            for place in places
            for met in place["fences"]
        )
        if not accounted:
            out.append(
                {
                    "fence_id": ep["fence_id"],
                    "name": ep.get("name"),
                    "kind": ep.get("kind"),
                    "entry": ep["entry"],
                    "exit": ep["exit"],
                    "pings": ep.get("credible_pings", ep.get("pings", 0)),
                }
            )
    return out


def _most_serious(
    places: list[dict[str, Any]], policy: Policy
) -> tuple[str | None, dict[str, Any] | None]:
    best: tuple[int, float] | None = None
    decisive = None
    for place in places:
        for met in place["fences"]:
            if not met["credible"]:
                continue
            rank = (2 if met["dwell_s"] >= policy.min_dwell_s else 1, met["dwell_s"])
            if best is None or rank > best:
                best = rank
                decisive = {
                    "fence_id": met["fence_id"],
                    "name": met["name"],
                    "kind": met["kind"],
                    "entry": met["entry"],
                    "exit": met["exit"],
                    "first_hit": met["entry"],
                    "dwell_s": met["dwell_s"],
                    "dwell_s_max": met["dwell_s"],
                    "pings": 0,
                    "credible_pings": 0,
                    "max_depth_m": met["depth_m"],
                    "p_inside": met["p_inside"],
                    "source": "itinerary",
                    "place": place["place"],
                    "row": place["row"],
                    "radius_m": place["radius_m"],
                }
    if best is None:
        return None, None
    return ("exposed" if best[0] == 2 else "passed_through"), decisive


def _name(value: object) -> str | None:
    return None if value is None or value != value or value == "" else str(value)
