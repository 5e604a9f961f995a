"""The compiled kernels against shapely, GEOS and scipy, one piece at a time.

The end-to-end exactness of matching is in ``test_match.py``; here each kernel
is held to its own contract: the flat arrays are the geometry, a certified
location is GEOS's and a distance is GEOS's to the bit, a deferral happens only
on or next to a boundary, Owen's T and the three ways of computing ``p_inside``
stay within their stated errors of scipy's exact formula.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import owens_t

import fencecheck as fc
from fencecheck._compiled.flat import FlatGeometry
from fencecheck._compiled.mass import (
    GREEN_MAX_EDGE_SIGMAS,
    MOMENT_MAX_RHO,
    FenceMoments,
    FencePieces,
    gaussian_mass_block,
    owens_t_fast,
    owens_tables,
)
from fencecheck._compiled.match import INSIDE, OUTSIDE, UNDECIDED, locate_fence
from fencecheck.errors import OptionError
from fencecheck.probability import gaussian_mass
from strategies import planar_fence

from support import SAMPLES


@st.composite
def star_polygon(draw: Any) -> Any:
    """An irregular star polygon with float vertices, maybe a hole, maybe two parts."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 40))
    radius = float(rng.uniform(20, 600))
    cx, cy = rng.uniform(-1000, 1000, 2)

    def ring(scale: float, dx: float = 0.0) -> Any:
        angles = np.sort(rng.uniform(0, 2 * np.pi, k))
        r = radius * scale * rng.uniform(0.55, 1.0, k)
        return np.column_stack([cx + dx + r * np.cos(angles), cy + r * np.sin(angles)])

    shell = ring(1.0)
    holes = [ring(0.3)] if draw(st.booleans()) else []
    polygon = shapely.Polygon(shell, holes)
    if draw(st.booleans()):
        polygon = shapely.MultiPolygon([polygon, shapely.Polygon(ring(0.5, dx=3 * radius))])
    assume(polygon.is_valid)
    return polygon


def test_flat_geometry_holds_every_ring_in_order() -> None:
    fences = fc.read_fences(SAMPLES / "fences.geojson")
    geometry = fc.FenceIndex.build(fences).geometry
    flat = FlatGeometry.from_shapely(geometry)
    assert len(flat) == len(geometry)
    for f, g in enumerate(geometry):
        parts = shapely.get_parts(g)
        span = range(flat.fence_part[f], flat.fence_part[f + 1])
        assert len(span) == len(parts)
        for p, part in zip(span, parts, strict=True):
            rings = shapely.get_rings(part) if not flat.part_point[p] else [part]
            ring_span = range(flat.part_ring[p], flat.part_ring[p + 1])
            assert len(ring_span) == len(rings)
            for r, ring in zip(ring_span, rings, strict=True):
                lo, hi = flat.ring_vertex[r], flat.ring_vertex[r + 1]
                got = np.column_stack([flat.x[lo:hi], flat.y[lo:hi]])
                assert np.array_equal(got, shapely.get_coordinates(ring))


@settings(max_examples=60, deadline=None)
@given(fences=st.lists(planar_fence(), min_size=1, max_size=5))
def test_flat_geometry_rebuilds_the_shapes(fences: list[tuple[Any, float]]) -> None:
    geometry = np.array([g for g, _ in fences], dtype=object)
    flat = FlatGeometry.from_shapely(geometry)
    for f, g in enumerate(geometry):
        polygons, points = [], []
        for p in range(flat.fence_part[f], flat.fence_part[f + 1]):
            rings = [
                np.column_stack(
                    [
                        flat.x[flat.ring_vertex[r] : flat.ring_vertex[r + 1]],
                        flat.y[flat.ring_vertex[r] : flat.ring_vertex[r + 1]],
                    ]
                )
                for r in range(flat.part_ring[p], flat.part_ring[p + 1])
            ]
            if flat.part_point[p]:
                points.append(shapely.Point(rings[0][0]))
            else:
                polygons.append(shapely.Polygon(rings[0], rings[1:]))
        rebuilt = shapely.union_all(polygons + points)
        assert shapely.equals(rebuilt, g)


