"""One person's pings over the lookback and their hits: what a map of an explanation shows.

:func:`tracks_of` cuts everyone's pings and hits into one :class:`Track` per
judged person, with one sort for everyone (no pass over all pings per person).
A track keeps WGS-84 positions; :meth:`Track.xy` puts them in the index's
metric frame, where the map is drawn so that an accuracy circle is a circle.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> [p01] = fc.explain(pings, index, person=["P01"])
>>> track = p01.track
>>> len(track) > 0, bool(track.t.max() <= p01.at), bool(track.hit_decisive.any())
(True, True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from fencecheck.pings import person_time_order, ping_positions

if TYPE_CHECKING:
    from fencecheck.index import FenceIndex
    from fencecheck.judging.verdicts import Verdicts
    from fencecheck.pings import PingTable

__all__ = ["Track", "tracks_of"]


@dataclass(frozen=True)
class Track:
    """A person's pings in the lookback, in time order, and the hits among them.

    Attributes
    ----------
    index : FenceIndex
        The fences the pings were matched against (geometry and frame).
    row, t : ndarray of int64
        Each ping's input row and instant (UTC ms), in time order.
    lon, lat : ndarray of float64
        WGS-84 positions.
    accuracy_m : ndarray of float32
        Each fix's stated accuracy.
    source : ndarray of int8
        :class:`~fencecheck.Source` codes.
    hit_ping : ndarray of int64
        For each hit, the position of its ping in these arrays.
    hit_fence : ndarray of int64
        The hit's fence (a position in ``index``).
    hit_credible, hit_jump, hit_decisive : ndarray of bool
        Whether each hit is credible, on a location jump, and in the decisive
        episode.
    """

    index: FenceIndex
    row: NDArray[np.int64]
    t: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    accuracy_m: NDArray[np.float32]
    source: NDArray[np.int8]
    hit_ping: NDArray[np.int64]
    hit_fence: NDArray[np.int64]
    hit_credible: NDArray[np.bool_]
    hit_jump: NDArray[np.bool_]
    hit_decisive: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def xy(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The pings in the index's metric frame (metres)."""
        x, y = self.index.frame.to_xy(self.lon, self.lat)
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def tracks_of(verdicts: Verdicts, pings: PingTable, index: FenceIndex, span_ms: int) -> list[Track]:
    """One :class:`Track` per row of ``verdicts``: the person's pings in ``[at - span, at]``."""
    order = person_time_order(pings.person, pings.t)
    person = pings.person[order]
    hits = verdicts.hits
    hit_position = ping_positions(hits.ping, pings.row)
    hit_order = np.argsort(hits.person, kind="stable")
    hit_person = hits.person[hit_order]
    # Where each ping sits in the sorted order, to find a hit's ping in its track.
    rank = np.empty(order.shape[0], dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    decisive_of_person = verdicts.decisive
    out = []
    for k in range(len(verdicts)):
        code = int(verdicts.person[k])
        at = int(verdicts.at[k])
        lo, hi = np.searchsorted(person, [code, code + 1])
        mine = order[lo:hi]
        times = pings.t[mine]
        keep = (times <= at) & (times >= at - span_ms)
        mine = mine[keep]
        first = lo + int(np.argmax(keep)) if keep.any() else lo
        hlo, hhi = np.searchsorted(hit_person, [code, code + 1])
        h = hit_order[hlo:hhi]
        # Positions within the kept pings: the kept pings are a run of the sorted ones.
        where = rank[hit_position[h]] - first
        d = int(decisive_of_person[k])
        out.append(
            Track(
                index=index,
                row=pings.row[mine],
                t=pings.t[mine],
                lon=pings.lon[mine],
                lat=pings.lat[mine],
                accuracy_m=pings.accuracy_m[mine],
                source=pings.source[mine],
                hit_ping=where.astype(np.int64),
                hit_fence=hits.fence[h],
                hit_credible=verdicts.credible[h],
                hit_jump=verdicts.jump[h],
                hit_decisive=(verdicts.episodes.of_hit[h] == d)
                if d >= 0
                else np.zeros(h.shape[0], dtype=bool),
            )
        )
    return out
