"""The probability that a person was really inside a fence: ``p_inside``.

A ping at ``(x, y)`` with accuracy ``accuracy_m`` (the radius of the 68 %
confidence circle) is read as an isotropic Gaussian N((x, y), σ²I) with
``σ = accuracy_m * SIGMA_PER_ACCURACY``; ``p_inside`` is its mass over the fence
polygon (holes and several parts allowed), in the planar metric frame. The mass
has an exact closed form, a signed sum over the polygon's edges, evaluated here
with numpy and Owen's T function (:func:`scipy.special.owens_t`).

Derivation
----------
Shift the ping to the origin O and divide by σ, so the density is
``exp(-|u|²/2) / 2π``. With exterior rings counter-clockwise and holes clockwise,
the polygon's indicator is, almost everywhere, the sum over all edges A→B of the
indicator of the triangle (O, A, B) signed by the orientation of A→B seen from O,
``sign(A × B)`` (the winding number, built as a triangle fan from O). So the mass
is the same signed sum of triangle masses. Rings are re-oriented per ring
(:func:`shapely.is_ccw`), so the input's orientation does not matter.

For one triangle, rotate so that the edge's line is ``x = h`` (h ≥ 0, the
distance from O to the line) and A, B are at heights ``s_A < s_B`` above the foot
of the perpendicular. The triangle is the wedge between the angles
``θ = atan(s/h)`` of A and B, minus the part of the wedge beyond the line. The
wedge holds ``(θ_B − θ_A) / 2π`` by rotational symmetry; the part of the wedge
between angles 0 and θ beyond the line is ``P(X > h, 0 < Y < X tan θ)``, which is
Owen's ``T(h, tan θ)`` by definition (odd in θ). Hence the triangle holds::

    (atan(s_B/h) − atan(s_A/h)) / 2π − [T(h, s_B/h) − T(h, s_A/h)]

For a single edge of infinite length (``s_A → −∞``, ``s_B → +∞``) closed off far
away this tends to ``Φ(h)``, the straight-edge formula
(:func:`p_inside_straight_edge`).

Evaluation: the angle difference is the angle AOB, ``atan2(A × B, A · B)``, which
stays accurate when h is tiny; ``s/h = A·(B−A) / |A × (B−A)|`` is free of σ; only
``h = |A × (B−A)| / (|B−A| σ)`` depends on σ. Coordinates are made relative to
the ping in metres before anything else. ``0 ≤ T(h, a) ≤ (1 − Φ(h)) / 2``, so T
is not evaluated for ``h ≥ 10`` (where it is below 1e-23). The sum is clipped to
[0, 1].

Degenerate cases:

- The ping on an edge's line (h = 0, including the ping on the edge itself or on
  a vertex): the triangle has zero area and contributes 0. The other edges then
  subtend the polygon's interior angle at the ping, so a ping on a straight edge
  of a large polygon gets ½, at a right-angled corner ¼; the sum is continuous
  across the boundary.
- A ping far from the polygon: the angles add up to the winding number 0 and
  every T term vanishes, so the mass is ~0 (absolute error ~1e-16: tiny masses
  are accurate in absolute, not relative, terms).
- A huge σ over a small polygon: ``T(h, a) ≈ (atan a − h² a / 2) / 2π`` for small
  h, so each triangle holds its area / 2π and the mass tends to
  ``area / (2πσ²)``.
- ``σ ≤ 0`` (accuracy 0): the indicator of the closed polygon, 1 inside *and on
  the boundary*, 0 outside, as :func:`shapely.covers` (the point-mode matching
  rule) decides. As σ → 0 a ping on the boundary tends instead to the share of
  the interior angle (½ on an edge), so the boundary is the one place where
  ``σ = 0`` is not the limit of small σ. ``σ = +inf`` gives 0. NaN in ``x``, ``y`` or ``σ``, or an
  infinite coordinate, gives NaN.

Polygons are assumed valid (rings simple, holes inside their shell, parts of a
MultiPolygon disjoint), as shapely validates them.

Examples
--------
A 1,500 m cell fix at the centre of a compound of radius 100 m: the straight-edge
formula says 0.54, the true mass is 0.005.

>>> import shapely
>>> compound = shapely.Point(0, 0).buffer(100.0, quad_segs=64)
>>> sigma = sigma_from_accuracy(1500.0)
>>> round(gaussian_mass(compound, 0.0, 0.0, sigma), 4)
0.0051
>>> round(p_inside_straight_edge(100.0, sigma), 2)
0.54
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, overload

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from fencecheck.errors import OptionError

__all__ = [
    "DEFAULT_MAX_PAIR_EDGES",
    "SIGMA_PER_ACCURACY",
    "gaussian_mass",
    "gaussian_mass_pairs",
    "p_inside_straight_edge",
    "sigma_from_accuracy",
]

_Float = float | np.floating[Any]
_Array = NDArray[np.float64]

SIGMA_PER_ACCURACY: Final[float] = 1.0 / 1.5096
"""σ per metre of ``accuracy_m``.