def _locate(geometry: Any, x: float, y: float) -> tuple[int, float]:
    flat = FlatGeometry.from_shapely(np.array([geometry], dtype=object))
    return locate_fence(
        x, y, 0, flat.fence_part, flat.part_ring, flat.part_point, flat.ring_vertex, flat.x, flat.y
    )


@settings(max_examples=80, deadline=None)
@given(polygon=star_polygon(), seed=st.integers(0, 2**32 - 1))
def test_a_certified_location_and_every_distance_are_geos_own(polygon: Any, seed: int) -> None:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = polygon.bounds
    coords = shapely.get_coordinates(polygon)
    vertex = coords[rng.integers(0, coords.shape[0], 10)]
    rings = shapely.get_rings(shapely.get_parts(polygon))
    ring_coords, ring = shapely.get_coordinates(rings, return_index=True)
    real = np.flatnonzero(ring[:-1] == ring[1:])  # segments within one ring
    k = real[rng.integers(0, real.shape[0], 10)]
    t = rng.uniform(0, 1, (10, 1))
    on_edge = ring_coords[k] + t * (ring_coords[k + 1] - ring_coords[k])  # up to rounding
    inside = np.column_stack([rng.uniform(minx, maxx, 40), rng.uniform(miny, maxy, 40)])
    for x, y in np.vstack([vertex, on_edge, inside]):
        where, d = _locate(polygon, x, y)
        point = shapely.Point(x, y)
        assert d == shapely.distance(polygon.boundary, point)  # to the last bit
        if where == UNDECIDED:
            assert d < 1e-6  # deferred only on or next to the boundary
        else:
            assert (where == INSIDE) == polygon.contains(point) == polygon.covers(point)
    for x, y in vertex:
        assert _locate(polygon, x, y)[0] == UNDECIDED  # a vertex is always left to GEOS


def test_points_on_axis_parallel_edges_are_left_to_geos() -> None:
    square = shapely.Polygon(
        [(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (4, 6), (6, 6), (6, 4)]]
    )
    assert _locate(square, 5.0, 0.0)[0] == UNDECIDED
    assert _locate(square, 10.0, 5.0)[0] == UNDECIDED
    assert _locate(square, 4.0, 5.0)[0] == UNDECIDED  # the hole's edge
    assert _locate(square, 5.0, 5.0) == (OUTSIDE, 1.0)  # in the hole
    assert _locate(square, 2.0, 5.0) == (INSIDE, 2.0)
    assert _locate(square, -3.0, 14.0) == (OUTSIDE, 5.0)


def test_a_venue_is_never_inside() -> None:
    venue = shapely.MultiPoint([(0, 0), (30, 40)])
    assert _locate(venue, 0.0, 0.0) == (OUTSIDE, 0.0)
    assert _locate(venue, 30.0, 0.0) == (OUTSIDE, 30.0)


def test_owens_t_from_tables_is_within_2e_8_of_scipy() -> None:
    t_table, phi_table = owens_tables()
    rng = np.random.default_rng(7)
    h = np.concatenate([rng.uniform(-9, 9, 20_000), rng.uniform(0, 1e-3, 2000), [0.0, 8.5, 20]])
    a = np.concatenate([rng.standard_cauchy(h.shape[0] - 6) * 3, [0, 1, -1, 1e9, -1e-9, 1]])
    got = np.array([owens_t_fast(hh, aa, t_table, phi_table) for hh, aa in zip(h, a, strict=True)])
    assert np.abs(got - owens_t(h, a)).max() < 2e-8


