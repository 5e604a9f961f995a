"""Compiled (numba) ``p_inside``: the Gaussian mass of a grown fence, from tables.

The formula is :mod:`fencecheck.probability`'s (docs/domain.md, section 3): with the
ping at the origin, the mass over a polygon is the signed sum over its edges of
the triangle masses ``(θ_B − θ_A) / 2π − [T(h, s_B/h) − T(h, s_A/h)]``. The angle
terms add up to the winding number ``w`` of the polygon around the ping (1 inside,
0 outside, with shells counter-clockwise and holes clockwise), so::

    mass = w − Σ_edges [T(h/σ, s_B/h) − T(h/σ, s_A/h)]

and an edge farther than 9σ from the ping contributes less than 3e-18: only
near edges cost anything. ``w`` comes from a winding-number crossing test.

Owen's T is read from a table instead of evaluated: ``T(h, a)`` on a grid of
``h`` in [0, 8.5] (step 1/64) and ``a`` in [0, 1] (step 1/32), computed once per
process with :func:`scipy.special.owens_t`, and interpolated by tensor cubic
Lagrange polynomials (absolute error below 2e-8, tested). For ``|a| > 1`` the
identity ``T(h, a) = ½Φ(h) + ½Φ(ah) − Φ(h)Φ(ah) − T(ah, 1/a)`` brings ``a`` back
into [0, 1], with Φ from a table of the same step. For ``h ≥ 8.5``, T < 1e-17
and is taken as 0. A polygon of 40 edges costs about 80 table look-ups when all
its edges are near, where scipy's ``owens_t`` would cost about 15 µs.

A ping within a micrometre of an edge (where the winding number is not
certain) or with σ not positive and finite gets NaN: the caller computes those
few with :func:`fencecheck.probability.gaussian_mass`.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = [
    "H_MAX",
    "NEAR_SIGMAS",
    "SURE_SIGMAS",
    "gaussian_mass_block",
    "owens_t_fast",
    "owens_tables",
]

H_MAX = 8.5
_H_STEP = 64.0  # table nodes per unit of h
_A_STEP = 32.0  # table nodes per unit of a
_A_CELLS = 32
NEAR_SIGMAS = 6.5
"""Edges farther than this many σ are skipped: each contributes at most its share of
the angle around the ping times exp(-6.5²/2) = 6.7e-10."""
SURE_SIGMAS = 5.5
"""A ping whose disc of this many σ lies inside the grown fence gets p_inside = 1:
the mass outside is at most exp(-5.5²/2) = 2.7e-7."""
_EDGE_GUARD_M = 1e-6
_MIN_SIGMA_M = 1e-3


@cache
def owens_tables() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The tables of ``T(h, a)`` and of ``Φ(h)``, ``φ(h)`` (two columns), with margins.

    Each table has one node of margin on each side, for the cubic interpolation.
    """
    from scipy.special import ndtr, owens_t

    h = (np.arange(int(H_MAX * _H_STEP) + 4) - 1) / _H_STEP
    a = (np.arange(_A_CELLS + 4) - 1) / _A_STEP
    t_table = np.ascontiguousarray(owens_t(h[:, None], a[None, :]), dtype=np.float64)
    density = np.exp(-0.5 * h * h) / math.sqrt(2.0 * math.pi)
    phi_table = np.ascontiguousarray(np.column_stack([ndtr(h), density]), dtype=np.float64)
    return t_table, phi_table


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _cubic_weights(u: float) -> tuple[float, float, float, float]:
    """Lagrange weights of the nodes -1, 0, 1, 2 at ``u`` in [0, 1)."""
    return (
        -u * (u - 1.0) * (u - 2.0) / 6.0,
        (u + 1.0) * (u - 1.0) * (u - 2.0) / 2.0,
        -(u + 1.0) * u * (u - 2.0) / 2.0,
        (u + 1.0) * u * (u - 1.0) / 6.0,
    )


