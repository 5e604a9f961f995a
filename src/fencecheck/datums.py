"""Convert coordinates between WGS-84, GCJ-02 and BD-09.

GPS receivers and RFC 7946 GeoJSON use **WGS-84**. Maps of mainland China use **GCJ-02**
(Amap, Tencent), a deliberately obfuscated datum offset from WGS-84 by roughly 100–700 m.
Baidu uses **BD-09**, a further offset of GCJ-02. A fence drawn on a GCJ-02 map and tested
against WGS-84 pings is shifted by a few hundred metres, so these conversions matter. PROJ does
not ship them; this module implements the published algorithms, vectorized over numpy arrays.

The forward conversions (``wgs84_to_gcj02``, ``gcj02_to_bd09``) are the published closed-form
formulas. The published inverses are one-step approximations off by a metre or two (up to ~6 m);
here the inverses are solved iteratively instead, to within 1e-9 degrees (about 0.1 mm), so a
round trip returns to the starting point to well under a centimetre.

Every function takes ``lon, lat`` as scalars or numpy arrays of any shape (the two are
broadcast together) and returns a tuple ``(lon, lat)`` of the same kind, following pyproj:
scalars in, Python floats out; arrays in, new float64 arrays out. Inputs are never modified.
A point with NaN in either coordinate comes out as NaN in both, without warnings or errors
(input validation is done elsewhere).

**GCJ-02 is only defined in China.** The published algorithm treats every point outside a rough
bounding box of mainland China (see :func:`in_china`) as unshifted: there the conversion between
WGS-84 and GCJ-02 is the identity. That box is coarse; it also covers parts of neighbouring
countries and seas, where the offset is applied all the same. The BD-09 step has no such box
and is applied everywhere, as in the published algorithm.

Examples
--------
>>> from fencecheck.datums import wgs84_to_gcj02, gcj02_to_wgs84
>>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
>>> round(lon, 6), round(lat, 6)
(116.410244, 39.916404)
>>> back = gcj02_to_wgs84(lon, lat)
>>> round(back[0], 9), round(back[1], 9)
(116.404, 39.915)

"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any, Final, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fencecheck.errors import OptionError

__all__ = [
    "Datum",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

_F64 = NDArray[np.float64]
_Kernel = Callable[[_F64, _F64], tuple[_F64, _F64]]
# What the array overloads accept: anything array-shaped, but not a bare scalar, so that the
# scalar overload (floats in, floats out) does not overlap with them.
_Arr = NDArray[Any] | Sequence[Any]

# Krasovsky 1940 ellipsoid, as used by the published GCJ-02 algorithm.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323
# BD-09's angular frequency: pi * 3000 / 180.
_X_PI: Final = np.pi * 3000.0 / 180.0
# The published algorithm's bounding box of mainland China (inclusive).
_CHINA_LON: Final = (72.004, 137.8347)
_CHINA_LAT: Final = (0.8293, 55.8271)
# The iterative inverses stop when every point's residual is below this (degrees, ~0.1 mm).
_TOL_DEG: Final = 1e-9
_MAX_ITER: Final = 10


class Datum(str, enum.Enum):
    """A geodetic datum that fencecheck can convert between.

    Members compare equal to their string values, so ``Datum.GCJ02 == "gcj02"``.

    Examples
    --------
    >>> Datum.parse("GCJ-02")
    <Datum.GCJ02: 'gcj02'>
    >>> Datum.parse("EPSG:4326") is Datum.WGS84
    True

    """

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def parse(cls, value: object) -> Datum:
        """Return the datum a user spelling names.

        Parameters
        ----------
        value : Datum or str
            A :class:`Datum`, or one of ``"wgs84"``, ``"gcj02"``, ``"bd09"`` in any case, also
            spelled ``"wgs-84"``, ``"gcj-02"``, ``"bd-09"``; ``"epsg:4326"`` means WGS-84.
            Surrounding whitespace is ignored.

        Returns
        -------
        Datum

        Raises
        ------
        fencecheck.errors.OptionError
            If the value names no datum; the message lists the valid values.

        Examples
        --------
        >>> Datum.parse("bd-09")
        <Datum.BD09: 'bd09'>
        >>> Datum.parse("mars")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        fencecheck.errors.OptionError: unknown datum 'mars'; expected one of 'wgs84', ...

        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            found = _DATUM_ALIASES.get(value.strip().lower())
            if found is not None:
                return cls(found)
        valid = ", ".join(repr(d.value) for d in cls)
        aliases = ", ".join(repr(a) for a in _DATUM_EXTRA_SPELLINGS)
        raise OptionError(
            f"unknown datum {value!r}; expected one of {valid} (also accepted: {aliases}; any case)"
        )


