"""fencecheck: explain Beijing Health Kit pop-up ③ from location pings and fences.

The library matches location pings against electronic fences (closed areas with
active time windows) and weighs the evidence. The top level holds what a user
needs for the whole job, with one argument order everywhere, ``(pings, index)``:

- read: :func:`read_fences`, :func:`write_fences`, :func:`read_pings`, :func:`iter_pings`;
- the tables: :class:`FenceSet`, :class:`PingTable`, :class:`Hits`;
- match: :class:`FenceIndex`, :class:`MetricFrame`, :func:`match`;
- judge: :func:`explain` (:class:`Explanation`), :func:`scan` and :func:`scan_file`
  (:class:`Scan`), with every threshold in a :class:`Policy`; :func:`companions`, the
  spatiotemporal companion rule against confirmed cases;
- :class:`Datum`, and the errors :class:`FenceCheckError` and :class:`DataError`.

The building blocks live in documented rooms: :mod:`fencecheck.judging` (episodes,
jumps, near misses, verdicts, maps, tables), :mod:`fencecheck.io` (readers and
writers), :mod:`fencecheck.datums`, :mod:`fencecheck.options`,
:mod:`fencecheck.errors`, :mod:`fencecheck.times`. ``docs/design.md`` draws the
layers.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> len(fc.match(pings, index, mode="disc")) > len(fc.match(pings, index))
True
>>> [p06] = fc.explain(pings, index, person=["P06"])
>>> p06.verdict, p06.reasons
('false_trigger', ('datum_shift',))

The judging layer (:func:`explain`, :func:`scan`, :func:`scan_file`,
:func:`companions` and their tables) is imported when one of its names is first
used, so that ``import fencecheck`` and ``fencecheck match`` do not pay for it.
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any

from fencecheck._version import __version__
from fencecheck.datums import Datum
from fencecheck.errors import DataError, FenceCheckError
from fencecheck.fences import FenceSet
from fencecheck.frame import MetricFrame
from fencecheck.hits import Hits
from fencecheck.index import FenceIndex
from fencecheck.io import iter_pings, read_fences, read_pings, write_fences
from fencecheck.matching import match
from fencecheck.pings import PingTable
from fencecheck.policy import Policy

if TYPE_CHECKING:
    from fencecheck.judging import Explanation, Scan, companions, explain, scan, scan_file

__all__ = [
    "DataError",
    "Datum",
    "Explanation",
    "FenceCheckError",
    "FenceIndex",
    "FenceSet",
    "Hits",
    "MetricFrame",
    "PingTable",
    "Policy",
    "Scan",
    "__version__",
    "companions",
    "explain",
    "iter_pings",
    "match",
    "read_fences",
    "read_pings",
    "scan",
    "scan_file",
    "write_fences",
]

# Top-level names imported when first used, and where they live.
_LAZY = {
    name: "fencecheck.judging"
    for name in ("Explanation", "Scan", "companions", "explain", "scan", "scan_file")
}

# Names the top level had before 0.2, and where they live now. They still work for
# one release, with a DeprecationWarning that names the new place.
_MOVED = {
    "DEFAULT_ACCURACY_M": "fencecheck.pings",
    "DEFAULT_TZ": "fencecheck.times",
    "KNOWN_KINDS": "fencecheck.fences",
    "OPEN_END": "fencecheck.times",
    "WHATIF_RULES": "fencecheck.judging",
    "Boundary": "fencecheck.options",
    "EpochUnit": "fencecheck.options",
    "InvalidPolicy": "fencecheck.options",
    "MatchMode": "fencecheck.options",
    "OnError": "fencecheck.options",
    "Source": "fencecheck.options",
    "FenceCheckWarning": "fencecheck.errors",
    "FenceDataError": "fencecheck.errors",
    "MissingDependencyError": "fencecheck.errors",
    "OptionError": "fencecheck.errors",
    "PingDataError": "fencecheck.errors",
    "Episodes": "fencecheck.judging",
    "Jumps": "fencecheck.judging",
    "NearMisses": "fencecheck.judging",
    "Verdicts": "fencecheck.judging",
    "PersonRegistry": "fencecheck.pings",
    "Rejected": "fencecheck.rejected",
    "Table": "fencecheck.tables",
    "bd09_to_gcj02": "fencecheck.datums",
    "bd09_to_wgs84": "fencecheck.datums",
    "from_wgs84": "fencecheck.datums",
    "gcj02_to_bd09": "fencecheck.datums",
    "gcj02_to_wgs84": "fencecheck.datums",
    "to_wgs84": "fencecheck.datums",
    "wgs84_to_bd09": "fencecheck.datums",
    "wgs84_to_gcj02": "fencecheck.datums",
    "episode_table": "fencecheck.judging",
    "explanation_table": "fencecheck.judging",
    "find_episodes": "fencecheck.judging",
    "find_jumps": "fencecheck.judging",
    "judge": "fencecheck.judging",
    "near_misses": "fencecheck.judging",
    "plot_explanation": "fencecheck.judging",
    "plot_fence": "fencecheck.judging",
    "match_chunks": "fencecheck.matching",
}
# Functions that became methods.
_BECAME_METHODS = {
    "fences_to_geopandas": "FenceSet.to_geopandas(datum=...)",
    "hits_to_geopandas": "Hits.to_geopandas(pings)",
}


def __getattr__(name: str) -> Any:
    """The judging names and room, imported when first used; the old top-level spellings.

    An old spelling still works for one release, with a DeprecationWarning.
    """
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name == "judging":
        return importlib.import_module("fencecheck.judging")
    if name in _MOVED:
        home = _MOVED[name]
        warnings.warn(
            f"fencecheck.{name} is deprecated: use {home}.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), name)
    if name in _BECAME_METHODS:
        warnings.warn(
            f"fencecheck.{name} is deprecated: use {_BECAME_METHODS[name]}",
            DeprecationWarning,
            stacklevel=2,
        )
        return _fences_to_geopandas if name == "fences_to_geopandas" else _hits_to_geopandas
    raise AttributeError(f"module 'fencecheck' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"judging"})


def _fences_to_geopandas(fences: FenceSet, *, datum: Datum | str = Datum.WGS84) -> Any:
    return fences.to_geopandas(datum=datum)


def _hits_to_geopandas(hits: Hits, pings: PingTable) -> Any:
    return hits.to_geopandas(pings)
