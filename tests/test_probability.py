"""p_inside: the exact Gaussian mass of a polygon, against Monte Carlo and closed forms."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr
from scipy.stats import chi2

from fencecheck.errors import OptionError
from fencecheck.probability import (
    DEFAULT_MAX_PAIR_EDGES,
    SIGMA_PER_ACCURACY,
    gaussian_mass,
    gaussian_mass_pairs,
    p_inside_straight_edge,
    sigma_from_accuracy,
)

# Canonical geometries, in metres.
HUGE = shapely.box(-1e6, -1e6, 1e6, 1e6)  # a half-plane / quadrant near its edges
SQUARE = shapely.box(0, 0, 100, 100)
WITH_HOLE = shapely.Polygon(
    [(0, 0), (300, 0), (300, 200), (0, 200)], [[(100, 50), (100, 150), (200, 150), (200, 50)]]
)
MULTI = shapely.MultiPolygon([shapely.box(0, 0, 100, 100), shapely.box(150, -40, 260, 30)])
EMPTY = shapely.Polygon()

# Monte Carlo reference: one seeded set of standard normal draws, shifted and scaled.
MC_N = 200_000  # standard deviation of a frequency <= 0.5 / sqrt(MC_N) = 0.0011
MC_Z = np.random.default_rng(20220428).standard_normal((MC_N, 2))


def monte_carlo(geometry: shapely.Geometry, x: float, y: float, sigma: float) -> float:
    """The share of N((x, y), sigma^2 I) samples strictly inside the geometry."""
    shapely.prepare(geometry)
    inside = shapely.contains_xy(geometry, x + sigma * MC_Z[:, 0], y + sigma * MC_Z[:, 1])
    return float(inside.mean())


def mc_tolerance(p: float) -> float:
    """Five standard deviations of the Monte Carlo frequency, plus a floor for tiny p."""
    return 5.0 * math.sqrt(max(p * (1.0 - p), 0.0) / MC_N) + 10.0 / MC_N


def regular_polygon(radius: float, n: int, cx: float = 0.0, cy: float = 0.0) -> shapely.Polygon:
    theta = 2 * np.pi * np.arange(n) / n
    return shapely.Polygon(
        np.column_stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)])
    )


def reoriented(polygon: shapely.Polygon, exterior_ccw: bool, holes_ccw: bool) -> shapely.Polygon:
    def ring(r: shapely.LinearRing, ccw: bool) -> list[tuple[float, float]]:
        coords = list(r.coords)
        return coords if r.is_ccw == ccw else coords[::-1]

    return shapely.Polygon(
        ring(polygon.exterior, exterior_ccw), [ring(h, holes_ccw) for h in polygon.interiors]
    )


# ---------------------------------------------------------------------------------------------
# The accuracy -> sigma constant


def test_sigma_per_accuracy_is_the_68_percent_radius_of_a_2d_gaussian() -> None:
    # |X|^2 of a standard 2-D Gaussian is chi-squared with 2 degrees of freedom.
    radius = 1.0 / SIGMA_PER_ACCURACY
    assert radius == pytest.approx(1.5096, abs=1e-12)
    assert chi2.cdf(radius**2, df=2) == pytest.approx(0.68, abs=1e-5)
    assert math.sqrt(chi2.ppf(0.68, df=2)) == pytest.approx(radius, abs=1e-4)
    # 1.5096 is the 68 % radius, not the 68.27 % ("one sigma" in 1-D) one.
    assert math.sqrt(chi2.ppf(0.6827, df=2)) - radius > 0.005


def test_sigma_from_accuracy() -> None:
    assert sigma_from_accuracy(1500.0) == pytest.approx(1500.0 / 1.5096, rel=1e-15)
    assert isinstance(sigma_from_accuracy(20), float)
    out = sigma_from_accuracy(np.array([[15.096, np.nan]], dtype=np.float32))
    assert out.dtype == np.float64 and out.shape == (1, 2)
    assert out[0, 0] == pytest.approx(10.0, rel=1e-6) and np.isnan(out[0, 1])


# ---------------------------------------------------------------------------------------------
# Monte Carlo agreement on random star-shaped fences with holes and several parts.
# Strategies are kept here until the suite has a shared strategies module.


@st.composite
def star_rings(draw: st.DrawFn, cx: float, cy: float, r_max: float) -> np.ndarray:
    """A star-shaped ring around (cx, cy), radii in [r_max / 2, r_max].

    Angles are spread with gaps of at most 0.6 pi, so the ring contains the disc of
    radius r_max / 2 * cos(0.3 pi) = 0.29 r_max around its centre.
    """
    n = draw(st.integers(6, 14))
    jitter = np.array(draw(st.lists(st.floats(0.0, 0.8), min_size=n, max_size=n)))
    radius = r_max * np.array(draw(st.lists(st.floats(0.5, 1.0), min_size=n, max_size=n)))
    theta = 2 * np.pi * (np.arange(n) + jitter) / n
    ring = np.column_stack([cx + radius * np.cos(theta), cy + radius * np.sin(theta)])
    return ring if draw(st.booleans()) else ring[::-1]  # either orientation


@st.composite
def star_fences(draw: st.DrawFn) -> tuple[shapely.Geometry, float, float, float]:
    """(fence, cx, cy, r_max): a star polygon, maybe with a hole, maybe with a second part."""
    r_max = 10 ** draw(st.floats(1.3, 3.5))  # 20 m to 3 km
    cx = draw(st.floats(-30_000, 30_000))
    cy = draw(st.floats(-30_000, 30_000))
    shell = draw(star_rings(cx, cy, r_max))
    holes = [draw(star_rings(cx, cy, 0.25 * r_max))] if draw(st.booleans()) else []
    parts = [shapely.Polygon(shell, holes)]
    if draw(st.booleans()):
        r2 = r_max * draw(st.floats(0.2, 1.0))
        shell2 = draw(star_rings(cx + 2.5 * r_max, cy, r2))
        holes2 = [draw(star_rings(cx + 2.5 * r_max, cy, 0.25 * r2))] if draw(st.booleans()) else []
        parts.append(shapely.Polygon(shell2, holes2))
    fence = parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)
    assert fence.is_valid, shapely.is_valid_reason(fence)
    return fence, cx, cy, r_max


@dataclass(frozen=True)
class PingSpots:
    vertex: int
    edge: int
    along: float
    near_u: float
    near_v: float
    far_angle: float


ping_spots = st.builds(
    PingSpots,
    vertex=st.integers(0, 1000),
    edge=st.integers(0, 1000),
    along=st.floats(0.0, 1.0),
    near_u=st.floats(-1.0, 1.0),
    near_v=st.floats(-1.0, 1.0),
    far_angle=st.floats(0.0, 2 * np.pi),
)


@settings(max_examples=60, deadline=None)
@given(fence=star_fences(), log_sigma=st.floats(1.0, 3.0), spots=ping_spots)
def test_mass_agrees_with_monte_carlo(
    fence: tuple[shapely.Geometry, float, float, float], log_sigma: float, spots: PingSpots
) -> None:
    geometry, cx, cy, r_max = fence
    sigma = 10**log_sigma  # 10 m to 1 km, log-uniform
    coords = shapely.get_coordinates(shapely.get_rings(shapely.get_parts(geometry)))
    vertex = coords[spots.vertex % len(coords)]
    rings = shapely.get_rings(shapely.get_parts(geometry))
    ring = shapely.get_coordinates(rings[spots.edge % len(rings)])
    k = spots.edge % (len(ring) - 1)
    on_edge = ring[k] + spots.along * (ring[k + 1] - ring[k])
    reach = r_max + 2 * sigma
    pings = np.array(
        [
            (cx, cy),  # the centre: deep inside, or in the hole
            tuple(vertex),  # on a vertex
            tuple(on_edge),  # on an edge
            (cx + spots.near_u * reach, cy + spots.near_v * reach),  # around: inside or outside
            (  # far away
                cx + (4 * r_max + 8 * sigma) * math.cos(spots.far_angle),
                cy + (4 * r_max + 8 * sigma) * math.sin(spots.far_angle),
            ),
        ]
    )
    exact = gaussian_mass(geometry, pings[:, 0], pings[:, 1], sigma)
    assert np.all((exact >= 0) & (exact <= 1))
    for (x, y), p in zip(pings, exact, strict=True):
        reference = monte_carlo(geometry, x, y, sigma)
        error = abs(p - reference)
        assert error <= 0.02, f"ping ({x}, {y}): exact {p}, Monte Carlo {reference}"
        assert error <= mc_tolerance(p), f"ping ({x}, {y}): exact {p}, Monte Carlo {reference}"


def test_domain_example_cell_fix_at_the_centre_of_a_small_compound() -> None:
    # docs/domain.md: a 1,500 m cell fix at the centre of a 100 m compound has p_inside ~ 0.005,
    # not the 0.54 of the straight-edge formula. "100 m" is the compound's radius (the
    # depth of its centre): a disc of radius 100 m, here a 256-gon.
    sigma = sigma_from_accuracy(1500.0)
    compound = regular_polygon(100.0, 256)
    p = gaussian_mass(compound, 0.0, 0.0, sigma)
    assert p == pytest.approx(0.005, abs=1e-4)
    assert p == pytest.approx(-math.expm1(-(100.0**2) / (2 * sigma**2)), rel=2e-4)
    assert abs(p - monte_carlo(compound, 0.0, 0.0, sigma)) <= mc_tolerance(p)
    assert p_inside_straight_edge(100.0, sigma) == pytest.approx(0.54, abs=0.001)
    # A 100 m x 100 m compound (depth 50 m at its centre) holds even less: about its area
    # over 2 pi sigma^2, against 0.52 from the straight-edge formula.
    square = shapely.box(-50, -50, 50, 50)
    p_square = gaussian_mass(square, 0.0, 0.0, sigma)
    assert p_square == pytest.approx(1e4 / (2 * math.pi * sigma**2), rel=2e-3)
    assert p_square == pytest.approx(0.0016, abs=1e-4)
    assert abs(p_square - monte_carlo(square, 0.0, 0.0, sigma)) <= mc_tolerance(p_square)
    assert p_inside_straight_edge(50.0, sigma) == pytest.approx(0.52, abs=0.001)


# ---------------------------------------------------------------------------------------------
# Exact special cases


@pytest.mark.parametrize("sigma", [0.5, 30.0, 1000.0, 20_000.0])
def test_huge_square_edge_is_a_half_plane_and_its_corner_a_quadrant(sigma: float) -> None:
    x = np.array([0.0, 1e6, 1e6, -1e6, 0.0, 333.25])
    y = np.array([-1e6, 0.0, 1e6, -1e6, 1e6, 1e6])
    expected = np.array([0.5, 0.5, 0.25, 0.25, 0.5, 0.5])
    np.testing.assert_allclose(gaussian_mass(HUGE, x, y, sigma), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("sigma", [1.0, 40.0, 100.0, 250.0, 5000.0])
def test_centre_of_a_regular_256_gon_is_almost_the_disc_formula(sigma: float) -> None:
    r = 100.0
    p = gaussian_mass(regular_polygon(r, 256, 500.0, -700.0), 500.0, -700.0, sigma)
    # The 256-gon lies between the discs of radius r cos(pi / 256) and r, so its mass lies
    # between their masses 1 - exp(-rho^2 / 2 sigma^2): within 1.6e-4 relative of the disc's.
    inner = -math.expm1(-((r * math.cos(math.pi / 256)) ** 2) / (2 * sigma**2))
    outer = -math.expm1(-(r**2) / (2 * sigma**2))
    assert inner - 1e-15 <= p <= outer + 1e-15
    assert p == pytest.approx(outer, rel=1.6e-4)


@pytest.mark.parametrize("depth", [-400.0, -60.0, -1.0, 0.0, 1.0, 25.0, 100.0, 400.0])
@pytest.mark.parametrize("sigma", [10.0, 100.0, 1000.0])
def test_straight_edge_formula_far_from_corners(depth: float, sigma: float) -> None:
    # The ping is `depth` metres inside the bottom edge of a 2,000 km square.
    p = gaussian_mass(HUGE, 12_345.0, -1e6 + depth, sigma)
    assert p == pytest.approx(ndtr(depth / sigma), abs=1e-12)
    assert p_inside_straight_edge(depth, sigma) == pytest.approx(ndtr(depth / sigma), abs=1e-15)


def test_straight_edge_formula_is_wrong_for_a_small_fence() -> None:
    sigma = sigma_from_accuracy(1500.0)
    p = gaussian_mass(regular_polygon(100.0, 256), 0.0, 0.0, sigma)
    assert p_inside_straight_edge(100.0, sigma) / p > 100


def test_huge_sigma_over_a_small_polygon_gives_area_over_2_pi_sigma_squared() -> None:
    sigma = 10_000.0
    for polygon in (SQUARE, WITH_HOLE, MULTI):
        for x, y in [(50.0, 50.0), (150.0, 100.0), (-300.0, 200.0)]:
            p = gaussian_mass(polygon, x, y, sigma)
            assert p == pytest.approx(polygon.area / (2 * math.pi * sigma**2), rel=2e-3)


def test_far_away_the_mass_vanishes_and_infinite_sigma_gives_zero() -> None:
    p = gaussian_mass(SQUARE, [50.0, 5_050.0, 1e5], [-5_000.0, 50.0, 1e5], 100.0)
    assert np.all(p >= 0) and np.all(p < 1e-15)
    assert gaussian_mass(SQUARE, 50.0, 50.0, math.inf) == 0.0
    # deep inside: 1 up to rounding
    assert gaussian_mass(HUGE, 0.0, 0.0, 1000.0) == pytest.approx(1.0, abs=1e-14)


def test_disjoint_parts_add_up() -> None:
    a, b = shapely.get_parts(MULTI)
    x = np.array([50.0, 120.0, 200.0, -80.0, 0.0, 150.0])
    y = np.array([50.0, 0.0, 0.0, 300.0, 0.0, 30.0])
    for sigma in (5.0, 60.0, 700.0):
        total = gaussian_mass(a, x, y, sigma) + gaussian_mass(b, x, y, sigma)
        np.testing.assert_allclose(gaussian_mass(MULTI, x, y, sigma), total, rtol=0, atol=1e-13)


def test_a_hole_subtracts() -> None:
    outer = shapely.Polygon(WITH_HOLE.exterior)
    hole = shapely.Polygon(WITH_HOLE.interiors[0])
    x = np.array([150.0, 100.0, 100.0, 20.0, 400.0, 300.0])
    y = np.array([100.0, 100.0, 50.0, 20.0, 100.0, 200.0])
    for sigma in (5.0, 60.0, 700.0):
        expected = gaussian_mass(outer, x, y, sigma) - gaussian_mass(hole, x, y, sigma)
        got = gaussian_mass(WITH_HOLE, x, y, sigma)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)
    # in the middle of the hole with a small sigma: nothing inside
    assert gaussian_mass(WITH_HOLE, 150.0, 100.0, 5.0) < 1e-15


@pytest.mark.parametrize("exterior_ccw", [True, False])
@pytest.mark.parametrize("holes_ccw", [True, False])
def test_ring_orientation_does_not_matter(exterior_ccw: bool, holes_ccw: bool) -> None:
    polygon = reoriented(WITH_HOLE, exterior_ccw, holes_ccw)
    assert polygon.exterior.is_ccw == exterior_ccw
    assert polygon.interiors[0].is_ccw == holes_ccw
    x = np.array([150.0, 50.0, 100.0, 300.0, -50.0])
    y = np.array([100.0, 100.0, 50.0, 200.0, -50.0])
    reference = gaussian_mass(reoriented(WITH_HOLE, True, False), x, y, 80.0)
    assert reference[1] > 0.4  # a ping in the solid part
    np.testing.assert_allclose(gaussian_mass(polygon, x, y, 80.0), reference, rtol=0, atol=1e-14)
    multi = shapely.MultiPolygon([polygon, shapely.box(400, 0, 500, 100)])
    assert gaussian_mass(multi, 150.0, 100.0, 80.0) > gaussian_mass(polygon, 150.0, 100.0, 80.0)


def test_repeated_vertices_change_nothing() -> None:
    doubled = shapely.Polygon([(0, 0), (100, 0), (100, 0), (100, 100), (0, 100), (0, 100)])
    x, y = np.array([50.0, 100.0, 130.0]), np.array([50.0, 0.0, 50.0])
    np.testing.assert_allclose(
        gaussian_mass(doubled, x, y, 40.0), gaussian_mass(SQUARE, x, y, 40.0), rtol=0, atol=1e-15
    )


@settings(max_examples=40, deadline=None)
@given(
    dx=st.floats(-40_000, 40_000),
    dy=st.floats(-40_000, 40_000),
    log_sigma=st.floats(0.0, 4.0),
    u=st.floats(-0.5, 1.5),
    v=st.floats(-0.5, 1.5),
)
def test_translation_invariance(dx: float, dy: float, log_sigma: float, u: float, v: float) -> None:
    sigma = 10**log_sigma
    x, y = 300.0 * u, 200.0 * v
    moved = shapely.affinity.translate(WITH_HOLE, dx, dy)
    here = gaussian_mass(WITH_HOLE, x, y, sigma)
    there = gaussian_mass(moved, x + dx, y + dy, sigma)
    assert there == pytest.approx(here, abs=1e-9)


# ---------------------------------------------------------------------------------------------
# Shapes, NaN, sigma = 0


def test_scalars_give_floats_and_arrays_broadcast() -> None:
    p = gaussian_mass(SQUARE, 50.0, 50.0, 30.0)
    assert isinstance(p, float) and 0.8 < p < 1.0
    assert isinstance(gaussian_mass(SQUARE, np.float32(50), 50, 30), float)
    x = np.array([[0.0], [50.0], [120.0]])  # (3, 1)
    y = np.array([0.0, 50.0, 100.0, 200.0])  # (4,)
    sigma = np.array([[10.0, 20.0, 30.0, 40.0]])  # (1, 4)
    grid = gaussian_mass(SQUARE, x, y, sigma)
    assert grid.shape == (3, 4) and grid.dtype == np.float64
    for i in range(3):
        for j in range(4):
            one = gaussian_mass(SQUARE, float(x[i, 0]), float(y[j]), float(sigma[0, j]))
            assert grid[i, j] == pytest.approx(one, abs=1e-15)
    assert gaussian_mass(SQUARE, [], [], 10.0).shape == (0,)


def test_nan_in_nan_out() -> None:
    x = np.array([np.nan, 50.0, 50.0, np.inf, 50.0, 50.0])
    y = np.array([50.0, np.nan, 50.0, 50.0, 50.0, 50.0])
    sigma = np.array([10.0, 10.0, np.nan, 10.0, 0.0, 10.0])
    p = gaussian_mass(SQUARE, x, y, sigma)
    assert np.isnan(p[:4]).all()
    assert p[4] == 1.0 and 0.99 < p[5] < 1.0


def test_zero_sigma_is_the_covers_indicator() -> None:
    # a grid through WITH_HOLE's vertices and edges: inside, outside, on both boundaries
    xs, ys = np.meshgrid(np.arange(-50.0, 351.0, 25.0), np.arange(-50.0, 251.0, 25.0))
    x, y = xs.ravel(), ys.ravel()
    covers = np.array([WITH_HOLE.covers(shapely.Point(a, b)) for a, b in zip(x, y, strict=True)])
    on_boundary = np.array(
        [WITH_HOLE.boundary.intersects(shapely.Point(a, b)) for a, b in zip(x, y, strict=True)]
    )
    assert on_boundary.sum() > 20 and (~covers).sum() > 20  # the grid does test all three
    for sigma in (0.0, -1.0):
        p = gaussian_mass(WITH_HOLE, x, y, sigma)
        np.testing.assert_array_equal(p, covers.astype(float))
    assert gaussian_mass(SQUARE, 100.0, 50.0, 0.0) == 1.0  # on an edge
    assert gaussian_mass(SQUARE, 100.0, 100.0, 0.0) == 1.0  # on a vertex
    assert gaussian_mass(SQUARE, 100.0 + 1e-9, 50.0, 0.0) == 0.0


def test_empty_polygon_has_no_mass() -> None:
    np.testing.assert_array_equal(gaussian_mass(EMPTY, [0.0, 0.0], [0.0, 0.0], [10.0, 0.0]), 0.0)


def test_straight_edge_formula_shapes_and_degenerate_sigma() -> None:
    assert p_inside_straight_edge(0.0, 0.0) == 1.0
    assert p_inside_straight_edge(-1e-9, 0.0) == 0.0
    assert p_inside_straight_edge(5.0, -1.0) == 1.0
    assert math.isnan(p_inside_straight_edge(math.nan, 10.0))
    assert math.isnan(p_inside_straight_edge(1.0, math.nan))
    out = p_inside_straight_edge([[-10.0], [10.0]], [10.0, 20.0])
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, ndtr(np.array([[-1.0, -0.5], [1.0, 0.5]])), rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# Many pairs at once


@pytest.mark.parametrize("block", [1, 7, 64, DEFAULT_MAX_PAIR_EDGES])
def test_pairs_equal_one_polygon_at_a_time(block: int) -> None:
    rng = np.random.default_rng(3)
    geometries = np.array(
        [
            SQUARE,
            WITH_HOLE,
            MULTI,
            EMPTY,
            reoriented(WITH_HOLE, False, True),
            regular_polygon(80, 32, 100, 100),
        ],
        dtype=object,
    )
    n = 300
    geom_index = rng.integers(0, geometries.size, n)
    x = rng.uniform(-100, 400, n)
    y = rng.uniform(-100, 300, n)
    sigma = np.exp(rng.uniform(np.log(1.0), np.log(2000.0), n))
    x[:4] = [0.0, 100.0, 150.0, 300.0]  # vertices and edges
    y[:4] = [0.0, 50.0, 30.0, 100.0]
    sigma[5:20] = 0.0
    sigma[20] = np.nan
    x[21] = np.nan
    got = gaussian_mass_pairs(geometries, geom_index, x, y, sigma, max_pair_edges=block)
    expected = np.array(
        [
            gaussian_mass(geometries[g], x[k], y[k], sigma[k])
            for k, g in enumerate(geom_index.tolist())
        ]
    )
    assert np.isnan(got[20]) and np.isnan(got[21])
    assert (got[5:20] == np.round(got[5:20])).all()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-14)
    assert 0.05 < np.nanmean(got) < 0.95


def test_pairs_broadcast_and_keep_shape() -> None:
    geometries = np.array([SQUARE, MULTI], dtype=object)
    p = gaussian_mass_pairs(geometries, [[0], [1]], [50.0, 200.0, -50.0], 0.0, 30.0)
    assert p.shape == (2, 3)
    expected = [[gaussian_mass(g, x, 0.0, 30.0) for x in (50.0, 200.0, -50.0)] for g in geometries]
    np.testing.assert_allclose(p, expected, rtol=0, atol=1e-15)
    assert gaussian_mass_pairs(geometries, np.array([], dtype=int), [], [], []).shape == (0,)


@pytest.mark.parametrize(
    ("geometries", "geom_index", "message"),
    [
        ([SQUARE, shapely.Point(0, 0)], [0, 1], r"geometries\[1\] is a Point"),
        ([SQUARE, None], [0], r"geometries\[1\] is missing"),
        ([shapely.LineString([(0, 0), (1, 1)])], [0], "not a Polygon or MultiPolygon"),
        ([SQUARE], [0, 1], r"geom_index\[1\] = 1 is not an index into 1"),
        ([SQUARE], [-1], r"geom_index\[0\] = -1"),
        ([SQUARE], [0.0], "must hold integers"),
    ],
)
def test_pairs_refuse_bad_input(
    geometries: list[object], geom_index: list[float], message: str
) -> None:
    geoms = np.empty(len(geometries), dtype=object)
    geoms[:] = geometries
    with pytest.raises(OptionError, match=message):
        gaussian_mass_pairs(geoms, geom_index, 0.0, 0.0, 1.0)


def test_bad_block_size_and_geometry_shape_are_refused() -> None:
    with pytest.raises(OptionError, match="max_pair_edges"):
        gaussian_mass_pairs(np.array([SQUARE]), [0], 0.0, 0.0, 1.0, max_pair_edges=0)
    with pytest.raises(OptionError, match="one-dimensional"):
        gaussian_mass_pairs(np.array([[SQUARE]]), [0], 0.0, 0.0, 1.0)
    with pytest.raises(OptionError, match="is a Point"):
        gaussian_mass(shapely.Point(0, 0).buffer(10).centroid, 0.0, 0.0, 1.0)
