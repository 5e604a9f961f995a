"""A region a person should not have left (the Beijing municipality, say), in metres.

A :class:`Region` holds one Polygon or MultiPolygon in WGS-84 and the same shape
in a metric frame centred on it (:class:`~fencecheck.frame.MetricFrame`), where
it answers two questions about fixes: how far outside the region each lies, and
how likely it is that the person really was outside, given the fix's accuracy.
That probability is one minus the Gaussian mass of the region
(:func:`fencecheck.probability.gaussian_mass`, the model docs/domain.md gives
for ``p_inside``), so a cell fix of 1,500 m a few hundred metres beyond the
border is not credibly outside, while a GPS fix in Tianjin is.

The frame is a Transverse Mercator on the region's centre: across a region the
size of Beijing (about 180 km) its scale error stays below 1e-4, a few metres
at the far edge.

Examples
--------
>>> import shapely
>>> square = Region.from_geometry(shapely.box(116.0, 39.5, 117.0, 40.5), name="square")
>>> square.distance_outside_m([116.5, 117.1], [40.0, 40.0]).round(-2).tolist()
[0.0, 8500.0]
>>> lon, lat, accuracy = [116.5, 117.1, 117.002], [40.0] * 3, [20.0, 20.0, 1500.0]
>>> square.p_outside(lon, lat, accuracy).round(2).tolist()  # a cell fix 170 m beyond: unsure
[0.0, 1.0, 0.57]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from fencecheck.errors import OptionError
from fencecheck.frame import MetricFrame
from fencecheck.probability import gaussian_mass, sigma_from_accuracy

__all__ = ["Region"]

_TAIL_SIGMAS = 9.0
"""Beyond this many σ from the boundary the Gaussian mass is 0 or 1 to double precision."""


@dataclass(frozen=True)
class Region:
    """One polygonal region in WGS-84, with its shape in a metric frame.

    Attributes
    ----------
    name : str
        What the reports call it ("北京市").
    geometry : shapely.Polygon or shapely.MultiPolygon
        The region in WGS-84 lon/lat.
    frame : MetricFrame
        The frame centred on the region.
    planar : shapely geometry
        The region in the frame, in metres.
    source : str
        Where it was read from.
    datum : str
        The datum the source was in (it is kept in WGS-84 here).
    """

    name: str
    geometry: Any
    frame: MetricFrame
    planar: Any = field(repr=False)
    source: str = "<geometry>"
    datum: str = "wgs84"

    @classmethod
    def from_geometry(
        cls,
        geometry: Any,
        *,
        name: str = "region",
        source: str = "<geometry>",
        datum: str = "wgs84",
    ) -> Region:
        """A region from a WGS-84 Polygon or MultiPolygon.

        Raises
        ------
        OptionError
            When the geometry is not polygonal, is empty, or is not valid.
        """
        if shapely.get_type_id(geometry) not in (3, 6):
            raise OptionError(
                f"region {source}: a {getattr(geometry, 'geom_type', type(geometry).__name__)} "
                "is not a Polygon or MultiPolygon"
            )
        if geometry.is_empty or geometry.area <= 0:
            raise OptionError(f"region {source}: the polygon is empty")
        lon0, lat0, lon1, lat1 = geometry.bounds
        frame = MetricFrame.around([lon0, lon1], [lat0, lat1])
        planar = frame.project_geometry(geometry)
        shapely.prepare(planar)
        return cls(name, geometry, frame, planar, source, datum)

    def _xy(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        x, y = self.frame.to_xy(
            np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        )
        return np.atleast_1d(np.asarray(x, dtype=np.float64)), np.atleast_1d(
            np.asarray(y, dtype=np.float64)
        )

    def signed_distance_m(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
        """Metres from each point to the region's boundary: positive inside, negative outside."""
        x, y = self._xy(lon, lat)
        inside = shapely.contains_xy(self.planar, x, y)
        distance = shapely.distance(self.planar.boundary, shapely.points(x, y))
        return np.where(inside, distance, -distance).astype(np.float64)

    def distance_outside_m(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
        """Metres from each point to the region (0 for a point inside)."""
        return np.maximum(-self.signed_distance_m(lon, lat), 0.0)

    def p_outside(
        self, lon: ArrayLike, lat: ArrayLike, accuracy_m: ArrayLike
    ) -> NDArray[np.float64]:
        """The probability each person really was outside, given the fix and its accuracy.

        One minus the mass of N(fix, σ²I) over the region, σ from the 68 % radius
        (:func:`~fencecheck.probability.sigma_from_accuracy`); exact where it
        matters, 0 or 1 beyond nine σ from the boundary.
        """
        x, y = self._xy(lon, lat)
        sigma = np.broadcast_to(
            np.asarray(sigma_from_accuracy(np.asarray(accuracy_m, dtype=np.float64))), x.shape
        ).astype(np.float64)
        depth = self.signed_distance_m(lon, lat)
        p = np.where(depth >= 0, 0.0, 1.0)
        near = np.flatnonzero(np.abs(depth) < _TAIL_SIGMAS * sigma)
        if near.size:
            p[near] = 1.0 - np.asarray(gaussian_mass(self.planar, x[near], y[near], sigma[near]))
        return np.clip(p, 0.0, 1.0)