def _mass(
    geometry: Any, x: Any, y: Any, sigma: Any, moments: bool = True, pieces: bool = False
) -> Any:
    oriented = shapely.orient_polygons(np.array([geometry], dtype=object), exterior_cw=False)
    flat = FlatGeometry.from_shapely(oriented)
    model = FenceMoments(flat)
    fence = np.zeros(len(x), dtype=np.int64)
    if moments:
        model.ensure(fence)
    quarters = FencePieces(np.array([geometry], dtype=object), model.center)
    if pieces:
        quarters.moments.ensure(np.arange(4))
    t_table, phi_table = owens_tables()
    out = np.empty(len(x))
    gaussian_mass_block(
        np.asarray(x, dtype=np.float64),
        np.asarray(y, dtype=np.float64),
        np.asarray(sigma, dtype=np.float64),
        fence,
        flat.fence_part,
        flat.part_ring,
        flat.ring_vertex,
        flat.x,
        flat.y,
        t_table,
        phi_table,
        model.center,
        model.radius,
        model.moments,
        model.row,
        model.longest_edge,
        quarters.reach if pieces else np.full(1, np.inf),
        quarters.moments.center,
        quarters.moments.radius,
        quarters.moments.moments,
        quarters.moments.row,
        quarters.empty,
        out,
    )
    return out, model


@settings(max_examples=60, deadline=None)
@given(polygon=star_polygon(), seed=st.integers(0, 2**32 - 1))
def test_p_inside_is_within_1e_6_of_the_exact_formula_by_every_method(
    polygon: Any, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = polygon.bounds
    span = max(maxx - minx, maxy - miny)
    n = 30
    x = rng.uniform(minx - span / 2, maxx + span / 2, n)
    y = rng.uniform(miny - span / 2, maxy + span / 2, n)
    sigma = span * np.exp(rng.uniform(np.log(0.005), np.log(5.0), n))
    got, _model = _mass(polygon, x, y, sigma)
    bare, _ = _mass(polygon, x, y, sigma, moments=False)
    expected = np.array([gaussian_mass(polygon, *args) for args in zip(x, y, sigma, strict=True)])
    assert np.abs(got - expected).max() < 1e-6
    assert np.abs(bare - expected).max() < 1e-6
    # Cut into quarters (with more vertices, so that the quarters are worth it more often)
    dense = shapely.segmentize(polygon, span / 16)
    quartered, _ = _mass(dense, x, y, sigma, moments=False, pieces=True)
    assert np.abs(quartered - expected).max() < 1e-6


@pytest.mark.parametrize("method", ["moments", "green", "edges"])
def test_each_method_is_taken_where_it_should_be_and_is_accurate(method: str) -> None:
    # a 600 m fence with a courtyard, segmented into 15 m edges
    shell = shapely.Point(0, 0).buffer(600.0, quad_segs=64)
    fence = shapely.segmentize(
        shapely.Polygon(shell.exterior, [shapely.box(-100, -100, 100, 100).exterior]), 15.0
    )
    sigma = {"moments": 900.0, "green": 100.0, "edges": 8.0}[method]
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-700, 700, (2, 40))
    got, model = _mass(fence, x, y, np.full(40, sigma))
    by_moments = model.radius[0] <= MOMENT_MAX_RHO * sigma
    by_green = not by_moments and model.longest_edge[0] <= GREEN_MAX_EDGE_SIGMAS * sigma
    assert {"moments": by_moments, "green": by_green, "edges": not (by_moments or by_green)}[method]
    expected = np.array([gaussian_mass(fence, a, b, sigma) for a, b in zip(x, y, strict=True)])
    assert np.abs(got - expected).max() < 1e-6