_DATUM_EXTRA_SPELLINGS: Final = ("wgs-84", "gcj-02", "bd-09", "epsg:4326")
_DATUM_ALIASES: Final = {
    "wgs84": "wgs84",
    "gcj02": "gcj02",
    "bd09": "bd09",
    "wgs-84": "wgs84",
    "gcj-02": "gcj02",
    "bd-09": "bd09",
    "epsg:4326": "wgs84",
}


# --------------------------------------------------------------------------------------------
# Kernels: 1-D float64 arrays in, new 1-D float64 arrays out. No scalars, no validation.
# --------------------------------------------------------------------------------------------


def _in_china_kernel(lon: _F64, lat: _F64) -> NDArray[np.bool_]:
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def _gcj02_offset(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    """Return the published GCJ-02 shift (dlon, dlat) in degrees at WGS-84 (lon, lat)."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    # The series term shared by both components (in x only).
    wave_x = (20.0 * np.sin(6.0 * np.pi * x) + 20.0 * np.sin(2.0 * np.pi * x)) * (2.0 / 3.0)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    dlat += wave_x
    dlat += (20.0 * np.sin(np.pi * y) + 40.0 * np.sin(np.pi * y / 3.0)) * (2.0 / 3.0)
    dlat += (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * (2.0 / 3.0)
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    dlon += wave_x
    dlon += (20.0 * np.sin(np.pi * x) + 40.0 * np.sin(np.pi * x / 3.0)) * (2.0 / 3.0)
    dlon += (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * (2.0 / 3.0)
    # The series is in metres on the Krasovsky ellipsoid; turn it into degrees with the radii
    # of curvature in the meridian (M) and the prime vertical (N) at this latitude.
    rad_lat = np.radians(lat)
    w2 = 1.0 - _EE * np.sin(rad_lat) ** 2
    w = np.sqrt(w2)
    m = _A * (1.0 - _EE) / (w2 * w)
    n = _A / w
    dlat = dlat * 180.0 / (m * np.pi)
    dlon = dlon * 180.0 / (n * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def _wgs84_to_gcj02_raw(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    """Apply the GCJ-02 shift everywhere, ignoring the China box."""
    dlon, dlat = _gcj02_offset(lon, lat)
    return lon + dlon, lat + dlat


def _wgs84_to_gcj02_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    glon, glat = _wgs84_to_gcj02_raw(lon, lat)
    outside = ~_in_china_kernel(lon, lat)
    glon[outside] = lon[outside]
    glat[outside] = lat[outside]
    return glon, glat


def _gcj02_to_bd09_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    z = np.hypot(lon, lat) + 2e-5 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 3e-6 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_one_step(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    """Return the published one-step approximation of the BD-09 inverse."""
    x = lon - 0.0065
    y = lat - 0.006
    z = np.hypot(x, y) - 2e-5 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 3e-6 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def _solve_inverse(
    forward: _Kernel, lon: _F64, lat: _F64, start: tuple[_F64, _F64]
) -> tuple[_F64, _F64]:
    """Find (x, y) with ``forward(x, y) == (lon, lat)`` by fixed-point iteration.

    ``lon`` and ``lat`` are 1-D. Both forward maps are the identity plus a shift whose
    derivative is of the order of 1e-3 or less, so ``p <- p - (forward(p) - target)``
    contracts by about that factor per step: from the one-step start (metres off at most) two
    or three steps reach the 1e-9 degree tolerance. All points are iterated together; points
    already converged (and NaNs) drop out and are left unchanged.
    """
    x = start[0].copy()
    y = start[1].copy()
    # Indices of the points still iterating; only those are evaluated again.
    todo = np.arange(x.size)
    for _ in range(_MAX_ITER):
        fx, fy = forward(x[todo], y[todo])
        rx = fx - lon[todo]
        ry = fy - lat[todo]
        # NaN residuals compare False, so NaN points never hold the loop open.
        active = (np.abs(rx) > _TOL_DEG) | (np.abs(ry) > _TOL_DEG)
        if not active.any():
            break
        todo = todo[active]
        x[todo] -= rx[active]
        y[todo] -= ry[active]
    return x, y


def _gcj02_to_wgs84_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    # As in the published algorithm, the China box is judged at the GCJ-02 input. Inside it the
    # shift is inverted without the box, so that an iterate that strays over the box edge does
    # not make the map jump.
    inside = _in_china_kernel(lon, lat)
    out_lon = lon.copy()
    out_lat = lat.copy()
    if inside.any():
        tlon = lon[inside]
        tlat = lat[inside]
        dlon, dlat = _gcj02_offset(tlon, tlat)
        x, y = _solve_inverse(_wgs84_to_gcj02_raw, tlon, tlat, (tlon - dlon, tlat - dlat))
        out_lon[inside] = x
        out_lat[inside] = y
    return out_lon, out_lat


def _bd09_to_gcj02_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    start = _bd09_to_gcj02_one_step(lon, lat)
    return _solve_inverse(_gcj02_to_bd09_kernel, lon, lat, start)


def _wgs84_to_bd09_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    return _gcj02_to_bd09_kernel(*_wgs84_to_gcj02_kernel(lon, lat))


def _bd09_to_wgs84_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    return _gcj02_to_wgs84_kernel(*_bd09_to_gcj02_kernel(lon, lat))


def _identity_kernel(lon: _F64, lat: _F64) -> tuple[_F64, _F64]:
    return lon.copy(), lat.copy()


_TO_WGS84: Final[dict[Datum, _Kernel]] = {
    Datum.WGS84: _identity_kernel,
    Datum.GCJ02: _gcj02_to_wgs84_kernel,
    Datum.BD09: _bd09_to_wgs84_kernel,
}
_FROM_WGS84: Final[dict[Datum, _Kernel]] = {
    Datum.WGS84: _identity_kernel,
    Datum.GCJ02: _wgs84_to_gcj02_kernel,
    Datum.BD09: _wgs84_to_bd09_kernel,
}


# --------------------------------------------------------------------------------------------
# Public wrappers: scalar/array handling around the kernels.
# --------------------------------------------------------------------------------------------


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[_F64, _F64, tuple[int, ...] | None]:
    """Return flat float64 copies of the broadcast inputs, and their shape (None for scalars).

    Kernels get 1-D arrays (0-d arithmetic would decay to numpy scalars, and the iterative
    inverses index points by position) that they own: they may write into their results,
    never into the caller's arrays, and broadcast views are read-only.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_b, lat_b = np.broadcast_arrays(lon_a, lat_a)
    shape = None if lon_b.ndim == 0 else lon_b.shape
    return lon_b.flatten(), lat_b.flatten(), shape


def _apply(kernel: _Kernel, lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    # NaN is expected input (validation happens elsewhere) and +-inf simply propagates; neither
    # should produce a RuntimeWarning from sin/cos/sqrt.
    with np.errstate(invalid="ignore", over="ignore"):
        out_lon, out_lat = kernel(lon_a, lat_a)
    # A point with NaN in either coordinate is no point: NaN in both, whatever the kernel did
    # (outside the China box, for example, it would pass the other coordinate through).
    missing = np.isnan(lon_a) | np.isnan(lat_a)
    if missing.any():
        out_lon[missing] = np.nan
        out_lat[missing] = np.nan
    if shape is None:
        return float(out_lon[0]), float(out_lat[0])
    return out_lon.reshape(shape), out_lat.reshape(shape)


@overload
def in_china(lon: float, lat: float) -> bool: ...
@overload
def in_china(lon: _Arr, lat: _Arr | float) -> NDArray[np.bool_]: ...
@overload
def in_china(lon: float, lat: _Arr) -> NDArray[np.bool_]: ...
def in_china(lon: ArrayLike, lat: ArrayLike) -> bool | NDArray[np.bool_]:
    """Tell whether points lie in the box where GCJ-02 applies.

    This is the rough bounding box of mainland China used by the published GCJ-02 algorithm:
    longitude 72.004..137.8347 and latitude 0.8293..55.8271 (inclusive). It is not a border:
    it also covers parts of neighbouring countries and seas. Outside it, WGS-84 and GCJ-02
    coordinates are the same. NaN is never inside.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees (either datum; the box is too coarse to care).

    Returns
    -------
    bool or numpy.ndarray of bool
        A Python bool for scalar input, else a boolean array of the broadcast shape.

    Examples
    --------
    >>> in_china(116.404, 39.915)
    True
    >>> in_china(2.35, 48.86)
    False
    >>> import numpy as np
    >>> in_china(np.array([121.47, -74.0, np.nan]), np.array([31.23, 40.7, 31.0])).tolist()
    [True, False, False]

    """
    lon_a, lat_a, shape = _as_arrays(lon, lat)
    inside = _in_china_kernel(lon_a, lat_a)
    if shape is None:
        return bool(inside[0])
    return inside.reshape(shape)


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: _Arr, lat: _Arr | float) -> tuple[_F64, _F64]: ...
@overload
def wgs84_to_gcj02(lon: float, lat: _Arr) -> tuple[_F64, _F64]: ...
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 coordinates to GCJ-02.

    The published closed-form GCJ-02 algorithm (Krasovsky ellipsoid, a = 6378245 m,
    e² = 0.00669342162296594323). Points outside :func:`in_china` are returned unchanged,
    as the published algorithm does, since GCJ-02 is only defined in China.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees, broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        GCJ-02 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    See Also
    --------
    gcj02_to_wgs84 : The inverse.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)
    >>> wgs84_to_gcj02(2.35, 48.86)  # outside China: unchanged
    (2.35, 48.86)
    >>> import numpy as np
    >>> lon, lat = wgs84_to_gcj02(np.array([[121.47, 113.26]]), np.array([[31.23, 23.13]]))
    >>> lon.shape, np.round(lon, 4).tolist()
    ((1, 2), [[121.4745, 113.2653]])

    """
    return _apply(_wgs84_to_gcj02_kernel, lon, lat)


@overload
def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(lon: _Arr, lat: _Arr | float) -> tuple[_F64, _F64]: ...
@overload
def gcj02_to_wgs84(lon: float, lat: _Arr) -> tuple[_F64, _F64]: ...
def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 coordinates to WGS-84, iteratively.

    Starts from the published one-step approximation (a metre or two off) and iterates
    ``p <- p - (wgs84_to_gcj02(p) - target)`` for all points at once until every residual is
    below 1e-9 degrees (about 0.1 mm), at most 10 times; two or three steps are typical.
    Points outside :func:`in_china` (judged at the GCJ-02 input, as in the published
    algorithm) are returned unchanged. Within a few hundred metres of the box's edges the
    inverse is therefore not exact, but those edges lie far from any Chinese city.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees, broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS-84 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    See Also
    --------
    wgs84_to_gcj02 : The forward conversion.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.410244, 39.916404)
    >>> round(lon, 6), round(lat, 6)
    (116.404, 39.915)

    """
    return _apply(_gcj02_to_wgs84_kernel, lon, lat)