# The table look-ups are inlined where they are used (numba's own inlining), so
# that the compiler optimizes an edge's look-ups as one piece of code: the edge
# formula ran about a quarter faster that way, with the same bits out.
@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _t_unit(h: float, a: float, t_table: Any) -> float:
    """T(h, a) for h >= 0 and 0 <= a <= 1, from the table."""
    if h >= H_MAX:
        return 0.0
    u = h * _H_STEP
    i = int(u)
    v = a * _A_STEP
    j = min(int(v), _A_CELLS - 1)
    u0, u1, u2, u3 = _cubic_weights(u - i)
    v0, v1, v2, v3 = _cubic_weights(v - j)
    r0 = t_table[i]
    r1 = t_table[i + 1]
    r2 = t_table[i + 2]
    r3 = t_table[i + 3]
    c0 = u0 * r0[j] + u1 * r1[j] + u2 * r2[j] + u3 * r3[j]
    c1 = u0 * r0[j + 1] + u1 * r1[j + 1] + u2 * r2[j + 1] + u3 * r3[j + 1]
    c2 = u0 * r0[j + 2] + u1 * r1[j + 2] + u2 * r2[j + 2] + u3 * r3[j + 2]
    c3 = u0 * r0[j + 3] + u1 * r1[j + 3] + u2 * r2[j + 3] + u3 * r3[j + 3]
    return v0 * c0 + v1 * c1 + v2 * c2 + v3 * c3


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _column(h: float, phi_table: Any, column: int) -> float:
    """Column ``column`` of the Φ/φ table at ``0 <= h < H_MAX``, cubic interpolation."""
    u = h * _H_STEP
    i = int(u)
    w0, w1, w2, w3 = _cubic_weights(u - i)
    return (
        w0 * phi_table[i, column]
        + w1 * phi_table[i + 1, column]
        + w2 * phi_table[i + 2, column]
        + w3 * phi_table[i + 3, column]
    )


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _phi(h: float, phi_table: Any) -> float:
    """Φ(h) for h >= 0, from the table."""
    return 1.0 if h >= H_MAX else _column(h, phi_table, 0)


@njit(nogil=True, cache=True, error_model="numpy")
def _density(h: float, phi_table: Any) -> float:
    """The standard normal density φ(h), from the table (0 beyond ``H_MAX``)."""
    h = abs(h)
    return 0.0 if h >= H_MAX else _column(h, phi_table, 1)


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _t_folded(h: float, a: float, phi_h: float, t_table: Any, phi_table: Any) -> float:
    """T(h, a) for h >= 0 and any finite a, given Φ(h)."""
    sign = 1.0
    if a < 0.0:
        a = -a
        sign = -1.0
    if a <= 1.0:
        return sign * _t_unit(h, a, t_table)
    ah = a * h
    pah = _phi(ah, phi_table)
    return sign * (0.5 * phi_h + 0.5 * pah - phi_h * pah - _t_unit(ah, 1.0 / a, t_table))


@njit(nogil=True, cache=True, error_model="numpy")
def owens_t_fast(h: float, a: float, t_table: Any, phi_table: Any) -> float:
    """Owen's T(h, a) for any finite h and a, from the tables."""
    h = abs(h)
    return _t_folded(h, a, _phi(h, phi_table), t_table, phi_table)


