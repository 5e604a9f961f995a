"""The spatial joins a user would write, shared by the benchmarks' baseline scripts.

Margins are exact distances (``dwithin``), not polygonal buffers. A competent
user joins once, at the largest margin (GeoPandas ``sjoin(predicate="dwithin",
distance=max_margin)``, shapely ``STRtree.query(points, predicate="dwithin",
distance=max_margin)``; a plain ``intersects`` when every margin is 0), then keeps
each pair within its own fence's margin, ``shapely.distance(point, polygon) <=
margin`` over all the pairs at once (a margin of 0 needs a distance of 0: the
point intersects the polygon). In disc mode the point's own reach (its accuracy)
adds to the distance the join and the filter allow.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sjoin_once(points: Any, polys: Any, key: str) -> Any:
    """``(ping, key, t)`` pairs of one GeoPandas ``sjoin``, each within its fence's margin.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        The pings (a ``t`` column), in a metric CRS; the index is the ping's row.
    polys : geopandas.GeoDataFrame
        The fences, in the same CRS, with ``key`` and ``margin`` columns.
    key : str
        The fence column to hand on.

    Returns
    -------
    pandas.DataFrame
        ``ping``, ``key`` and ``t`` of every pair within its fence's margin.
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    reach = float(polys["margin"].max()) if len(polys) else 0.0
    if reach == 0:
        joined = gpd.sjoin(points, polys, predicate="intersects")
    else:
        joined = gpd.sjoin(points, polys, predicate="dwithin", distance=reach)
        fence = polys.geometry.array[joined["index_right"].to_numpy()]
        near = shapely.distance(joined.geometry.array, fence) <= joined["margin"].to_numpy()
        joined = joined[near]
    return pd.DataFrame(
        {
            "ping": joined.index.to_numpy(),
            key: joined[key].to_numpy(),
            "t": joined["t"].to_numpy(),
        }
    )


def strtree_once(
    tree: Any, points: Any, margins: np.ndarray, reach: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(ping, fence)`` pairs of one ``STRtree.query``, each within its fence's margin.

    Parameters
    ----------
    tree : shapely.STRtree
        The fences' polygons, in a metric CRS.
    points : ndarray of shapely.Point
        The pings, in the same CRS.
    margins : ndarray of float64
        Each fence's margin, metres.
    reach : ndarray of float64, optional
        Each ping's own reach (disc mode: its accuracy), added to the margin.

    Returns
    -------
    ping, fence : ndarray of intp
        The pairs' positions in ``points`` and in the tree.
    """
    import shapely

    largest = float(margins.max()) if margins.shape[0] else 0.0
    if reach is None and largest == 0:
        return tree.query(points, predicate="intersects")  # type: ignore[no-any-return]
    allowed = largest if reach is None else largest + reach
    ping, fence = tree.query(points, predicate="dwithin", distance=allowed)
    limit = margins[fence] if reach is None else margins[fence] + reach[ping]
    near = shapely.distance(points[ping], tree.geometries[fence]) <= limit
    return ping[near], fence[near]
