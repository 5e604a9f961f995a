"""Readers and writers: files and data frames in, files out.

- :func:`read_fences`, :func:`write_fences`: GeoJSON (RFC 7946) or a
  GeoDataFrame, in any of the three datums (:mod:`fencecheck.io.fences`);
- :func:`read_pings`, :func:`iter_pings`: CSV, Parquet or a DataFrame, every
  value checked, chunk by chunk (:mod:`fencecheck.io.pings`);
- :class:`HitsWriter`: hits to CSV or Parquet, chunk by chunk
  (:mod:`fencecheck.io.hits`);
- :class:`PersonPartitions`, :func:`sorted_batches`: a ping stream regrouped by
  person into batches of whole people (:mod:`fencecheck.io.partition`);
- :class:`PingTally`, :class:`Reading`: what a stream read, used and set aside
  (:mod:`fencecheck.io.tally`);
- :func:`read_region`: the region a person should not have left, in its datum
  (:mod:`fencecheck.io.region`);
- :func:`read_itinerary`: the places residents reported, Amap pins by default
  (:mod:`fencecheck.io.itinerary`).

The file contract (columns, times, row numbers) is ``docs/contract.md``. The
itinerary, region and partition modules are imported when one of their names is
first used (``fencecheck match`` needs none of them).

Examples
--------
>>> import fencecheck.io as fio
>>> len(fio.read_pings("data/samples/pings.csv"))
400
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fencecheck.io.fences import read_fences, write_fences
from fencecheck.io.hits import HitsWriter
from fencecheck.io.pings import DEFAULT_CHUNK_ROWS, PingOptions, iter_pings, read_pings
from fencecheck.io.tally import PingTally, Reading

if TYPE_CHECKING:
    from fencecheck.io.itinerary import read_itinerary
    from fencecheck.io.partition import PersonPartitions, sorted_batches
    from fencecheck.io.region import read_region

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "HitsWriter",
    "PersonPartitions",
    "PingOptions",
    "PingTally",
    "Reading",
    "iter_pings",
    "read_fences",
    "read_itinerary",
    "read_pings",
    "read_region",
    "sorted_batches",
    "write_fences",
]

# Names imported when first used, and where they live.
_LAZY = {
    "PersonPartitions": "fencecheck.io.partition",
    "read_itinerary": "fencecheck.io.itinerary",
    "read_region": "fencecheck.io.region",
    "sorted_batches": "fencecheck.io.partition",
}


def __getattr__(name: str) -> Any:
    """The names of the itinerary, region and partition modules, imported when first used."""
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fencecheck.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
