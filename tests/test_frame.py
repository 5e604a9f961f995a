"""The metric frame: metres that agree with geodesic distances over a 100 km extent."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck.errors import OptionError
from fencecheck.frame import MetricFrame

GEOD = pyproj.Geod(ellps="WGS84")
BEIJING = MetricFrame(116.4, 39.9)
# 50 km from the centre in every direction: a 100 km extent around Beijing.
HALF_EXTENT_DEG_LAT = 50_000 / 111_000
HALF_EXTENT_DEG_LON = 50_000 / (111_000 * np.cos(np.radians(39.9)))


def _random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    lon = BEIJING.lon0 + rng.uniform(-HALF_EXTENT_DEG_LON, HALF_EXTENT_DEG_LON, n)
    lat = BEIJING.lat0 + rng.uniform(-HALF_EXTENT_DEG_LAT, HALF_EXTENT_DEG_LAT, n)
    return lon, lat


def test_planar_distances_match_geodesics_over_100_km() -> None:
    rng = np.random.default_rng(7)
    lon1, lat1 = _random_points(rng, 20_000)
    lon2, lat2 = _random_points(rng, 20_000)
    x1, y1 = BEIJING.to_xy(lon1, lat1)
    x2, y2 = BEIJING.to_xy(lon2, lat2)
    planar = np.hypot(x2 - x1, y2 - y1)
    _, _, geodesic = GEOD.inv(lon1, lat1, lon2, lat2)
    relative = np.abs(planar - geodesic) / geodesic
    # Transverse Mercator's scale error 50 km off its central meridian is
    # (50/6371)^2 / 2 = 3.1e-5; measured figures go into the message.
    assert relative.max() < 3.2e-5, f"max relative error {relative.max():.2e}"
    assert np.abs(planar - geodesic).max() < 3.5, (
        f"max absolute error {np.abs(planar - geodesic).max():.2f} m over "
        f"{geodesic.max() / 1000:.0f} km"
    )


def test_short_distances_are_exact_to_centimetres_anywhere_in_the_extent() -> None:
    rng = np.random.default_rng(8)
    lon, lat = _random_points(rng, 5_000)
    azimuth = rng.uniform(0, 360, lon.shape[0])
    lon2, lat2, _ = GEOD.fwd(lon, lat, azimuth, np.full(lon.shape[0], 500.0))
    x1, y1 = BEIJING.to_xy(lon, lat)
    x2, y2 = BEIJING.to_xy(lon2, lat2)
    error = np.abs(np.hypot(x2 - x1, y2 - y1) - 500.0)
    assert error.max() < 0.016, f"500 m measured with up to {error.max() * 100:.2f} cm error"


@settings(max_examples=100, deadline=None)
@given(
    lon=st.floats(116.4 - 0.58, 116.4 + 0.58),
    lat=st.floats(39.9 - 0.45, 39.9 + 0.45),
)
def test_round_trip_is_sub_millimetre(lon: float, lat: float) -> None:
    x, y = BEIJING.to_xy(lon, lat)
    back_lon, back_lat = BEIJING.to_lonlat(x, y)
    _, _, dist = GEOD.inv(lon, lat, back_lon, back_lat)
    assert dist < 1e-3


def test_scalars_in_scalars_out_arrays_keep_their_shape() -> None:
    x, y = BEIJING.to_xy(116.4, 39.9)
    assert isinstance(x, float) and isinstance(y, float)
    assert abs(x) < 1e-6 and abs(y) < 1e-6
    lon = np.full((2, 3), 116.41)
    lat = np.full((2, 3), 39.91)
    ax, ay = BEIJING.to_xy(lon, lat)
    assert ax.shape == ay.shape == (2, 3)
    assert np.all(ax > 0) and np.all(ay > 0)


def test_frame_is_described_and_rebuilt_exactly() -> None:
    frame = MetricFrame.around([116.1, 116.9], [39.6, 40.4])
    assert frame == MetricFrame(116.5, 40.0)
    again = MetricFrame.from_dict(frame.to_dict())
    assert again == frame
    lon, lat = np.array([116.3, 116.7]), np.array([39.8, 40.2])
    assert np.array_equal(np.array(frame.to_xy(lon, lat)), np.array(again.to_xy(lon, lat)))
    with pytest.raises(OptionError, match="unknown frame type"):
        MetricFrame.from_dict({"type": "mercator"})


@pytest.mark.parametrize(("lon0", "lat0"), [(200.0, 0.0), (0.0, 85.0), (float("nan"), 0.0)])
def test_bad_centres_are_refused(lon0: float, lat0: float) -> None:
    with pytest.raises(OptionError, match="frame"):
        MetricFrame(lon0, lat0)


def test_no_finite_points_to_centre_on() -> None:
    with pytest.raises(OptionError, match="no finite coordinates"):
        MetricFrame.around([np.nan], [np.nan])


def test_project_geometry_keeps_topology_and_measures_metres() -> None:
    # a 1 km x 1 km square with a 200 m hole, built by geodesic offsets
    lon0, lat0 = 116.45, 39.95
    ring = [
        GEOD.fwd(lon0, lat0, az, d)[:2]
        for az, d in [(0, 0), (90, 1000), (45, 1000 * np.sqrt(2)), (0, 1000)]
    ]
    square = shapely.Polygon(ring)
    projected = BEIJING.project_geometry(square)
    assert projected.is_valid
    assert abs(projected.area - 1_000_000) / 1_000_000 < 2e-4


@settings(max_examples=60, deadline=None)
@given(
    lon0=st.floats(-180, 180),
    lat0=st.floats(-80, 80),
    seed=st.integers(0, 2**32 - 1),
)
def test_compiled_projection_is_proj_tmerc_to_nanometres(
    lon0: float, lat0: float, seed: int
) -> None:
    """The compiled forward projection agrees with PROJ's tmerc on the same definition."""
    # Centres to 1e-6 degrees, as MetricFrame.around chooses them: PROJ itself snaps a
    # centre like 7.8e-11 degrees to 0 (a 9 micrometre shift), which is not ours to copy.
    frame = MetricFrame(round(lon0, 6), round(lat0, 6))
    rng = np.random.default_rng(seed)
    # Up to 3 degrees of longitude off the meridian (about 250 km at 40 N), across the
    # antimeridian when the centre is near it, and to the poles' edge.
    lon = frame.lon0 + rng.uniform(-3, 3, 2_000)
    lon = np.where(lon > 180, lon - 360, np.where(lon < -180, lon + 360, lon))
    lat = np.clip(frame.lat0 + rng.uniform(-3, 3, 2_000), -89.9, 89.9)
    proj = pyproj.Transformer.from_crs("EPSG:4326", frame.proj, always_xy=True)
    want_x, want_y = proj.transform(lon, lat)
    got_x, got_y = frame.to_xy(lon, lat)
    assert np.abs(got_x - want_x).max() < 1e-7
    assert np.abs(got_y - want_y).max() < 1e-7
    # One value alone, or a million split over threads: the same function, bit for bit.
    k = int(rng.integers(0, 2_000))
    assert frame.to_xy(float(lon[k]), float(lat[k])) == (float(got_x[k]), float(got_y[k]))