@njit(nogil=True, cache=True, error_model="numpy")
def _polygon_mass(
    px: float,
    py: float,
    sigma: float,
    fence: int,
    fence_part: Any,
    part_ring: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
    t_table: Any,
    phi_table: Any,
) -> float:
    """Gaussian mass N((px, py), σ²I) over one fence (oriented rings); NaN to defer."""
    winding = 0
    beyond = 0.0
    near = NEAR_SIGMAS * sigma
    for part in range(fence_part[fence], fence_part[fence + 1]):
        for ring in range(part_ring[part], part_ring[part + 1]):
            for k in range(ring_vertex[ring], ring_vertex[ring + 1] - 1):
                ax = vx[k] - px
                ay = vy[k] - py
                bx = vx[k + 1] - px
                by = vy[k + 1] - py
                # Winding number (Sunday's crossing rule), the ping at the origin.
                if ay <= 0.0 < by:
                    if ax * by - ay * bx > 0.0:
                        winding += 1
                elif by <= 0.0 < ay and ax * by - ay * bx < 0.0:
                    winding -= 1
                if (
                    (ax > near and bx > near)
                    or (ax < -near and bx < -near)
                    or (ay > near and by > near)
                    or (ay < -near and by < -near)
                ):
                    continue  # the whole edge is farther than `near`
                dx = bx - ax
                dy = by - ay
                length = math.sqrt(dx * dx + dy * dy)
                if length == 0.0:
                    continue
                cross = ax * dy - ay * dx  # A x (B - A): |cross| / length is h
                along = (ax * dx + ay * dy) / length  # A's position along A->B from the foot
                h = abs(cross) / length
                # Distance to the segment: to the line, or to the nearer end.
                if along > 0.0:
                    dist = math.sqrt(ax * ax + ay * ay)
                elif along < -length:
                    dist = math.sqrt(bx * bx + by * by)
                else:
                    dist = h
                if dist < _EDGE_GUARD_M:
                    return np.nan
                if dist > near or h == 0.0:  # far, or a degenerate triangle
                    continue
                # Positions along the line, in the direction that turns A->B
                # counter-clockwise about the ping.
                if cross > 0.0:
                    s_a = along
                    s_b = along + length
                else:
                    s_a = -along
                    s_b = -along - length
                hs = h / sigma
                if hs >= H_MAX:
                    continue
                phi_h = _phi(hs, phi_table)
                beyond += _t_folded(hs, s_b / h, phi_h, t_table, phi_table) - _t_folded(
                    hs, s_a / h, phi_h, t_table, phi_table
                )
    mass = winding - beyond
    return min(max(mass, 0.0), 1.0)


GREEN_MAX_EDGE_SIGMAS = 1.0
"""Green's-theorem quadrature is used when no edge of the fence is longer than this many σ."""
_GL2_T = np.array([0.5 - 0.5 / math.sqrt(3.0), 0.5 + 0.5 / math.sqrt(3.0)])
_GL2_W = np.array([0.5, 0.5])
_GL3_T, _GL3_W = np.polynomial.legendre.leggauss(3)
_GL3_T = (_GL3_T + 1.0) / 2.0
_GL3_W = _GL3_W / 2.0
_GL4_T, _GL4_W = np.polynomial.legendre.leggauss(4)
_GL4_T = (_GL4_T + 1.0) / 2.0
_GL4_W = _GL4_W / 2.0


@njit(nogil=True, cache=True, error_model="numpy")
def _phi_signed(x: float, phi_table: Any) -> float:
    """Φ(x) for any x, from the table."""
    if x >= 0.0:
        return _phi(x, phi_table)
    return 1.0 - _phi(-x, phi_table)


@njit(nogil=True, cache=True, error_model="numpy")
def _green_mass(
    px: float,
    py: float,
    sigma: float,
    fence: int,
    fence_part: Any,
    part_ring: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
    phi_table: Any,
) -> float:
    """Mass by Green's theorem, ``∮ Φ(x) φ(y) dy`` (σ units), Gauss-Legendre per edge.

    For fences whose edges are all short against σ: the integrand is smooth on
    the scale of σ, so 2 to 4 nodes per edge (by its length) integrate it to
    within 1e-9 per edge. Edges beyond 8.5σ in y add nothing; beyond 8.5σ in x
    they add ``Φ(y_B) − Φ(y_A)`` exactly.
    """
    total = 0.0
    inv = 1.0 / sigma
    for part in range(fence_part[fence], fence_part[fence + 1]):
        for ring in range(part_ring[part], part_ring[part + 1]):
            for k in range(ring_vertex[ring], ring_vertex[ring + 1] - 1):
                y0 = (vy[k] - py) * inv
                y1 = (vy[k + 1] - py) * inv
                dy = y1 - y0
                if dy == 0.0 or (y0 > H_MAX and y1 > H_MAX) or (y0 < -H_MAX and y1 < -H_MAX):
                    continue
                x0 = (vx[k] - px) * inv
                x1 = (vx[k + 1] - px) * inv
                if x0 < -H_MAX and x1 < -H_MAX:
                    continue
                if x0 > H_MAX and x1 > H_MAX:
                    total += _phi_signed(y1, phi_table) - _phi_signed(y0, phi_table)
                    continue
                dx = x1 - x0
                length = math.sqrt(dx * dx + dy * dy)
                if length <= 0.15:
                    nodes, weights = _GL2_T, _GL2_W
                elif length <= 0.5:
                    nodes, weights = _GL3_T, _GL3_W
                else:
                    nodes, weights = _GL4_T, _GL4_W
                edge = 0.0
                for g in range(nodes.shape[0]):
                    x = x0 + nodes[g] * dx
                    y = y0 + nodes[g] * dy
                    edge += weights[g] * _phi_signed(x, phi_table) * _density(y, phi_table)
                total += edge * dy
    return min(max(total, 0.0), 1.0)


