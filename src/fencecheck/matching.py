"""Matching pings against an index: every (ping, fence) hit, with its evidence.

:func:`match` takes a :class:`~fencecheck.pings.PingTable` (a whole input or one
chunk of it) and a :class:`~fencecheck.FenceIndex` (any
:class:`~fencecheck.shapes.FenceShapes`), and returns a
:class:`~fencecheck.hits.Hits` table of numpy columns. Pings go to frame metres; then a compiled
kernel (:mod:`fencecheck._compiled.match`, numba, on several threads) looks each
ping up in a grid derived from the index's R-tree, keeps the windows that hold
its time and decides each (ping, fence) pair exactly: a point location certified
by a floating-point error bound and GEOS's own distance formula, so that every
answer is GEOS's, and the rare pair it cannot certify (a ping on a boundary, or
within 1e-9 m of a margin) is decided by shapely itself
(:func:`fencecheck._compiled.rules.check_pairs`). ``p_inside`` is then computed for the
hits only (:mod:`fencecheck._compiled.mass`). There is no Python loop per ping or
per hit; pings are taken in blocks to bound memory, and :func:`match_chunks`
streams an input of any size.

The rules are docs/domain.md's, section 3 (see :mod:`fencecheck._compiled.rules`).
``p_inside`` is the Gaussian mass over the fence grown by its margin (a finely
segmented buffer polygon), within 1e-6 of the exact formula of
:mod:`fencecheck.probability`.

The kernels are compiled on first use (a few seconds, once) and cached beside
the package or in the user's cache directory.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> hits = match(pings, index)
>>> sorted(set(hits.fence_ids().tolist()))
['F-controlled-1', 'F-precaution-1', 'F-sealed-1', 'F-sealed-2', 'F-venue-1']
>>> disc = match(pings, index, mode="disc")
>>> len(disc) > len(hits), sorted(set(disc.relation().tolist()))
(True, ['inside', 'uncertain'])
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fencecheck._compiled.rules import check_pairs
from fencecheck.errors import OptionError
from fencecheck.fences import FenceSet
from fencecheck.hits import Hits
from fencecheck.inputs import as_pings, as_shapes
from fencecheck.options import Boundary, Evidence, MatchMode, thread_count
from fencecheck.pings import PingTable
from fencecheck.probability import gaussian_mass_pairs, sigma_from_accuracy
from fencecheck.shapes import FenceShapes

__all__ = ["match", "match_chunks", "match_xy", "p_inside_bound", "p_inside_of"]

DEFAULT_BLOCK_PINGS = 200_000


def match(
    pings: PingTable | str | os.PathLike[str] | Any,
    index: FenceShapes | FenceSet,
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: Boundary | str = Boundary.COVERS,
    block_pings: int = DEFAULT_BLOCK_PINGS,
    threads: int | None = None,
    xy: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
    evidence: Evidence | str | bool = Evidence.FULL,
) -> Hits:
    """Every (ping, fence) hit of some pings, with its evidence.

    Parameters
    ----------
    pings : PingTable, path or DataFrame
        A whole input or one chunk of it (a path or a pandas DataFrame is read
        with :func:`fencecheck.read_pings`'s defaults).
    index : FenceIndex or FenceSet
        The fences, in their metric frame (any :class:`~fencecheck.shapes.FenceShapes`;
        a fence set is put in its own frame, as :meth:`FenceIndex.build` does).
    mode : {"point", "disc"}
        ``point``: the ping is in the fence grown by its margin; ``disc``: its
        accuracy disc reaches it.
    boundary : {"covers", "contains"}
        Whether a ping exactly on the boundary counts.
    block_pings : int
        Pings handled at a time (bounds the memory of candidate pairs).
    threads : int, optional
        Threads for the compiled kernels (default: the CPUs this process may use).
    xy : (ndarray, ndarray), optional
        The pings already in the index's frame (``index.frame.to_xy``), when the
        caller has them.
    evidence : {"full", "depth", "hits"}
        ``full`` (or True): ``depth_m`` and ``p_inside``. ``depth`` (or False):
        ``p_inside`` is NaN, for a caller that computes it only where it needs
        it, with :func:`p_inside_of`. ``hits``: the pairs with their window and
        ``relation`` alone (``depth_m`` and ``p_inside`` NaN), what a spatial
        join returns; in point mode read from the index's classified raster
        (:attr:`FenceShapes.raster`), many times faster, with the same pairs.

    Returns
    -------
    Hits

    Notes
    -----
    The order ``match(index, pings)`` of fencecheck 0.x still works for one release,
    with a :class:`DeprecationWarning`.
    """
    pings, index = _pings_then_index(pings, index, "match")
    pings = as_pings(pings, purpose="match")
    index = as_shapes(index, purpose="match")
    mode_ = MatchMode.parse(mode)
    boundary_ = Boundary.parse(boundary)
    x, y = index.frame.to_xy(pings.lon, pings.lat) if xy is None else xy
    pos, window, fence, inside, depth, p_inside = match_xy(
        index,
        x,
        y,
        pings.t,
        pings.accuracy_m,
        mode=mode_,
        boundary=boundary_,
        block_pings=block_pings,
        threads=threads,
        evidence=evidence,
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
    index: FenceShapes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.int64],
    accuracy_m: NDArray[Any],
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: Boundary | str = Boundary.COVERS,
    block_pings: int = DEFAULT_BLOCK_PINGS,
    threads: int | None = None,
    evidence: Evidence | str | bool = Evidence.FULL,
) -> tuple[NDArray[Any], ...]:
    """The matching kernel on pings already in the index's frame (metres).

    Returns parallel arrays, one entry per hit, in ping order then fence order:
    the ping's position in the inputs, the window, the fence, whether the point
    rule holds (``inside``), ``depth_m`` and ``p_inside``. :func:`match` wraps
    it; tests call it with coordinates placed exactly on edges and vertices.
    """
    mode_ = MatchMode.parse(mode)
    evidence_ = Evidence.parse(evidence)
    if isinstance(block_pings, bool) or not isinstance(block_pings, int) or block_pings < 1:
        raise OptionError(f"block_pings: {block_pings!r} is not a positive whole number")
    n_threads = thread_count(threads)
    disc = mode_ is MatchMode.DISC
    strict = Boundary.parse(boundary) is Boundary.CONTAINS
    x_all = np.ascontiguousarray(x, dtype=np.float64)
    y_all = np.ascontiguousarray(y, dtype=np.float64)
    t_all = np.ascontiguousarray(t, dtype=np.int64)
    acc_all = np.ascontiguousarray(accuracy_m, dtype=np.float64)
    parts: list[tuple[NDArray[Any], ...]] = []
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        for start in range(0, x_all.shape[0], block_pings):
            sl = slice(start, start + block_pings)
            block = _match_block(
                index,
                x_all[sl],
                y_all[sl],
                t_all[sl],
                acc_all[sl],
                disc,
                strict,
                pool,
                n_threads,
                evidence_,
            )
            parts.append((block[0] + start, *block[1:]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0)
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


def _split(n: int, parts: int) -> list[slice]:
    """``parts`` contiguous slices of ``range(n)`` (fewer when n is small)."""
    bounds = np.linspace(0, n, min(parts, max(n, 1)) + 1).astype(np.int64)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _match_block(
    index: FenceShapes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.int64],
    accuracy: NDArray[np.float64],
    disc: bool,
    strict: bool,
    pool: ThreadPoolExecutor,
    n_threads: int,
    evidence: Evidence = Evidence.FULL,
) -> tuple[NDArray[Any], ...]:
    """One block of pings: compiled candidate tests, GEOS for deferred pairs, evidence."""
    from fencecheck._compiled.match import match_block

    if evidence is Evidence.HITS and not disc:
        return _match_block_raster(index, x, y, t, accuracy, strict, pool, n_threads)

    fences = index.fences
    flat = index.flat
    reach = accuracy if disc else np.zeros_like(accuracy)
    pieces: list[tuple[NDArray[Any], ...]] = []
    grids = index.reach_grids(reach)
    for grid, subset in grids:
        jobs = [
            pool.submit(
                match_block,
                subset[part],
                x,
                y,
                t,
                reach,
                disc,
                strict,
                grid.x0,
                grid.y0,
                grid.cell,
                grid.nx,
                grid.ny,
                grid.offsets,
                grid.entry_ids,
                fences.window_fence,
                fences.window_start,
                fences.window_end,
                index.fence_box,
                fences.buffer_m,
                *flat.arrays(),
            )
            for part in _split(subset.shape[0], n_threads)
        ]
        pieces.extend(job.result() for job in jobs)
    ping, window, inside, depth, deferred = (
        np.concatenate(column) for column in zip(*pieces, strict=True)
    )
    ordered = len(grids) == 1 and _fences_follow_windows(index)
    if deferred.any():
        ping, window, inside, depth = _decide_deferred(
            index, x, y, accuracy, ping, window, inside, depth, deferred, disc, strict
        )
        ordered = False
    fence = fences.window_fence[window]
    if not ordered:
        # One int64 key and a stable sort of runs: ten times faster than lexsort.
        order = np.argsort(ping * len(fences) + fence, kind="stable")
        ping, window, fence, inside, depth = (
            a[order] for a in (ping, window, fence, inside, depth)
        )
    if evidence is Evidence.FULL:
        p_inside = _p_inside(index, fence, x[ping], y[ping], accuracy[ping], depth, pool, n_threads)
    else:
        p_inside = np.full(ping.shape[0], np.nan)
        if evidence is Evidence.HITS:
            depth = np.full(ping.shape[0], np.nan)
    return ping, window, fence, inside, depth, p_inside


def _match_block_raster(
    index: FenceShapes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    t: NDArray[np.int64],
    accuracy: NDArray[np.float64],
    strict: bool,
    pool: ThreadPoolExecutor,
    n_threads: int,
) -> tuple[NDArray[Any], ...]:
    """One block of pings in point mode, hits only: the classified raster, GEOS for deferred pairs.

    Pairs come out in ping, fence, window order, as :func:`_match_block` gives them.
    """
    from fencecheck._compiled.raster import match_raster_block

    fences = index.fences
    raster = index.raster
    window_offsets, windows = index.fence_windows
    args: tuple[Any, ...] = (
        x,
        y,
        t,
        strict,
        raster.x0,
        raster.y0,
        raster.cell,
        raster.nx,
        raster.ny,
        raster.offsets,
        raster.entries,
        raster.centre_depth,
        window_offsets,
        windows,
        fences.window_start,
        fences.window_end,
        index.fence_box,
        fences.buffer_m,
        *index.flat.arrays(),
    )
    positions = np.arange(x.shape[0], dtype=np.int64)
    kernel: Any = match_raster_block  # a numba dispatcher: mypy cannot see its arguments
    jobs = [pool.submit(kernel, positions[part], *args) for part in _split(x.shape[0], n_threads)]
    ping, window, inside, deferred = (
        np.concatenate(column) for column in zip(*(job.result() for job in jobs), strict=True)
    )
    if deferred.any():
        depth = np.full(ping.shape[0], np.nan)
        ping, window, inside, depth = _decide_deferred(
            index, x, y, accuracy, ping, window, inside, depth, deferred, False, strict
        )
    nan = np.full(ping.shape[0], np.nan)
    return ping, window, fences.window_fence[window], inside, nan, nan.copy()


def _fences_follow_windows(index: FenceShapes) -> bool:
    """Whether window order is fence order (so a cell's entries come in fence order)."""
    window_fence = index.fences.window_fence
    return bool(np.all(window_fence[1:] >= window_fence[:-1]))


def _decide_deferred(
    index: FenceShapes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    ping: NDArray[np.int64],
    window: NDArray[np.int64],
    inside: NDArray[np.bool_],
    depth: NDArray[np.float64],
    deferred: NDArray[np.bool_],
    disc: bool,
    strict: bool,
) -> tuple[NDArray[Any], ...]:
    """Decide with GEOS the pairs the compiled kernel could not certify; keep the hits."""
    fences = index.fences
    which = np.flatnonzero(deferred)
    fence = fences.window_fence[window[which]]
    tests = check_pairs(
        index.geometry[fence],
        fences.buffer_m[fence],
        x[ping[which]],
        y[ping[which]],
        accuracy[ping[which]],
        disc=disc,
        strict=strict,
        boundary=index.boundary[fence],
    )
    inside = inside.copy()
    depth = depth.copy()
    inside[which] = tests.inside
    depth[which] = tests.depth_m
    keep = ~deferred
    keep[which] = tests.hit
    return ping[keep], window[keep], inside[keep], depth[keep]


def _p_inside(
    index: FenceShapes,
    fence: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    depth: NDArray[np.float64],
    pool: ThreadPoolExecutor | None = None,
    n_threads: int = 1,
) -> NDArray[np.float64]:
    """Gaussian mass over each hit's grown fence; 1 where the ping is surely inside.

    Computed by the compiled kernel (:mod:`fencecheck._compiled.mass`); the rare
    pairs it hands back (a ping within a micrometre of a grown edge, σ = 0) by
    :func:`fencecheck.probability.gaussian_mass_pairs`.
    """
    from fencecheck._compiled.mass import MOMENT_MAX_RHO, gaussian_mass_block, owens_tables

    sigma = np.asarray(sigma_from_accuracy(accuracy), dtype=np.float64)
    sure = _surely_inside(index, fence, depth, sigma)
    out = np.ones(fence.shape[0], dtype=np.float64)
    todo = np.flatnonzero(~sure)
    if todo.shape[0] == 0:
        return out
    grown = index.grown_flat
    t_table, phi_table = owens_tables()
    xs, ys, ss, fs = x[todo], y[todo], sigma[todo], fence[todo]
    moments = index.grown_moments
    moments.ensure(fs[moments.radius[fs] <= MOMENT_MAX_RHO * ss], threads=n_threads)
    pieces = _pieces_for(index, fs, ss, n_threads)
    mass = np.empty(todo.shape[0], dtype=np.float64)
    args: tuple[Any, ...] = (
        grown.fence_part,
        grown.part_ring,
        grown.ring_vertex,
        grown.x,
        grown.y,
        t_table,
        phi_table,
        moments.center,
        moments.radius,
        moments.moments,
        moments.row,
        moments.longest_edge,
        *pieces,
    )

    kernel: Any = gaussian_mass_block  # a numba dispatcher: mypy cannot see its arguments

    def run(part: slice) -> None:
        kernel(xs[part], ys[part], ss[part], fs[part], *args, mass[part])

    parts = _split(todo.shape[0], n_threads)
    if pool is None or len(parts) == 1:
        for part in parts:
            run(part)
    else:
        for job in [pool.submit(run, part) for part in parts]:
            job.result()
    missing = np.flatnonzero(np.isnan(mass))
    if missing.shape[0]:
        used, local = np.unique(fs[missing], return_inverse=True)
        mass[missing] = gaussian_mass_pairs(
            index.grown_geometry(used), local.reshape(-1), xs[missing], ys[missing], ss[missing]
        )
    out[todo] = mass
    return out


def p_inside_of(
    index: FenceShapes,
    fence: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy_m: NDArray[Any],
    depth_m: NDArray[np.float64],
    threads: int | None = None,
) -> NDArray[np.float64]:
    """``p_inside`` of some (ping, fence) hits, as :func:`match` computes it.

    ``x``, ``y`` are the pings in the index's frame; ``depth_m`` the hits' depth.
    """
    n_threads = thread_count(threads)
    accuracy = np.ascontiguousarray(accuracy_m, dtype=np.float64)
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return _p_inside(
            index,
            np.asarray(fence, dtype=np.int64),
            np.ascontiguousarray(x, dtype=np.float64),
            np.ascontiguousarray(y, dtype=np.float64),
            accuracy,
            np.asarray(depth_m, dtype=np.float64),
            pool,
            n_threads,
        )


def p_inside_bound(
    index: FenceShapes,
    fence: NDArray[np.int64],
    accuracy_m: NDArray[Any],
    depth_m: NDArray[np.float64],
) -> tuple[NDArray[np.bool_], NDArray[np.float64]]:
    """Which hits are surely inside (``p_inside`` 1), and an upper bound of the others'.

    Cheap and rigorous.

    The mass of N(ping, σ²I) over the grown fence G is at most its area times
    the peak density, ``area(G) / (2πσ²)``; and, for a ping outside the fence
    with its margin at distance d, at most the mass beyond d, ``exp(-d²/2σ²)``
    (G, a polygon inscribed in the exact margin, lies farther than d). "Surely
    inside" is decided as :func:`match` decides it.
    """
    sigma = np.asarray(sigma_from_accuracy(np.asarray(accuracy_m, dtype=np.float64)))
    buffer_m = index.fences.buffer_m[fence]
    sure = _surely_inside(index, fence, depth_m, sigma)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        area = index.grown_area[fence] / (2.0 * np.pi * sigma * sigma)
        gap = np.maximum(-depth_m - buffer_m, 0.0)
        beyond = np.exp(-0.5 * (gap / sigma) ** 2)
    bound = np.minimum(np.minimum(area, beyond), 1.0)
    bound = np.where(np.isfinite(bound), bound, 1.0)  # σ of 0: no bound
    return np.asarray(sure, dtype=bool), np.asarray(np.where(sure, 1.0, bound), dtype=np.float64)


def _surely_inside(
    index: FenceShapes,
    fence: NDArray[np.int64],
    depth_m: NDArray[np.float64],
    sigma: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Hits whose disc of ``SURE_SIGMAS`` σ lies in the grown fence (``p_inside`` taken as 1).

    Inside the polygon at depth d, the grown fence's edge is at least d + margin
    away (less the buffer's chords, 0.0012 of the margin).
    """
    from fencecheck._compiled.mass import SURE_SIGMAS

    buffer_m = index.fences.buffer_m[fence]
    return np.asarray((depth_m >= 0) & (depth_m + 0.998 * buffer_m >= SURE_SIGMAS * sigma))


def _pieces_for(
    index: FenceShapes, fence: NDArray[np.int64], sigma: NDArray[np.float64], n_threads: int
) -> tuple[NDArray[Any], ...]:
    """The quarter-piece arrays for the mass kernel, with the moments these pairs need.

    The pieces are only made when some fence is too large for its own series but
    not many times larger than σ.
    """
    from fencecheck._compiled.mass import MOMENT_MAX_RHO

    radius = index.grown_moments.radius[fence]
    large = radius > MOMENT_MAX_RHO * sigma
    # Quarters reach about half as far as their fence or more: for a disc much
    # smaller than every fence it meets (GPS fixes), they are not worth making.
    if not (large & (radius <= 2.5 * MOMENT_MAX_RHO * sigma)).any():
        none = np.full(len(index.fences), np.inf)
        one = np.zeros(1, dtype=bool)
        no_row = np.full(1, -1, dtype=np.int64)
        return none, np.zeros((1, 2)), np.zeros(1), np.zeros((1, 1)), no_row, one
    pieces = index.grown_pieces
    use = large & (pieces.reach[fence] <= MOMENT_MAX_RHO * sigma)
    wanted = np.unique(fence[use])
    pieces.moments.ensure((4 * wanted[:, None] + np.arange(4)).ravel(), threads=n_threads)
    m = pieces.moments
    return pieces.reach, m.center, m.radius, m.moments, m.row, pieces.empty


def match_chunks(
    chunks: Iterable[PingTable],
    index: FenceShapes,
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: Boundary | str = Boundary.COVERS,
) -> Iterator[Hits]:
    """Match a stream of ping chunks (such as :func:`fencecheck.iter_pings`), one by one.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> chunks = fc.iter_pings("data/samples/pings.csv", chunk_rows=100)
    >>> sum(len(hits) for hits in match_chunks(chunks, index))
    95
    """
    chunks, index = _pings_then_index(chunks, index, "match_chunks")
    for chunk in chunks:
        yield match(chunk, index, mode=mode, boundary=boundary)


def _pings_then_index(pings: Any, index: Any, name: str) -> tuple[Any, Any]:
    """The arguments in today's order, ``(pings, index)``, warning about the old one."""
    if isinstance(pings, FenceShapes) and not isinstance(index, FenceShapes):
        warnings.warn(
            f"{name}(index, pings) is deprecated: the pings come first, {name}(pings, index)",
            DeprecationWarning,
            stacklevel=3,
        )
        return index, pings
    return pings, index
