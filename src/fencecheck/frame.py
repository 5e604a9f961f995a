"""The planar metric frame in which fencecheck measures metres.

A :class:`MetricFrame` is a Transverse Mercator projection of the WGS-84
ellipsoid centred on a point (normally the centre of a fence set), with scale 1
on its central meridian and no false origin, so the centre is ``(0, 0)`` and
``x`` / ``y`` are metres east / north. The forward projection is compiled
(:mod:`fencecheck._compiled.tmerc`: Krüger's series to sixth order, as PROJ's ``tmerc``
computes it, agreeing with pyproj to nanometres; within a degree of the centre, a
polynomial fitted to that series, equal to it within 1e-8 m); the inverse is pyproj's.

Why this projection: within 50 km of its centre (a 100 km extent) Transverse
Mercator's scale error is below 3.1e-5, i.e. under 3 cm in a kilometre and
under 1.6 m across the whole 100 km, whatever the direction; ``tests/test_frame.py``
checks this against geodesic distances (:class:`pyproj.Geod`). A frame is fixed
when it is chosen and travels with what uses it (:meth:`MetricFrame.to_dict`),
so that an index built today measures the same metres when it is loaded
tomorrow. No distance in fencecheck is ever computed in degrees.

Examples
--------
>>> frame = MetricFrame(lon0=116.40, lat0=39.90)
>>> x, y = frame.to_xy(116.41, 39.90)
>>> round(x), round(y)
(855, 0)
>>> lon, lat = frame.to_lonlat(x, y)
>>> round(lon, 9), round(lat, 9)
(116.41, 39.9)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fencecheck.errors import OptionError

if TYPE_CHECKING:
    import pyproj

__all__ = ["MetricFrame"]

_Float = float | np.floating[Any]
_Array = NDArray[np.float64]


@lru_cache(maxsize=32)
def _transformers(proj: str) -> tuple[pyproj.Transformer, pyproj.Transformer]:
    import pyproj  # here, not at the top: 0.25 s of start-up that the forward polynomial avoids

    forward = pyproj.Transformer.from_crs("EPSG:4326", proj, always_xy=True)
    inverse = pyproj.Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
    return forward, inverse


@dataclass(frozen=True)
class MetricFrame:
    """A local Transverse Mercator frame on WGS-84, in metres, centred at (lon0, lat0).

    Parameters
    ----------
    lon0, lat0 : float
        The centre in WGS-84 degrees; it maps to ``(0, 0)``.
    """

    lon0: float
    lat0: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lon0) and -180.0 <= self.lon0 <= 180.0):
            raise OptionError(f"frame: lon0 {self.lon0!r} is not a longitude in [-180, 180]")
        if not (math.isfinite(self.lat0) and -80.0 <= self.lat0 <= 80.0):
            raise OptionError(
                f"frame: lat0 {self.lat0!r} is not a latitude in [-80, 80] "
                "(a Transverse Mercator frame is not used near the poles)"
            )

    @classmethod
    def around(cls, lon: ArrayLike, lat: ArrayLike) -> MetricFrame:
        """Choose the frame centred on the middle of the bounding box of some points.

        The centre is rounded to 1e-6 degrees so that the frame has a short,
        exact description.

        Examples
        --------
        >>> MetricFrame.around([116.3, 116.5], [39.8, 40.0])
        MetricFrame(lon0=116.4, lat0=39.9)
        """
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
        ok = np.isfinite(lon_arr) & np.isfinite(lat_arr)
        if not ok.any():
            raise OptionError("frame: no finite coordinates to centre a frame on")
        lon0 = (float(lon_arr[ok].min()) + float(lon_arr[ok].max())) / 2.0
        lat0 = (float(lat_arr[ok].min()) + float(lat_arr[ok].max())) / 2.0
        return cls(round(lon0, 6), round(lat0, 6))

    @property
    def proj(self) -> str:
        """The PROJ definition of the frame."""
        return (
            f"+proj=tmerc +lat_0={self.lat0!r} +lon_0={self.lon0!r} +k=1 "
            "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )

    @overload
    def to_xy(self, lon: _Float, lat: _Float) -> tuple[float, float]: ...
    @overload
    def to_xy(self, lon: ArrayLike, lat: ArrayLike) -> tuple[_Array, _Array]: ...
    def to_xy(self, lon: Any, lat: Any) -> Any:
        """Project WGS-84 lon/lat (degrees) to frame x/y (metres).

        Scalars in give floats out; arrays give float64 arrays of the same shape.
        """
        from fencecheck._compiled.tmerc import forward

        if np.ndim(lon) == 0 and np.ndim(lat) == 0:
            x, y = forward(np.array([lon], dtype=np.float64), np.array([lat], dtype=np.float64),
                           self.lon0, self.lat0)  # fmt: skip
            return float(x[0]), float(y[0])
        lon_arr = np.asarray(lon, dtype=np.float64)
        lat_arr = np.asarray(lat, dtype=np.float64)
        lon_arr, lat_arr = np.broadcast_arrays(lon_arr, lat_arr)
        x, y = forward(lon_arr, lat_arr, self.lon0, self.lat0)
        return x.reshape(lon_arr.shape), y.reshape(lon_arr.shape)

    @overload
    def to_lonlat(self, x: _Float, y: _Float) -> tuple[float, float]: ...
    @overload
    def to_lonlat(self, x: ArrayLike, y: ArrayLike) -> tuple[_Array, _Array]: ...
    def to_lonlat(self, x: Any, y: Any) -> Any:
        """Unproject frame x/y (metres) to WGS-84 lon/lat (degrees)."""
        _, inverse = _transformers(self.proj)
        return _apply(inverse, x, y)

    def project_geometry(self, geometry: Any) -> Any:
        """Return shapely geometry (or an array of it) with coordinates in the frame.

        Examples
        --------
        >>> import shapely
        >>> frame = MetricFrame(116.4, 39.9)
        >>> square = shapely.box(116.399, 39.899, 116.401, 39.901)
        >>> round(frame.project_geometry(square).area)
        37981
        """
        import shapely

        if isinstance(geometry, np.ndarray) and geometry.size == 0:
            return geometry.copy()

        def transform(coords: NDArray[np.float64]) -> NDArray[np.float64]:
            x, y = self.to_xy(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geometry, transform)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description from which :meth:`from_dict` rebuilds the frame."""
        return {"type": "tmerc-wgs84", "lon0": self.lon0, "lat0": self.lat0, "proj": self.proj}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricFrame:
        """Rebuild a frame saved by :meth:`to_dict`.

        Examples
        --------
        >>> frame = MetricFrame(116.4, 39.9)
        >>> MetricFrame.from_dict(frame.to_dict()) == frame
        True
        """
        if data.get("type") != "tmerc-wgs84":
            raise OptionError(f"frame: unknown frame type {data.get('type')!r}")
        return cls(float(data["lon0"]), float(data["lat0"]))


def _apply(transformer: pyproj.Transformer, a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 and np.ndim(b) == 0:
        u, v = transformer.transform(float(a), float(b))
        return float(u), float(v)
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    u, v = transformer.transform(a_arr, b_arr)
    return np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64)