def test_moments_method_covers_large_discs_over_small_fences() -> None:
    # docs/domain.md's example: a 1,500 m cell fix at the centre of a 100 m compound
    compound = shapely.Point(0, 0).buffer(100.0, quad_segs=64)
    sigma = 1500.0 / 1.5096
    got, model = _mass(compound, [0.0, 150.0, 900.0], [0.0, 0.0, -400.0], [sigma] * 3)
    assert model.radius[0] <= MOMENT_MAX_RHO * sigma and model.has[0]
    expected = [gaussian_mass(compound, x, y, sigma) for x, y in [(0, 0), (150, 0), (900, -400)]]
    assert np.allclose(got, expected, rtol=0, atol=1e-9)
    assert round(got[0], 4) == 0.0051
    # the zeroth and first moments are the area and the centroid
    m = model.moments[model.row[0]]
    r = model.radius[0]
    assert math.isclose(m[0] * r * r, compound.area, rel_tol=1e-12)
    centroid = shapely.get_coordinates(compound.centroid)[0] - model.center[0]
    assert np.allclose(np.array([m[1], m[2]]) * r**3 / compound.area, centroid, atol=1e-9)


def _moments_by_quadrature(geometry: Any, center: Any, radius: float) -> Any:
    """Green's theorem, ``∮ u^(i+1) v^j / (i+1) dv``, by Gauss-Legendre on each edge (exact)."""
    from fencecheck._compiled.mass import MOMENT_DEGREE

    nodes, weights = np.polynomial.legendre.leggauss(MOMENT_DEGREE // 2 + 2)
    nodes, weights = (nodes + 1) / 2, weights / 2
    total = np.zeros((MOMENT_DEGREE + 1, MOMENT_DEGREE + 1))
    oriented = shapely.orient_polygons(geometry, exterior_cw=False)
    for ring in shapely.get_rings(shapely.get_parts(oriented)):
        xy = (shapely.get_coordinates(ring) - center) / radius
        for (u0, v0), (u1, v1) in itertools.pairwise(xy):
            u = u0 + nodes * (u1 - u0)
            v = v0 + nodes * (v1 - v0)
            upow = u[None, :] ** np.arange(1, MOMENT_DEGREE + 2)[:, None]
            vpow = v[None, :] ** np.arange(MOMENT_DEGREE + 1)[:, None]
            edge = (upow * weights * (v1 - v0)) @ vpow.T  # [i, j] for u^(i+1) v^j
            total += edge / np.arange(1, MOMENT_DEGREE + 2)[:, None]
    return np.array([total[d - j, j] for d in range(MOMENT_DEGREE + 1) for j in range(d + 1)])


@settings(max_examples=40, deadline=None)
@given(polygon=star_polygon())
def test_area_moments_in_closed_form_equal_green_by_quadrature(polygon: Any) -> None:
    """The triangle recurrence gives every moment to rounding: the series that reads
    them needs no more than 1e-9."""
    _, model = _mass(polygon, [0.0], [0.0], [1e9])
    got = model.moments[model.row[0]]
    expected = _moments_by_quadrature(polygon, model.center[0], float(model.radius[0]))
    assert np.abs(got - expected).max() < 1e-12
    # a box with a hole: the moments of rectangles, in closed form
    box = shapely.Polygon(shapely.box(-3, -1, 5, 2).exterior, [shapely.box(0, 0, 1, 1).exterior])
    _, model = _mass(box, [0.0], [0.0], [1e9])
    r, (cx, cy) = float(model.radius[0]), model.center[0]

    def rect(x0: float, y0: float, x1: float, y1: float, i: int, j: int) -> float:
        ux = ((x1 - cx) / r) ** (i + 1) - ((x0 - cx) / r) ** (i + 1)
        vy = ((y1 - cy) / r) ** (j + 1) - ((y0 - cy) / r) ** (j + 1)
        return ux * vy / ((i + 1) * (j + 1))

    m = 0
    row = model.moments[model.row[0]]
    for d in range(12):
        for j in range(d + 1):
            exact = rect(-3, -1, 5, 2, d - j, j) - rect(0, 0, 1, 1, d - j, j)
            assert abs(row[m] - exact) < 1e-13
            m += 1


def test_a_ping_on_a_grown_edge_or_with_no_sigma_is_handed_back() -> None:
    square = shapely.box(0, 0, 100, 100)
    got, _ = _mass(square, [100.0, 50.0, 50.0], [50.0, 50.0, 50.0], [5.0, 0.0, np.inf])
    assert np.isnan(got).all()


def test_threads_and_blocks_do_not_change_the_hits() -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    one = index.match(pings, mode="disc", threads=1)
    three = fc.match(pings, index, mode="disc", threads=3, block_pings=37)
    for name in ("ping", "fence", "window_start", "inside", "depth_m", "p_inside"):
        assert np.array_equal(getattr(one, name), getattr(three, name)), name


@pytest.mark.parametrize("threads", [0, -1, 1.5, True, "2"])
def test_a_bad_thread_count_is_an_option_error(threads: Any) -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    with pytest.raises(OptionError, match="threads"):
        index.match(pings, threads=threads)


def test_quarters_take_a_fence_too_large_for_its_own_series() -> None:
    """A cell fix over a round fence a little too large for its series (a hole in it):
    four series."""
    disc = (
        shapely.Point(0, 0)
        .buffer(100.0, quad_segs=16)
        .difference(shapely.Point(30, 0).buffer(20.0))
    )
    quarters = FencePieces(np.array([disc], dtype=object), np.zeros((1, 2)))
    sigma = 100.0 / (1.2 * MOMENT_MAX_RHO)
    assert 100.0 > MOMENT_MAX_RHO * sigma >= quarters.reach[0]  # the quarters, not the whole
    x = np.array([0.0, 30.0, 150.0, -90.0, 400.0])
    y = np.array([0.0, 0.0, 40.0, -60.0, 0.0])
    got, _ = _mass(disc, x, y, np.full(5, sigma), moments=True, pieces=True)
    expected = [gaussian_mass(disc, a, b, sigma) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(got, expected, atol=1e-7)


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 3),  # group
            st.booleans(),  # eligible
            st.sampled_from([0.0, 60.0, 600.0]),  # dwell: many ties
            st.sampled_from([0.2, 0.9, 1.0, float("nan")]),  # p, NaN included
            st.integers(0, 3),  # entry
            st.integers(0, 2),  # fence
        ),
        min_size=1,
        max_size=40,
    )
)
def test_best_per_group_is_the_first_of_a_stable_sort(rows: list[tuple[Any, ...]]) -> None:
    from fencecheck._compiled.episodes import best_per_group

    columns = [np.array(c) for c in zip(*rows, strict=True)]
    group, eligible, dwell, p, entry, fence = columns
    got = best_per_group(
        group.astype(np.int64), eligible.astype(bool), dwell.astype(np.float64),
        p.astype(np.float64), entry.astype(np.int64), fence.astype(np.int64), 4,
    )  # fmt: skip
    # The reference: numpy's stable lexsort (NaN sorts last), first row per group.
    candidates = np.flatnonzero(eligible)
    order = np.lexsort((fence[candidates], entry[candidates], -p[candidates],
                        -dwell[candidates], group[candidates]))  # fmt: skip
    expected = np.full(4, -1)
    for k in candidates[order][::-1]:
        expected[group[k]] = k
    assert got.tolist() == expected.tolist()


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=50),
    sort=st.booleans(),
)
def test_pairs_of_rows_are_their_distinct_person_fence_pairs(
    rows: list[tuple[int, int]], sort: bool
) -> None:
    from fencecheck._compiled.groupby import pairs_of

    if sort:
        rows = sorted(rows, key=lambda r: r[0])  # by person only: fences in any order
    person = np.array([r[0] for r in rows], dtype=np.int32)
    fence = np.array([r[1] for r in rows], dtype=np.int64)
    pair, who, where = pairs_of(person, fence, 6)
    assert sorted(zip(who.tolist(), where.tolist(), strict=True)) == sorted(set(rows))
    assert len(set(zip(who.tolist(), where.tolist(), strict=True))) == who.shape[0]
    assert (who[pair] == person).all() and (where[pair] == fence).all()