@overload
def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_bd09(lon: _Arr, lat: _Arr | float) -> tuple[_F64, _F64]: ...
@overload
def gcj02_to_bd09(lon: float, lat: _Arr) -> tuple[_F64, _F64]: ...
def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 coordinates to BD-09 (Baidu).

    The published formula: with ``x_pi = pi * 3000 / 180``,
    ``z = hypot(lon, lat) + 2e-5 sin(lat x_pi)``,
    ``theta = atan2(lat, lon) + 3e-6 cos(lon x_pi)``, and BD-09 is
    ``(z cos theta + 0.0065, z sin theta + 0.006)``. It is applied everywhere (no China box).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees, broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        BD-09 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    See Also
    --------
    bd09_to_gcj02 : The inverse.

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410369, 39.921337)

    """
    return _apply(_gcj02_to_bd09_kernel, lon, lat)


@overload
def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_gcj02(lon: _Arr, lat: _Arr | float) -> tuple[_F64, _F64]: ...
@overload
def bd09_to_gcj02(lon: float, lat: _Arr) -> tuple[_F64, _F64]: ...
def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 (Baidu) coordinates to GCJ-02, iteratively.

    Starts from the published one-step inverse and iterates
    ``p <- p - (gcj02_to_bd09(p) - target)`` for all points at once until every residual is
    below 1e-9 degrees (about 0.1 mm), at most 10 times.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees, broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        GCJ-02 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    See Also
    --------
    gcj02_to_bd09 : The forward conversion.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.410369, 39.921337)
    >>> round(lon, 6), round(lat, 6)
    (116.404, 39.915)

    """
    return _apply(_bd09_to_gcj02_kernel, lon, lat)


