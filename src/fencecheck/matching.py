"""Matching pings against an index: every (ping, fence) hit, with its evidence.

:func:`match` takes a :class:`~fencecheck.pings.PingTable` (a whole input or one
chunk of it) and a :class:`~fencecheck.index.FenceIndex`, and returns a
:class:`Hits` table of numpy columns. It works in three visible phases, as
geopandas' ``sjoin`` does: pings to frame metres; a grid derived from the index's R-tree
proposes candidate (ping, window) pairs; exact array kernels (:mod:`fencecheck._kernels`) decide
each pair on the half-open window, the geometry and the mode, and the evidence
(``depth_m``, ``p_inside``) is computed for the hits only. There is no Python
loop per ping or per hit; pings are taken in blocks to bound memory, and
:func:`match_chunks` streams an input of any size.

The rules are DOMAIN.md's, section 3 (see :mod:`fencecheck._kernels`).
``p_inside`` is the Gaussian mass over the fence grown by its margin (a finely
segmented buffer polygon), from :mod:`fencecheck.probability`.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> hits = match(index, pings)
>>> sorted(set(hits.fence_ids().tolist()))
['F-controlled-1', 'F-precaution-1', 'F-sealed-1', 'F-sealed-2', 'F-venue-1']
>>> disc = match(index, pings, mode="disc")
>>> len(disc) > len(hits), sorted(set(disc.relation().tolist()))
(True, ['inside', 'uncertain'])
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck._kernels import check_pairs, in_windows
from fencecheck.errors import MissingDependencyError, OptionError
from fencecheck.options import Boundary, MatchMode
from fencecheck.pings import PersonRegistry, PingTable
from fencecheck.probability import gaussian_mass_pairs, sigma_from_accuracy
from fencecheck.times import OPEN_END

if TYPE_CHECKING:
    from fencecheck.index import FenceIndex

__all__ = ["HIT_COLUMNS", "Hits", "match", "match_chunks", "match_xy"]

HIT_COLUMNS = (
    "ping",
    "person",
    "t",
    "fence",
    "window_start",
    "window_end",
    "inside",
    "depth_m",
    "p_inside",
)
"""The numpy columns of a :class:`Hits` table."""

DEFAULT_BLOCK_PINGS = 200_000
# Beyond 9 sigma inside the grown fence the Gaussian mass outside it is < 1e-18.
_SURE_SIGMAS = 9.0


@dataclass(frozen=True)
class Hits:
    """(ping, fence) hits as columns, in ping order then fence order.

    Attributes
    ----------
    ping : ndarray of int64
        The ping's row number in the input (FORMATS.md).
    person : ndarray of int32
        Person code (``persons`` gives the id).
    t : ndarray of int64
        The ping's instant, UTC milliseconds.
    fence : ndarray of int64
        The fence's position in the index (``fence_ids()`` gives the id).
    window_start, window_end : ndarray of int64
        The window the ping fell in (``OPEN_END`` when open).
    inside : ndarray of bool
        ``relation`` is ``inside`` (the point itself is in the grown fence), else
        ``uncertain`` (only the accuracy disc reaches it).
    depth_m : ndarray of float64
        Signed distance to the fence without its margin, metres, positive inside.
    p_inside : ndarray of float64
        Probability that the person was inside the fence with its margin.
    fence_lookup : ndarray of object
        Fence ids by position.
    persons : PersonRegistry
        Person ids by code.
    mode, boundary : str
        How the hits were found.
    """

    ping: NDArray[np.int64]
    person: NDArray[np.int32]
    t: NDArray[np.int64]
    fence: NDArray[np.int64]
    window_start: NDArray[np.int64]
    window_end: NDArray[np.int64]
    inside: NDArray[np.bool_]
    depth_m: NDArray[np.float64]
    p_inside: NDArray[np.float64]
    fence_lookup: NDArray[np.object_]
    persons: PersonRegistry
    mode: str = MatchMode.POINT.value
    boundary: str = Boundary.COVERS.value

    def __len__(self) -> int:
        return int(self.ping.shape[0])

    def __repr__(self) -> str:
        return (
            f"<Hits: {len(self)} hits of {np.unique(self.person).shape[0]} people on "
            f"{np.unique(self.fence).shape[0]} fences ({self.mode}, {self.boundary})>"
        )

    def fence_ids(self) -> NDArray[np.object_]:
        """Each hit's fence id."""
        ids: NDArray[np.object_] = self.fence_lookup[self.fence]
        return ids

    def person_ids(self) -> NDArray[np.object_]:
        """Each hit's person id."""
        ids: NDArray[np.object_] = self.persons.ids()[self.person]
        return ids

    def relation(self) -> NDArray[np.str_]:
        """``inside`` or ``uncertain`` per hit (FORMATS.md)."""
        return np.where(self.inside, "inside", "uncertain")

    @classmethod
    def concat(cls, parts: Sequence[Hits]) -> Hits:
        """Join the hits of the chunks of one input (same index, same registry)."""
        if not parts:
            raise ValueError("concat needs at least one Hits")
        first = parts[0]
        joined = {name: np.concatenate([getattr(p, name) for p in parts]) for name in HIT_COLUMNS}
        return cls(
            **joined,
            fence_lookup=parts[-1].fence_lookup,
            persons=first.persons,
            mode=first.mode,
            boundary=first.boundary,
        )

    def to_pandas(self) -> Any:
        """The hits as a DataFrame with FORMATS.md's columns (times tz-aware UTC)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("pandas", "pandas", "Hits.to_pandas") from exc
        end = np.where(self.window_end == OPEN_END, np.iinfo(np.int64).min, self.window_end)
        return pd.DataFrame(
            {
                "ping": self.ping,
                "person_id": self.person_ids(),
                "t": pd.to_datetime(self.t, unit="ms", utc=True),
                "fence_id": self.fence_ids(),
                "window_start": pd.to_datetime(self.window_start, unit="ms", utc=True),
                "window_end": pd.to_datetime(end, unit="ms", utc=True, errors="coerce"),
                "relation": self.relation(),
                "depth_m": self.depth_m,
                "p_inside": self.p_inside,
            }
        )


def match(
    index: FenceIndex,
    pings: PingTable,
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: Boundary | str = Boundary.COVERS,
    block_pings: int = DEFAULT_BLOCK_PINGS,
) -> Hits:
    """Every (ping, fence) hit of some pings, with its evidence.

    Parameters
    ----------
    index : FenceIndex
        The fences, in their metric frame.
    pings : PingTable
        A whole input or one chunk of it.
    mode : {"point", "disc"}
        ``point``: the ping is in the fence grown by its margin; ``disc``: its
        accuracy disc reaches it.
    boundary : {"covers", "contains"}
        Whether a ping exactly on the boundary counts.
    block_pings : int
        Pings handled at a time (bounds the memory of candidate pairs).

    Returns
    -------
    Hits
    """
    mode_ = MatchMode.parse(mode)
    boundary_ = Boundary.parse(boundary)
    x, y = index.frame.to_xy(pings.lon, pings.lat)
    pos, window, fence, inside, depth, p_inside = match_xy(
        index,
        x,
        y,
        pings.t,
        pings.accuracy_m,
        mode=mode_,
        boundary=boundary_,
        block_pings=block_pings,
    )
    fences = index.fences
    return Hits(
        ping=pings.row[pos],
        person=pings.person[pos],
        t=pings.t[pos],
        fence=fence.astype(np.int64),
        window_start=fences.window_start[window],
        window_end=fences.window_end[window],
        inside=inside.astype(bool),
        depth_m=depth.astype(np.float64),
        p_inside=p_inside.astype(np.float64),
        fence_lookup=fences.ids,
        persons=pings.persons,
        mode=mode_.value,
        boundary=boundary_.value,
    )


def match_xy(
    index: FenceIndex,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.int64],
    accuracy_m: NDArray[Any],
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: Boundary | str = Boundary.COVERS,
    block_pings: int = DEFAULT_BLOCK_PINGS,
) -> tuple[NDArray[Any], ...]:
    """The matching kernel on pings already in the index's frame (metres).

    Returns parallel arrays, one entry per hit, in ping order then fence order:
    the ping's position in the inputs, the window, the fence, whether the point
    rule holds (``inside``), ``depth_m`` and ``p_inside``. :func:`match` wraps
    it; tests call it with coordinates placed exactly on edges and vertices.
    """
    mode_ = MatchMode.parse(mode)
    if isinstance(block_pings, bool) or not isinstance(block_pings, int) or block_pings < 1:
        raise OptionError(f"block_pings: {block_pings!r} is not a positive whole number")
    disc = mode_ is MatchMode.DISC
    strict = Boundary.parse(boundary) is Boundary.CONTAINS
    fences = index.fences
    x_all = np.asarray(x, dtype=np.float64)
    y_all = np.asarray(y, dtype=np.float64)
    t_all = np.asarray(t, dtype=np.int64)
    acc_all = np.asarray(accuracy_m, dtype=np.float64)
    parts: list[tuple[NDArray[Any], ...]] = []
    for start in range(0, x_all.shape[0], block_pings):
        sl = slice(start, start + block_pings)
        x, y, t, accuracy = x_all[sl], y_all[sl], t_all[sl], acc_all[sl]
        reach = accuracy if disc else np.zeros_like(accuracy)
        box, window = index.point_candidates(x, y, reach)
        fence = fences.window_fence[window]
        timely = index.alive[fence] & in_windows(
            t[box], fences.window_start[window], fences.window_end[window]
        )
        box, window, fence = box[timely], window[timely], fence[timely]
        tests = check_pairs(
            index.geometry[fence],
            fences.buffer_m[fence],
            x[box],
            y[box],
            accuracy[box],
            disc=disc,
            strict=strict,
            boundary=index.boundary[fence],
        )
        hit = tests.hit
        box, window, fence = box[hit], window[hit], fence[hit]
        depth = tests.depth_m[hit]
        p_inside = _p_inside(index, fence, x[box], y[box], accuracy[box], depth)
        order = np.lexsort((fence, box))
        parts.append(
            (
                box[order] + start,
                window[order],
                fence[order],
                tests.inside[hit][order],
                depth[order],
                p_inside[order],
            )
        )
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0)
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _p_inside(
    index: FenceIndex,
    fence: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    depth: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Gaussian mass over each hit's grown fence; 1 where the ping is surely inside."""
    sigma = np.asarray(sigma_from_accuracy(accuracy), dtype=np.float64)
    buffer_m = index.fences.buffer_m[fence]
    # Inside the polygon at depth d, the grown fence's edge is at least d + margin away.
    sure = (depth >= 0) & (depth + buffer_m >= _SURE_SIGMAS * sigma)
    out = np.ones(fence.shape[0], dtype=np.float64)
    todo = np.flatnonzero(~sure)
    if todo.shape[0]:
        used, local = np.unique(fence[todo], return_inverse=True)
        grown = index.grown_geometry(used)
        out[todo] = gaussian_mass_pairs(grown, local.reshape(-1), x[todo], y[todo], sigma[todo])
    return out


def match_chunks(
    index: FenceIndex,
    chunks: Iterable[PingTable],
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: Boundary | str = Boundary.COVERS,
) -> Iterator[Hits]:
    """Match a stream of ping chunks (such as :func:`fencecheck.iter_pings`), one by one."""
    for chunk in chunks:
        yield match(index, chunk, mode=mode, boundary=boundary)
