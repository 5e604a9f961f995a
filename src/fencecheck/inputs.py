"""What the Python entry points accept for pings and fences, made into what they need.

``match``, ``explain`` and ``scan`` take ``(pings, index)``. People naturally pass
what they have at hand: a path or a DataFrame for the pings, a
:class:`~fencecheck.fences.FenceSet` for the fences. :func:`as_pings` reads the
first with :func:`fencecheck.read_pings` (default options), :func:`as_shapes`
puts a fence set in its own frame; anything else is refused with an
:class:`~fencecheck.errors.OptionError` that names what was given and what is
accepted, never a raw ``AttributeError``. (The judging layer builds a full
:class:`~fencecheck.index.FenceIndex` in :mod:`fencecheck.judging.inputs`; this
module sits in the matching layer, below the index.)

Examples
--------
>>> import fencecheck as fc
>>> pings = as_pings("data/samples/pings.csv", purpose="match")
>>> len(pings) == len(fc.read_pings("data/samples/pings.csv"))
True
>>> as_pings({"lon": [116.4]}, purpose="match")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
fencecheck.errors.OptionError: match: pings is a dict; give a PingTable (fc.read_pings(...)), ...
"""

from __future__ import annotations

import os
from typing import Any

from fencecheck.errors import OptionError
from fencecheck.fences import FenceSet
from fencecheck.io.pings import read_pings
from fencecheck.pings import PingTable
from fencecheck.shapes import FenceShapes

__all__ = ["INDEX_ACCEPTED", "as_pings", "as_shapes", "empty_fences_error"]

INDEX_ACCEPTED = (
    "give a FenceIndex (fc.FenceIndex.build(fc.read_fences(path))) or a FenceSet "
    "(fc.read_fences(path))"
)
"""What an index argument may be, for messages."""


def as_pings(obj: Any, *, purpose: str) -> PingTable:
    """``obj`` as a :class:`PingTable`: a table as it is, a path or DataFrame read.

    Raises
    ------
    OptionError
        For anything else (a Dask DataFrame: see :func:`fencecheck.read_pings`).
    """
    if isinstance(obj, PingTable):
        return obj
    if isinstance(obj, (str, os.PathLike)) or hasattr(obj, "npartitions"):
        return read_pings(obj)
    if type(obj).__name__ == "DataFrame" and hasattr(obj, "columns"):
        return read_pings(obj)
    if isinstance(obj, (FenceShapes, FenceSet)):
        raise OptionError(
            f"{purpose}: pings is a {type(obj).__name__}; the pings come first: "
            f"{purpose}(pings, index)"
        )
    raise OptionError(
        f"{purpose}: pings is a {type(obj).__name__}; give a PingTable (fc.read_pings(...)), "
        "a path to a .csv or .parquet ping file, or a pandas DataFrame"
    )


def as_shapes(obj: Any, *, purpose: str) -> FenceShapes:
    """``obj`` as :class:`FenceShapes`: an index as it is, a fence set in its own frame.

    Raises
    ------
    OptionError
        For anything else, or for an empty fence set (no frame can be chosen).
    """
    if isinstance(obj, FenceShapes):
        return obj
    if isinstance(obj, FenceSet):
        if len(obj) == 0:
            raise empty_fences_error(purpose, obj.source)
        return FenceShapes(obj, obj.frame())
    raise OptionError(f"{purpose}: index is a {type(obj).__name__}; {INDEX_ACCEPTED}")


def empty_fences_error(purpose: str, source: str | None) -> OptionError:
    """The error for a fence set without a fence where one is needed."""
    where = f" ({source})" if source else ""
    return OptionError(
        f"{purpose}: no fence was read{where}, so there is nothing to match the pings "
        "against; check the fence file (fencecheck validate --fences F), or give cases"
    )
