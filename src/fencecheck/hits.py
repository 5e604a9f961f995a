"""A hits table: every (ping, fence) hit with its evidence, as numpy columns.

:func:`fencecheck.match` makes one; :mod:`fencecheck.judging` reads it. A
:class:`Hits` table converts itself to pandas, Arrow and GeoPandas, and writes
itself to CSV or Parquet through :class:`fencecheck.io.hits.HitsWriter`, in the
columns of the hits file (``docs/contract.md``).

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> hits = fc.match(fc.read_pings("data/samples/pings.csv"), index)
>>> hits
<Hits: 95 hits of 4 people on 5 fences (point, covers)>
>>> hits.csv_lines()[0].split(",")[3:7]
['F-sealed-1', '2022-04-29T10:00:00Z', '2022-05-06T16:00:00Z', 'inside']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import OptionError
from fencecheck.io.hits import HitsWriter, csv_quoted, hits_to_arrow
from fencecheck.optional import require
from fencecheck.options import Boundary, MatchMode
from fencecheck.pings import PersonRegistry, PingTable, ping_positions
from fencecheck.times import OPEN_END, format_utc

__all__ = ["HIT_COLUMNS", "Hits"]

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


@dataclass(frozen=True)
class Hits:
    """(ping, fence) hits as columns, in ping order then fence order.

    Attributes
    ----------
    ping : ndarray of int64
        The ping's row number in the input (docs/contract.md).
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
        """``inside`` or ``uncertain`` per hit (docs/contract.md)."""
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
        """The hits as a DataFrame with docs/contract.md's columns (times tz-aware UTC)."""
        pd = require("pandas", "pandas", "Hits.to_pandas")
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

    def to_arrow(self) -> Any:
        """The hits as a :class:`pyarrow.Table`, columns and types as the contract says."""
        require("pyarrow", "parquet", "Hits.to_arrow")
        return hits_to_arrow(self)  # from the numpy buffers: no Python string per hit

    def csv_lines(self) -> list[str]:
        """The hits as CSV data lines (no header), as ``fencecheck match`` writes them.

        Times are ISO 8601 UTC with ``Z`` (an open window's end is empty),
        ``depth_m`` has millimetres and ``p_inside`` six decimals, each empty when
        it was not computed (NaN: ``evidence="hits"`` or ``"depth"``).
        """
        if len(self) == 0:
            return []
        columns = [
            self.ping.astype(str),
            csv_quoted(self.person_ids()),
            format_utc(self.t),
            csv_quoted(self.fence_ids()),
            format_utc(self.window_start),
            format_utc(self.window_end),
            self.relation(),
            _decimals(self.depth_m, 3),
            _decimals(self.p_inside, 6),
        ]
        lines = np.asarray(columns[0], dtype=str)
        for column in columns[1:]:
            lines = np.char.add(np.char.add(lines, ","), np.asarray(column, dtype=str))
        rows: list[str] = lines.tolist()
        return rows

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write the hits to Parquet, as ``fencecheck match --out HITS.parquet`` does."""
        with HitsWriter(path, "parquet") as writer:
            writer.write(self)

    def to_csv(self, target: str | os.PathLike[str] | TextIO) -> None:
        """Write the hits as CSV, as ``fencecheck match --out HITS.csv`` does."""
        with HitsWriter(target, "csv") as writer:
            writer.write(self)

    def to_geopandas(self, pings: PingTable) -> Any:
        """The hits as a GeoDataFrame of points (WGS-84, EPSG:4326) at their fixes.

        Parameters
        ----------
        pings : PingTable
            The table the hits were matched from: a hit's ``ping`` row names its fix.

        Returns
        -------
        geopandas.GeoDataFrame
            :meth:`to_pandas`'s columns, the fix's ``accuracy_m`` and ``source``,
            and a point ``geometry`` in WGS-84 (the pings' own datum converted on
            reading).

        Raises
        ------
        OptionError
            When a hit's ping row is not in ``pings``.

        Examples
        --------
        >>> import fencecheck as fc
        >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
        >>> pings = fc.read_pings("data/samples/pings.csv")
        >>> points = fc.match(pings, index).to_geopandas(pings)
        >>> points.crs.to_epsg(), points.geometry.geom_type.unique().tolist()
        (4326, ['Point'])
        """
        geopandas = require("geopandas", "geopandas", "Hits.to_geopandas")
        try:
            position = ping_positions(self.ping, pings.row)
        except ValueError as exc:
            raise OptionError(f"Hits.to_geopandas: {exc}") from None
        if not np.array_equal(pings.person[position], self.person):
            raise OptionError("Hits.to_geopandas: these hits do not come from these pings")
        frame = self.to_pandas()
        frame["accuracy_m"] = pings.accuracy_m[position].astype(np.float64)
        frame["source"] = pings.source_names()[position]
        points = geopandas.points_from_xy(pings.lon[position], pings.lat[position])
        return geopandas.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def _decimals(values: NDArray[np.float64], places: int) -> NDArray[np.str_]:
    """Numbers with ``places`` decimals, NaN (not computed) as an empty field.

    Examples
    --------
    >>> _decimals(np.array([1.23456, np.nan]), 3).tolist()
    ['1.235', '']
    """
    text = np.char.mod(f"%.{places}f", values)
    missing = np.isnan(values)
    if missing.any():
        text = np.where(missing, "", text)
    return np.asarray(text, dtype=str)