@overload
def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_bd09(lon: _Arr, lat: _Arr | float) -> tuple[_F64, _F64]: ...
@overload
def wgs84_to_bd09(lon: float, lat: _Arr) -> tuple[_F64, _F64]: ...
def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 coordinates to BD-09 (Baidu), through GCJ-02.

    Equal to ``gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))``. Outside :func:`in_china` only the
    BD-09 step applies, as in the published algorithm.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees, broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        BD-09 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    See Also
    --------
    bd09_to_wgs84 : The inverse.

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.404, 39.915)
    >>> round(lon, 4), round(lat, 4)
    (116.4166, 39.9227)

    """
    return _apply(_wgs84_to_bd09_kernel, lon, lat)


@overload
def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def bd09_to_wgs84(lon: _Arr, lat: _Arr | float) -> tuple[_F64, _F64]: ...
@overload
def bd09_to_wgs84(lon: float, lat: _Arr) -> tuple[_F64, _F64]: ...
def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 (Baidu) coordinates to WGS-84, through GCJ-02.

    Equal to ``gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))``; both steps are iterative.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees, broadcast together.

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS-84 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    See Also
    --------
    wgs84_to_bd09 : The forward conversion.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(116.404, 39.915))
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)

    """
    return _apply(_bd09_to_wgs84_kernel, lon, lat)