``accuracy_m`` is the radius of the 68 % confidence circle (Android's
convention). The distance from the centre of a 2-D standard Gaussian is Rayleigh
distributed, ``P(R ≤ r) = 1 − exp(−r²/2)`` (chi-squared with 2 degrees of freedom
for ``r²``), so 68 % lies within ``r = sqrt(−2 ln 0.32) = 1.5096`` σ, and
``σ = accuracy_m / 1.5096``. (Not the 1-D "68.27 %": that would be 1.5152 σ.)
"""

DEFAULT_MAX_PAIR_EDGES: Final[int] = 1 << 16
"""How many (pair, edge) terms :func:`gaussian_mass_pairs` evaluates at a time.

65,536: the temporary arrays (512 kB each) then stay in the CPU cache, which
measured faster than blocks of millions; memory stays bounded whatever the number
of pairs.
"""

_POLYGON_TYPES = (3, 6)  # shapely type ids of Polygon and MultiPolygon
_T_NEGLIGIBLE_H = 10.0  # T(h, a) <= (1 - Phi(h)) / 2 < 1e-23 from here on
_TWO_PI = 2.0 * math.pi


@overload
def sigma_from_accuracy(accuracy_m: _Float) -> float: ...
@overload
def sigma_from_accuracy(accuracy_m: ArrayLike) -> _Array: ...
def sigma_from_accuracy(accuracy_m: Any) -> Any:
    """The Gaussian σ (metres) of a ping whose 68 % radius is ``accuracy_m``.

    See :data:`SIGMA_PER_ACCURACY`. Scalars in give a float out, arrays a float64
    array of the same shape; NaN stays NaN.

    Examples
    --------
    >>> round(sigma_from_accuracy(1500.0), 1)
    993.6
    >>> sigma_from_accuracy([15.096, 0.0]).tolist()
    [10.0, 0.0]
    """
    sigma = np.asarray(accuracy_m, dtype=np.float64) * SIGMA_PER_ACCURACY
    return float(sigma) if sigma.ndim == 0 else sigma


@overload
def p_inside_straight_edge(depth_m: _Float, sigma: _Float) -> float: ...
@overload
def p_inside_straight_edge(depth_m: ArrayLike, sigma: ArrayLike) -> _Array: ...
def p_inside_straight_edge(depth_m: Any, sigma: Any) -> Any:
    """The one-edge limit ``Φ(depth / σ)``: the mass of a half-plane.

    The probability of being inside a fence whose boundary is one straight line
    at signed distance ``depth_m`` (positive inside). It is right only when the
    fence is large against σ; it is here for documentation and tests, the real
    answer is :func:`gaussian_mass`. ``σ ≤ 0`` gives the indicator
    ``depth_m >= 0`` (the boundary counts as inside).

    Examples
    --------
    >>> p_inside_straight_edge(0.0, 50.0)
    0.5
    >>> round(p_inside_straight_edge(50.0, 50.0), 4)
    0.8413
    """
    from scipy.special import ndtr

    depth, sig = np.broadcast_arrays(
        np.asarray(depth_m, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(sig > 0, ndtr(depth / np.where(sig > 0, sig, 1.0)), depth >= 0)
    p = np.where(np.isnan(depth) | np.isnan(sig), np.nan, p).astype(np.float64)
    return float(p) if p.ndim == 0 else p


@overload
def gaussian_mass(polygon: Any, x: _Float, y: _Float, sigma: _Float) -> float: ...
@overload
def gaussian_mass(polygon: Any, x: ArrayLike, y: ArrayLike, sigma: ArrayLike) -> _Array: ...
def gaussian_mass(polygon: Any, x: Any, y: Any, sigma: Any) -> Any:
    """Mass of N((x, y), σ²I) over one polygon: the probability of being inside.

    Parameters
    ----------
    polygon : shapely.Polygon or shapely.MultiPolygon
        In planar metres (the metric frame). Holes subtract; ring orientation
        does not matter. An empty polygon has mass 0.
    x, y : float or array_like
        The pings, in the same frame.
    sigma : float or array_like
        The Gaussian σ in metres (:func:`sigma_from_accuracy`). ``σ ≤ 0`` gives
        the indicator of the closed polygon (:func:`shapely.covers`).

    Returns
    -------
    float or numpy.ndarray
        The masses in [0, 1], float64, with the broadcast shape of ``x``, ``y``
        and ``sigma``; a float when all three are scalars. NaN where an input is
        NaN or a coordinate is infinite.

    Examples
    --------
    >>> import shapely
    >>> field = shapely.box(0, 0, 10_000, 10_000)
    >>> gaussian_mass(field, [5_000.0, 5_000.0, 0.0], [5_000.0, 0.0, 0.0], 30.0).tolist()
    [1.0, 0.5, 0.25]
    >>> gaussian_mass(field, 0.0, 0.0, 0.0)
    1.0
    """
    geometry = np.empty(1, dtype=object)
    geometry[0] = polygon
    xa, ya, sa = np.broadcast_arrays(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
    )
    mass = gaussian_mass_pairs(
        geometry, np.zeros(xa.size, dtype=np.intp), xa.ravel(), ya.ravel(), sa.ravel()
    ).reshape(xa.shape)
    return float(mass) if mass.ndim == 0 else mass


def gaussian_mass_pairs(
    geometries: ArrayLike,
    geom_index: ArrayLike,
    x: ArrayLike,
    y: ArrayLike,
    sigma: ArrayLike,
    *,
    max_pair_edges: int = DEFAULT_MAX_PAIR_EDGES,
) -> _Array:
    """The Gaussian mass of many (ping, polygon) pairs at once.

    Pair ``k`` is the ping ``(x[k], y[k])`` with σ ``sigma[k]`` against the
    polygon ``geometries[geom_index[k]]``. The edges of all geometries are laid
    out once in a flat table; the pairs are then evaluated against their
    polygon's edges with numpy, in blocks of at most ``max_pair_edges``
    (pair, edge) terms (a pair whose polygon alone has more edges makes a block
    of its own).

    Parameters
    ----------
    geometries : array_like of shapely.Polygon or shapely.MultiPolygon
        One-dimensional; in planar metres. A margin is passed as its buffer
        polygon.
    geom_index : array_like of int
        Which geometry each pair uses.
    x, y, sigma : array_like
        The pings and their σ in metres; broadcast with ``geom_index``.
    max_pair_edges : int, optional
        The block size, for memory.

    Returns
    -------
    numpy.ndarray
        float64 masses in [0, 1] with the broadcast shape of the inputs; NaN
        where ``x``, ``y`` or ``sigma`` is NaN or a coordinate is infinite.
        ``σ ≤ 0`` gives the indicator of the closed polygon.

    Raises
    ------
    OptionError
        If a geometry is not a Polygon or MultiPolygon, an index is out of range
        or ``max_pair_edges`` is not positive.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> fences = np.array([shapely.box(0, 0, 100, 100), shapely.box(0, 0, 1e6, 1e6)])
    >>> gaussian_mass_pairs(fences, [0, 1, 1], [50.0, 5e5, 0.0], [50.0, 5e5, 5e5], 1e-9)
    array([1. , 1. , 0.5])
    >>> gaussian_mass_pairs(fences, [0, 1, 1], [50.0, 5e5, 0.0], [50.0, 5e5, 5e5], 0.0)
    array([1., 1., 1.])
    >>> gaussian_mass_pairs(fences, [0, 1], [50.0, 0.0], [50.0, 5e5], 200.0).round(3)
    array([0.039, 0.5  ])
    """
    if max_pair_edges < 1:
        raise OptionError(f"max_pair_edges must be at least 1, not {max_pair_edges!r}")
    geoms = _polygon_array(geometries)
    gi, xa, ya, sa = np.broadcast_arrays(
        np.asarray(geom_index),
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
    )
    shape = gi.shape
    gi, xa, ya, sa = gi.ravel(), xa.ravel(), ya.ravel(), sa.ravel()
    if gi.size and not np.issubdtype(gi.dtype, np.integer):
        raise OptionError(f"geom_index must hold integers, not {gi.dtype}")
    gi = gi.astype(np.intp, copy=False)
    if gi.size and (gi.min() < 0 or gi.max() >= geoms.size):
        bad = int(np.flatnonzero((gi < 0) | (gi >= geoms.size))[0])
        raise OptionError(
            f"geom_index[{bad}] = {int(gi[bad])} is not an index into {geoms.size} geometries"
        )

    out = np.full(gi.size, np.nan)
    finite = np.isfinite(xa) & np.isfinite(ya) & ~np.isnan(sa)
    point = np.flatnonzero(finite & (sa <= 0))
    if point.size:
        # For a point and a polygon, intersects is covers: the closed polygon.
        out[point] = shapely.intersects_xy(geoms[gi[point]], xa[point], ya[point])
    spread = np.flatnonzero(finite & (sa > 0))
    if spread.size:
        table = _EdgeTable.build(geoms)
        counts = table.counts[gi[spread]]
        ends = np.cumsum(counts)
        start = 0
        while start < spread.size:
            done = int(ends[start - 1]) if start else 0
            stop = int(np.searchsorted(ends, done + max_pair_edges, side="right"))
            stop = max(stop, start + 1)
            block = spread[start:stop]
            out[block] = table.mass(gi[block], xa[block], ya[block], sa[block])
            start = stop
    return np.clip(out, 0.0, 1.0).reshape(shape)


def _polygon_array(geometries: ArrayLike) -> NDArray[np.object_]:
    geoms = np.asarray(geometries, dtype=object)
    if geoms.ndim != 1:
        raise OptionError(f"geometries must be one-dimensional, not of shape {geoms.shape}")
    type_ids = shapely.get_type_id(geoms)
    wrong = ~np.isin(type_ids, _POLYGON_TYPES)
    if wrong.any():
        bad = int(np.flatnonzero(wrong)[0])
        raise OptionError(
            f"geometries[{bad}] is {_describe(geoms[bad])}, not a Polygon or MultiPolygon "
            "(pass a margin as its buffer polygon)"
        )
    return geoms


def _describe(geometry: Any) -> str:
    if geometry is None:
        return "missing (None)"
    if isinstance(geometry, shapely.Geometry):
        return f"a {geometry.geom_type}"
    return f"a {type(geometry).__name__}"


@dataclass(frozen=True)
class _EdgeTable:
    """All edges of some polygons, exteriors counter-clockwise and holes clockwise.

    The edges of geometry ``g`` are rows ``offsets[g]:offsets[g + 1]``.
    """

    ax: _Array
    ay: _Array
    bx: _Array
    by: _Array
    dx: _Array
    dy: _Array
    length: _Array
    counts: NDArray[np.intp]
    offsets: NDArray[np.intp]

    @classmethod
    def build(cls, geoms: NDArray[np.object_]) -> _EdgeTable:
        parts, part_geom = shapely.get_parts(geoms, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        # get_rings lists each polygon's exterior first, then its holes.
        exterior = np.ones(rings.size, dtype=bool)
        exterior[1:] = ring_part[1:] != ring_part[:-1]
        flip = shapely.is_ccw(rings) != exterior
        coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
        same = coord_ring[1:] == coord_ring[:-1]
        a, b, edge_ring = coords[:-1][same], coords[1:][same], coord_ring[:-1][same]
        flipped = flip[edge_ring]
        a[flipped], b[flipped] = b[flipped], a[flipped]
        d = b - a
        length = np.hypot(d[:, 0], d[:, 1])
        keep = length > 0
        edge_geom = part_geom[ring_part[edge_ring[keep]]]
        counts = np.bincount(edge_geom, minlength=geoms.size).astype(np.intp)
        offsets = np.zeros(geoms.size + 1, dtype=np.intp)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            ax=np.ascontiguousarray(a[keep, 0]),
            ay=np.ascontiguousarray(a[keep, 1]),
            bx=np.ascontiguousarray(b[keep, 0]),
            by=np.ascontiguousarray(b[keep, 1]),
            dx=np.ascontiguousarray(d[keep, 0]),
            dy=np.ascontiguousarray(d[keep, 1]),
            length=length[keep],
            counts=counts,
            offsets=offsets,
        )

    def mass(self, gi: NDArray[np.intp], x: _Array, y: _Array, sigma: _Array) -> _Array:
        """The unclipped mass of each pair (σ > 0, finite coordinates)."""
        from scipy.special import owens_t

        # Overflow gives s/h = ±inf or h = inf, which owens_t and the h cut-off handle exactly.
        with np.errstate(over="ignore"):
            counts = self.counts[gi]
            pair = np.repeat(np.arange(gi.size), counts)
            first = np.cumsum(counts) - counts
            edge = np.arange(pair.size) + np.repeat(self.offsets[gi] - first, counts)
            px, py = x[pair], y[pair]
            ax, ay = self.ax[edge] - px, self.ay[edge] - py
            bx, by = self.bx[edge] - px, self.by[edge] - py
            dx, dy = self.dx[edge], self.dy[edge]
            cross = ax * dy - ay * dx  # A × (B − A) = A × B, signed
            angle = np.arctan2(cross, ax * bx + ay * by)  # the angle AOB, signed
            angle[cross == 0] = 0.0  # the ping on the edge's line: a flat triangle
            term = angle / _TWO_PI
            abs_cross = np.abs(cross)
            h = abs_cross / (self.length[edge] * sigma[pair])
            near = np.flatnonzero((cross != 0) & (h < _T_NEGLIGIBLE_H))
            if near.size:
                ac = abs_cross[near]
                dxn, dyn = dx[near], dy[near]
                t_a = owens_t(h[near], (ax[near] * dxn + ay[near] * dyn) / ac)
                t_b = owens_t(h[near], (bx[near] * dxn + by[near] * dyn) / ac)
                term[near] -= np.sign(cross[near]) * (t_b - t_a)
            return np.asarray(np.bincount(pair, weights=term, minlength=gi.size), dtype=np.float64)