def test_the_threaded_projection_equals_the_single_thread_one() -> None:
    rng = np.random.default_rng(3)
    lon, lat = _random_points(rng, 450_000)  # above the size that splits over threads
    x, y = BEIJING.to_xy(lon, lat)
    part_x, part_y = BEIJING.to_xy(lon[:1_000], lat[:1_000])
    assert np.array_equal(x[:1_000], part_x) and np.array_equal(y[:1_000], part_y)
    tail_x, _ = BEIJING.to_xy(lon[-1_000:], lat[-1_000:])
    assert np.array_equal(x[-1_000:], tail_x)


@settings(max_examples=40, deadline=None)
@given(
    lon0=st.floats(-179, 179),
    lat0=st.floats(-84, 84),
    seed=st.integers(0, 2**32 - 1),
)
def test_near_the_centre_the_polynomial_is_the_series_to_1e_8_m(
    lon0: float, lat0: float, seed: int
) -> None:
    """Within a degree of the centre a fitted polynomial stands in for Krüger's series."""
    from fencecheck._compiled.tmerc import _local_polynomial, _series, forward

    lon0, lat0 = round(lon0, 6), round(lat0, 6)
    assert _local_polynomial(lon0, lat0) is not None
    rng = np.random.default_rng(seed)
    # The domain's corners and edges, points inside, and points just beyond it.
    du = np.concatenate([[-1.0, 1.0, 1.0, -1.0, 0.0], rng.uniform(-1, 1, 3_000)])
    dv = np.concatenate([[-1.0, -1.0, 1.0, 1.0, 0.0], rng.uniform(-1, 1, 3_000)])
    beyond_u = rng.uniform(1.0, 1.5, 500) * rng.choice([-1, 1], 500)
    beyond_v = rng.uniform(-1.5, 1.5, 500)
    lon = lon0 + np.concatenate([du, beyond_u])
    lat = lat0 + np.concatenate([dv, beyond_v])
    got_x, got_y = forward(lon, lat, lon0, lat0)
    want_x, want_y = _series(lon, lat, lon0, lat0)
    near = du.shape[0]
    assert np.abs(got_x[:near] - want_x[:near]).max() <= 1e-8
    assert np.abs(got_y[:near] - want_y[:near]).max() <= 1e-8
    # Beyond the domain the series itself answers.
    assert np.array_equal(got_x[near:], want_x[near:])
    assert np.array_equal(got_y[near:], want_y[near:])


def test_near_a_pole_the_series_serves_every_point() -> None:
    from fencecheck._compiled.tmerc import _local_polynomial, _series, forward

    assert _local_polynomial(10.0, 88.0) is None
    lon = 10.0 + np.linspace(-0.5, 0.5, 11)
    lat = np.linspace(87.5, 88.5, 11)
    got = forward(lon, lat, 10.0, 88.0)
    want = _series(lon, lat, 10.0, 88.0)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
