"""The judging entry points' arguments, made into what they need (see :mod:`fencecheck.inputs`).

:func:`as_index` builds a :class:`~fencecheck.index.FenceIndex` from a
:class:`~fencecheck.fences.FenceSet`; :func:`as_people` takes one person id given
as a bare string as that one id (not its characters).

Examples
--------
>>> as_people("001"), as_people(["001", "002"]), as_people(None)
(['001'], ['001', '002'], None)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fencecheck.errors import OptionError
from fencecheck.fences import FenceSet
from fencecheck.index import FenceIndex
from fencecheck.inputs import INDEX_ACCEPTED, as_pings, empty_fences_error

__all__ = ["as_index", "as_people", "as_pings"]


def as_index(obj: Any, *, purpose: str) -> FenceIndex:
    """``obj`` as a :class:`FenceIndex`: an index as it is, a fence set indexed.

    Raises
    ------
    OptionError
        For anything else, or an empty fence set (no frame can be chosen).
    """
    if isinstance(obj, FenceIndex):
        return obj
    if isinstance(obj, FenceSet):
        if len(obj) == 0:
            raise empty_fences_error(purpose, obj.source)
        return FenceIndex.build(obj)
    raise OptionError(f"{purpose}: index is a {type(obj).__name__}; {INDEX_ACCEPTED}")


def as_people(person: Any) -> list[str] | None:
    """Person ids as a list: ``None`` stays ``None``, a bare string is one id.

    Raises
    ------
    OptionError
        For something that is neither a string nor an iterable of strings.
    """
    if person is None:
        return None
    if isinstance(person, str):
        return [person]
    if isinstance(person, Iterable) and not isinstance(person, (bytes, dict)):
        ids = list(person)
        if all(isinstance(p, str) for p in ids):
            return ids
    raise OptionError(
        f"person: {person!r} is not a person id or a list of them; ids are text: "
        "person='001' or person=['001', '002']"
    )