# Moments (far-field) method for a large σ over a small fence.
MOMENT_DEGREE = 36
N_MOMENTS = (MOMENT_DEGREE + 1) * (MOMENT_DEGREE + 2) // 2
MOMENT_MAX_RHO = 1.5
"""The moments method is used when the fence's radius about its centre is at most
this many σ; the truncated Hermite series is then within 1e-7 of the mass (tested
against the exact formula; the truncation itself is below 1e-9)."""
PIECES_MIN_VERTICES = 24
"""Below this many vertices, Green's theorem along a fence's edges is cheaper than four
series (the edge formula, with two Owen's T look-ups an edge, never is)."""
_RECIPROCALS = 1.0 / np.maximum(np.arange(MOMENT_DEGREE + 2, dtype=np.float64), 1.0)
# Degree of the series by ρ = radius / σ: the first term left out, about
# ρ^(n+1) / sqrt((n+1)!), is below 1e-9 at each tier's largest ρ.
_RHO_TIERS = np.array([0.3, 0.5, 0.8, 1.0, 1.25, 1.5])
_DEGREE_TIERS = np.array([10, 14, 20, 24, 30, 36])


class FenceMoments:
    """Centres, radii and (made on demand) area moments of flat fences.

    Parameters
    ----------
    flat : FlatGeometry
        The grown fences, rings oriented (shells counter-clockwise).
    """

    def __init__(self, flat: Any) -> None:
        self.flat = flat
        n = len(flat)
        ring_fence = np.repeat(
            np.repeat(np.arange(n), np.diff(flat.fence_part)), np.diff(flat.part_ring)
        )
        vertex_fence = np.repeat(ring_fence, np.diff(flat.ring_vertex))
        lo_x = np.full(n, np.inf)
        lo_y = np.full(n, np.inf)
        hi_x = np.full(n, -np.inf)
        hi_y = np.full(n, -np.inf)
        np.minimum.at(lo_x, vertex_fence, flat.x)
        np.minimum.at(lo_y, vertex_fence, flat.y)
        np.maximum.at(hi_x, vertex_fence, flat.x)
        np.maximum.at(hi_y, vertex_fence, flat.y)
        some = np.isfinite(lo_x)  # a fence without vertices (an empty piece) has no centre
        mid_x = np.where(some, (np.where(some, lo_x, 0) + np.where(some, hi_x, 0)) / 2, 0.0)
        mid_y = np.where(some, (np.where(some, lo_y, 0) + np.where(some, hi_y, 0)) / 2, 0.0)
        self.center = np.ascontiguousarray(np.column_stack([mid_x, mid_y]))
        reach = np.hypot(
            flat.x - self.center[vertex_fence, 0], flat.y - self.center[vertex_fence, 1]
        )
        radius = np.zeros(n)
        np.maximum.at(radius, vertex_fence, reach)
        # A fence of one point (no area) never uses moments.
        self.radius = np.where(radius > 0, radius, np.inf)
        edge = np.hypot(np.diff(flat.x), np.diff(flat.y))
        same_ring = (
            np.diff(np.repeat(np.arange(len(flat.ring_vertex) - 1), np.diff(flat.ring_vertex))) == 0
        )
        self.longest_edge = np.zeros(n)
        np.maximum.at(self.longest_edge, vertex_fence[:-1][same_ring], edge[same_ring])
        # Moments are made on demand, one row per fence that needs them: ``row[f]``
        # is fence f's row of ``moments`` (-1 until made).
        self.row = np.full(n, -1, dtype=np.int64)
        self.moments = np.zeros((0, N_MOMENTS))

    @property
    def has(self) -> NDArray[np.bool_]:
        """Whether each fence's moments are made."""
        return np.asarray(self.row >= 0)

    def ensure(self, fences: NDArray[np.int64], threads: int = 1) -> None:
        """Compute the moments of these fences if not done yet (on ``threads`` threads)."""
        todo = np.unique(fences[self.row[fences] < 0])
        if todo.shape[0] == 0:
            return
        flat = self.flat
        start = self.moments.shape[0]
        self.moments = np.concatenate([self.moments, np.zeros((todo.shape[0], N_MOMENTS))])
        rows = np.zeros(self.row.shape[0], dtype=np.int64)
        rows[todo] = start + np.arange(todo.shape[0])

        def run(part: NDArray[np.int64]) -> None:
            fence_moments(
                part,
                rows,
                flat.fence_part,
                flat.part_ring,
                flat.ring_vertex,
                flat.x,
                flat.y,
                self.center,
                self.radius,
                self.moments,
            )

        parts = np.array_split(todo, max(1, min(threads, todo.shape[0] // 32)))
        if len(parts) == 1:
            run(todo)
        else:
            with ThreadPoolExecutor(max_workers=len(parts)) as pool:
                for job in [pool.submit(run, part) for part in parts]:
                    job.result()
        self.row[todo] = rows[todo]


class FencePieces:
    """Fences cut into the four quarters of their bounding box, with their moments.

    A fence too large for its moments series (radius above
    :data:`MOMENT_MAX_RHO` σ) may still have quarters small enough: the mass over
    the fence is the sum over its quarters, four series instead of an integral
    along every edge.

    Parameters
    ----------
    grown : ndarray of shapely geometries
        The grown fences.
    center : ndarray, shape (n, 2)
        The centre of each fence's bounding box (where it is cut).
    """

    def __init__(self, grown: NDArray[np.object_], center: NDArray[np.float64]) -> None:
        import shapely

        from fencecheck._compiled.flat import FlatGeometry

        n = grown.shape[0]
        lo_x, lo_y, hi_x, hi_y = shapely.bounds(grown).reshape(-1, 4).T
        cx, cy = center[:, 0], center[:, 1]
        corners = (
            np.stack([lo_x, cx, lo_x, cx], axis=1).ravel(),
            np.stack([lo_y, lo_y, cy, cy], axis=1).ravel(),
            np.stack([cx, hi_x, cx, hi_x], axis=1).ravel(),
            np.stack([cy, cy, hi_y, hi_y], axis=1).ravel(),
        )
        finite = np.isfinite(lo_x).repeat(4)
        pieces = np.full(4 * n, None, dtype=object)
        # Fast rectangle clipping; its output may be invalid (a ring touching itself on
        # the cut), which leaves the boundary integrals of the moments right.
        # (one call a piece: clip_by_rect takes one rectangle at a time)
        repeated = grown.repeat(4)
        for k in np.flatnonzero(finite).tolist():
            pieces[k] = shapely.clip_by_rect(
                repeated[k], corners[0][k], corners[1][k], corners[2][k], corners[3][k]
            )
        # Keep the polygonal parts only (a cut may leave lines and points on the box).
        kind = shapely.get_type_id(pieces)
        kept = np.full(4 * n, None, dtype=object)
        polygonal = np.isin(kind, (3, 6))
        kept[polygonal] = pieces[polygonal]
        for k in np.flatnonzero(kind == 7).tolist():  # a collection: rare
            parts = shapely.get_parts(pieces[k])
            polygons = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
            kept[k] = shapely.union_all(polygons) if polygons.shape[0] else None
        empty = np.array([g is None or g.is_empty for g in kept.tolist()], dtype=bool)
        kept[empty] = shapely.from_wkt("MULTIPOLYGON EMPTY")
        self.moments = FenceMoments(
            FlatGeometry.from_shapely(shapely.orient_polygons(kept, exterior_cw=False))
        )
        # A piece without area adds nothing (its radius is infinite: it is skipped).
        self.empty = empty | ~np.isfinite(self.moments.radius)
        radius = np.where(self.empty, 0.0, self.moments.radius).reshape(n, 4)
        self.reach = np.where(np.isfinite(lo_x), radius.max(axis=1), np.inf)


@njit(nogil=True, cache=True, error_model="numpy", fastmath=True)
def fence_moments(
    fences: Any,
    rows: Any,
    fence_part: Any,
    part_ring: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
    center: Any,
    radius: Any,
    out: Any,
) -> None:
    """Area moments of fences about their centre, in units of their radius, in closed form.

    ``out[rows[f], k]`` is ``∫∫ u^i v^j dA`` over fence ``f`` (holes subtracted:
    rings oriented), with ``u, v`` the offsets from ``center[f]`` divided by
    ``radius[f]`` and ``k`` enumerating ``(i, j)`` by degree ``d = i + j`` then by
    ``j``. The fence is the signed sum of the triangles (centre, A, B) over its
    edges A→B, and over such a triangle (with ``×`` the cross product)::

        ∫∫ u^i v^j dA = (A × B) s_ij / ((d + 1)(d + 2)),
        s_ij = B_u^i B_v^j + (i A_u s_(i-1)j + j A_v s_i(j-1)) / d,   s_00 = 1

    (the Dirichlet integrals over the triangle, summed by the recurrence of
    ``1 / ((1 - A_u X - A_v Y)(1 - B_u X - B_v Y))``'s coefficients, each divided
    by the binomial ``C(d, i)``). Exact up to rounding, with no quadrature: about
    six operations per moment and edge. ``|s_ij| <= d + 1`` for vertices within
    the unit disc (a weighted mean of monomials, weights summing to ``d + 1``),
    so nothing grows and cancels.
    """
    # s and the monomials B_u^i B_v^j of one edge, laid out as the moments are.
    s = np.empty(N_MOMENTS)
    mono = np.empty(N_MOMENTS)
    for q in range(fences.shape[0]):
        f = fences[q]
        cx = center[f, 0]
        cy = center[f, 1]
        r = radius[f]
        acc = np.zeros(N_MOMENTS)
        for part in range(fence_part[f], fence_part[f + 1]):
            for ring in range(part_ring[part], part_ring[part + 1]):
                for k in range(ring_vertex[ring], ring_vertex[ring + 1] - 1):
                    au = (vx[k] - cx) / r
                    av = (vy[k] - cy) / r
                    bu = (vx[k + 1] - cx) / r
                    bv = (vy[k + 1] - cy) / r
                    cross = au * bv - av * bu
                    if cross == 0.0:
                        continue
                    s[0] = 1.0
                    mono[0] = 1.0
                    for d in range(1, MOMENT_DEGREE + 1):
                        here = d * (d + 1) // 2  # (d, 0)
                        back = here - d  # (d - 1, 0)
                        inv = _RECIPROCALS[d]
                        # j = 0 (i = d) and j = d (i = 0): one neighbour each
                        mono[here] = bu * mono[back]
                        s[here] = mono[here] + au * s[back]
                        for j in range(1, d):
                            mono[here + j] = bu * mono[back + j]
                            s[here + j] = (
                                mono[here + j]
                                + ((d - j) * au * s[back + j] + j * av * s[back + j - 1]) * inv
                            )
                        mono[here + d] = bv * mono[back + d - 1]
                        s[here + d] = mono[here + d] + av * s[back + d - 1]
                    for m in range(N_MOMENTS):
                        acc[m] += cross * s[m]
        m = 0
        for d in range(MOMENT_DEGREE + 1):
            scale = 1.0 / ((d + 1.0) * (d + 2.0))
            for _ in range(d + 1):
                out[rows[f], m] = acc[m] * scale
                m += 1


@njit(nogil=True, cache=True, error_model="numpy")
def _moment_mass(
    px: float,
    py: float,
    sigma: float,
    f: int,
    center: Any,
    radius: Any,
    moments: Any,
    row_of: Any,
    hx: Any,
    hy: Any,
) -> float:
    """Mass by the Hermite series of the Gaussian about the fence's centre."""
    rho = radius[f] / sigma
    degree = _DEGREE_TIERS[-1]
    for tier in range(_RHO_TIERS.shape[0]):
        if rho <= _RHO_TIERS[tier]:
            degree = _DEGREE_TIERS[tier]
            break
    zx = (px - center[f, 0]) / sigma
    zy = (py - center[f, 1]) / sigma
    # He_n(z) / n!, by the recurrence He_{n+1} = z He_n - n He_{n-1}.
    # hx, hy: scratch of MOMENT_DEGREE + 1 values, allocated once per block.
    hx[0] = 1.0
    hy[0] = 1.0
    hx[1] = zx
    hy[1] = zy
    for n in range(1, degree):
        hx[n + 1] = (zx * hx[n] - hx[n - 1]) * _RECIPROCALS[n + 1]
        hy[n + 1] = (zy * hy[n] - hy[n - 1]) * _RECIPROCALS[n + 1]
    total = 0.0
    scale = rho * rho
    row = moments[row_of[f]]
    m = 0
    for k in range(degree + 1):
        part = 0.0
        for j in range(k + 1):
            part += hx[k - j] * hy[j] * row[m]
            m += 1
        total += part * scale
        scale *= rho
    mass = math.exp(-0.5 * (zx * zx + zy * zy)) * total / (2.0 * math.pi)
    return min(max(mass, 0.0), 1.0)


@njit(nogil=True, cache=True, error_model="numpy")
def gaussian_mass_block(
    x: Any,
    y: Any,
    sigma: Any,
    fence: Any,
    fence_part: Any,
    part_ring: Any,
    ring_vertex: Any,
    vx: Any,
    vy: Any,
    t_table: Any,
    phi_table: Any,
    center: Any,
    radius: Any,
    moments: Any,
    moment_row: Any,
    longest_edge: Any,
    piece_reach: Any,
    piece_center: Any,
    piece_radius: Any,
    piece_moments: Any,
    piece_row: Any,
    piece_empty: Any,
    out: Any,
) -> None:
    """``out[k]`` = mass of N((x[k], y[k]), sigma[k]²I) over fence ``fence[k]``, or NaN.

    By the moments of the fence when they are given and its radius is at most
    :data:`MOMENT_MAX_RHO` σ; else by the moments of its four quarters when they
    are given and small enough, unless Green's theorem applies to a fence of few
    edges; else by Green's theorem when every edge is at most σ; else edge by edge.
    """
    hx = np.empty(MOMENT_DEGREE + 1)
    hy = np.empty(MOMENT_DEGREE + 1)
    for k in range(x.shape[0]):
        s = sigma[k]
        if not (s >= _MIN_SIGMA_M and s < np.inf):
            out[k] = np.nan
            continue
        f = fence[k]
        if moment_row[f] >= 0 and radius[f] <= MOMENT_MAX_RHO * s:
            out[k] = _moment_mass(x[k], y[k], s, f, center, radius, moments, moment_row, hx, hy)
        elif (
            piece_reach[f] <= MOMENT_MAX_RHO * s
            and piece_row[4 * f] >= 0
            and (
                longest_edge[f] > GREEN_MAX_EDGE_SIGMAS * s
                or ring_vertex[part_ring[fence_part[f + 1]]] - ring_vertex[part_ring[fence_part[f]]]
                > PIECES_MIN_VERTICES
            )
        ):
            total = 0.0
            for p in range(4 * f, 4 * f + 4):
                if not piece_empty[p]:
                    total += _moment_mass(
                        x[k],
                        y[k],
                        s,
                        p,
                        piece_center,
                        piece_radius,
                        piece_moments,
                        piece_row,
                        hx,
                        hy,
                    )
            out[k] = min(max(total, 0.0), 1.0)
        elif longest_edge[f] <= GREEN_MAX_EDGE_SIGMAS * s:
            out[k] = _green_mass(
                x[k], y[k], s, f, fence_part, part_ring, ring_vertex, vx, vy, phi_table
            )
        else:
            out[k] = _polygon_mass(
                x[k], y[k], s, f, fence_part, part_ring, ring_vertex, vx, vy, t_table, phi_table
            )
