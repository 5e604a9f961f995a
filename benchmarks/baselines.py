"""The spatial joins a user would write, shared by the benchmarks' baseline scripts.

Margins are exact distances (``dwithin``), not polygonal buffers, so each margin
value is joined on its own: GeoPandas ``sjoin`` and shapely ``STRtree.query``
take one distance per call (or per point, for the STRtree in disc mode).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sjoin_by_margin(points: Any, polys: Any, key: str) -> Any:
    """``(ping, key, t)`` pairs of a GeoPandas ``sjoin`` per margin of ``polys["margin"]``."""
    import geopandas as gpd
    import pandas as pd

    parts = []
    for margin in np.unique(polys["margin"]):
        group = polys[polys["margin"] == margin]
        if margin == 0:
            joined = gpd.sjoin(points, group, predicate="intersects")
        else:
            joined = gpd.sjoin(points, group, predicate="dwithin", distance=margin)
        parts.append(
            pd.DataFrame(
                {
                    "ping": joined.index.to_numpy(),
                    key: joined[key].to_numpy(),
                    "t": joined["t"].to_numpy(),
                }
            )
        )
    return pd.concat(parts)


def strtree_by_margin(
    tree: Any, points: Any, margins: np.ndarray, reach: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(ping, fence)`` pairs of ``STRtree.query`` per margin; ``reach`` adds per point."""
    pings, fences = [], []
    for margin in np.unique(margins):
        if reach is not None:
            ping, fence = tree.query(points, predicate="dwithin", distance=margin + reach)
        elif margin == 0:
            ping, fence = tree.query(points, predicate="intersects")
        else:
            ping, fence = tree.query(points, predicate="dwithin", distance=margin)
        keep = margins[fence] == margin
        pings.append(ping[keep])
        fences.append(fence[keep])
    return np.concatenate(pings), np.concatenate(fences)
