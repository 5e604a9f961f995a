"""fencecheck: explain Beijing Health Kit pop-up ③ from location pings and fences.

The library matches location pings against electronic fences (closed areas with
active time windows) and weighs the evidence. This module gathers the public
names; each lives in a small module of its own.

Examples
--------
>>> import fencecheck
>>> fencecheck.Datum.parse("GCJ-02")
<Datum.GCJ02: 'gcj02'>
"""

from fencecheck._version import __version__
from fencecheck.datums import (
    Datum,
    bd09_to_gcj02,
    bd09_to_wgs84,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)
from fencecheck.episodes import Episodes, find_episodes
from fencecheck.errors import (
    DataError,
    FenceCheckError,
    FenceCheckWarning,
    FenceDataError,
    MissingDependencyError,
    OptionError,
    PingDataError,
)
from fencecheck.explain import Explanation, explain
from fencecheck.fence_io import read_fences, write_fences
from fencecheck.fences import KNOWN_KINDS, FenceSet
from fencecheck.frame import MetricFrame
from fencecheck.index import FenceIndex
from fencecheck.interop import (
    episode_table,
    explanation_table,
    fences_to_geopandas,
    hits_to_geopandas,
)
from fencecheck.jumps import Jumps, find_jumps
from fencecheck.matching import Hits, match, match_chunks
from fencecheck.near import NearMisses, near_misses
from fencecheck.options import Boundary, EpochUnit, InvalidPolicy, MatchMode, OnError, Source
from fencecheck.ping_io import iter_pings, read_pings
from fencecheck.pings import DEFAULT_ACCURACY_M, PersonRegistry, PingTable
from fencecheck.plot import plot_explanation, plot_fence
from fencecheck.policy import Policy
from fencecheck.rejected import Rejected
from fencecheck.scan import WHATIF_RULES, Scan, scan
from fencecheck.tables import Table
from fencecheck.times import DEFAULT_TZ, OPEN_END
from fencecheck.verdicts import Verdicts, judge

__all__ = [
    "DEFAULT_ACCURACY_M",
    "DEFAULT_TZ",
    "KNOWN_KINDS",
    "OPEN_END",
    "WHATIF_RULES",
    "Boundary",
    "DataError",
    "Datum",
    "Episodes",
    "EpochUnit",
    "Explanation",
    "FenceCheckError",
    "FenceCheckWarning",
    "FenceDataError",
    "FenceIndex",
    "FenceSet",
    "Hits",
    "InvalidPolicy",
    "Jumps",
    "MatchMode",
    "MetricFrame",
    "MissingDependencyError",
    "NearMisses",
    "OnError",
    "OptionError",
    "PersonRegistry",
    "PingDataError",
    "PingTable",
    "Policy",
    "Rejected",
    "Scan",
    "Source",
    "Table",
    "Verdicts",
    "__version__",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "episode_table",
    "explain",
    "explanation_table",
    "fences_to_geopandas",
    "find_episodes",
    "find_jumps",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "hits_to_geopandas",
    "iter_pings",
    "judge",
    "match",
    "match_chunks",
    "near_misses",
    "plot_explanation",
    "plot_fence",
    "read_fences",
    "read_pings",
    "scan",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
    "write_fences",
]