@overload
def to_wgs84(lon: float, lat: float, datum: Datum | str) -> tuple[float, float]: ...
@overload
def to_wgs84(lon: _Arr, lat: _Arr | float, datum: Datum | str) -> tuple[_F64, _F64]: ...
@overload
def to_wgs84(lon: float, lat: _Arr, datum: Datum | str) -> tuple[_F64, _F64]: ...
def to_wgs84(lon: ArrayLike, lat: ArrayLike, datum: Datum | str) -> tuple[Any, Any]:
    """Convert coordinates in a named datum to WGS-84.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees in ``datum``, broadcast together.
    datum : Datum or str
        The datum of the input, anything :meth:`Datum.parse` accepts. For ``"wgs84"`` the
        coordinates are returned unchanged (as new arrays for array input).

    Returns
    -------
    lon, lat : float or numpy.ndarray
        WGS-84 longitude and latitude: Python floats for scalar input, else new float64 arrays
        of the broadcast shape.

    Raises
    ------
    fencecheck.errors.OptionError
        If ``datum`` names no datum.

    Examples
    --------
    >>> lon, lat = to_wgs84(116.410244, 39.916404, "GCJ-02")
    >>> round(lon, 6), round(lat, 6)
    (116.404, 39.915)
    >>> to_wgs84(116.404, 39.915, "wgs84")
    (116.404, 39.915)

    """
    kernel = _TO_WGS84[Datum.parse(datum)]
    return _apply(kernel, lon, lat)


@overload
def from_wgs84(lon: float, lat: float, datum: Datum | str) -> tuple[float, float]: ...
@overload
def from_wgs84(lon: _Arr, lat: _Arr | float, datum: Datum | str) -> tuple[_F64, _F64]: ...
@overload
def from_wgs84(lon: float, lat: _Arr, datum: Datum | str) -> tuple[_F64, _F64]: ...
def from_wgs84(lon: ArrayLike, lat: ArrayLike, datum: Datum | str) -> tuple[Any, Any]:
    """Convert WGS-84 coordinates to a named datum.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees, broadcast together.
    datum : Datum or str
        The datum wanted, anything :meth:`Datum.parse` accepts. For ``"wgs84"`` the
        coordinates are returned unchanged (as new arrays for array input).

    Returns
    -------
    lon, lat : float or numpy.ndarray
        Longitude and latitude in ``datum``: Python floats for scalar input, else new float64
        arrays of the broadcast shape.

    Raises
    ------
    fencecheck.errors.OptionError
        If ``datum`` names no datum.

    Examples
    --------
    >>> lon, lat = from_wgs84(116.404, 39.915, Datum.GCJ02)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)

    """
    kernel = _FROM_WGS84[Datum.parse(datum)]
    return _apply(kernel, lon, lat)
