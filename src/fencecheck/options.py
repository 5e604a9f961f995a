"""Option enums shared by the readers, the matcher and the command line.

Every option is a ``str`` enum, so ``"reject"`` and ``OnError.REJECT`` are
interchangeable, and every enum's :meth:`~ChoiceEnum.parse` names the valid values
when it refuses one.

Examples
--------
>>> OnError.parse("REJECT")
<OnError.REJECT: 'reject'>
>>> OnError.parse("skip")
Traceback (most recent call last):
...
fencecheck.errors.OptionError: on_error: 'skip' is not one of 'raise', 'reject'
"""

from __future__ import annotations

import enum
import os
from typing import TypeVar

from fencecheck.errors import OptionError

__all__ = [
    "Boundary",
    "ChoiceEnum",
    "EpochUnit",
    "Evidence",
    "InvalidPolicy",
    "MatchMode",
    "OnError",
    "Source",
    "thread_count",
]

_E = TypeVar("_E", bound="ChoiceEnum")


class ChoiceEnum(str, enum.Enum):
    """A string option whose parser lists the valid values when it refuses one."""

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        """Other accepted spellings, lower-case, mapped to a member's value."""
        return {}

    @classmethod
    def _option_name(cls) -> str:
        return cls.__name__.lower()

    @classmethod
    def parse(cls: type[_E], value: object) -> _E:
        """Return the member that ``value`` names (case-insensitive), or raise.

        Raises
        ------
        OptionError
            When ``value`` names no member; the message lists the valid values.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip().lower()
            key = cls._aliases().get(key, key)
            for member in cls:
                if member.value == key:
                    return member
        valid = ", ".join(repr(m.value) for m in cls)
        raise OptionError(f"{cls._option_name()}: {value!r} is not one of {valid}")

    def __str__(self) -> str:
        return str(self.value)


class OnError(ChoiceEnum):
    """What to do with a bad ping row or fence feature.

    ``raise`` stops at the first one with an error naming it; ``reject`` sets it
    aside in a rejected table with its reason and carries on.
    """

    RAISE = "raise"
    REJECT = "reject"

    @classmethod
    def _option_name(cls) -> str:
        return "on_error"


class InvalidPolicy(ChoiceEnum):
    """What to do with an invalid (for example self-intersecting) fence polygon.

    ``raise`` refuses it, naming the fence and GEOS's reason; ``repair`` applies
    :func:`shapely.make_valid`, keeps the polygonal part and reports the fence as
    repaired.
    """

    RAISE = "raise"
    REPAIR = "repair"

    @classmethod
    def _option_name(cls) -> str:
        return "invalid"


class EpochUnit(ChoiceEnum):
    """The unit of integer timestamps in the input: seconds (default) or milliseconds."""

    S = "s"
    MS = "ms"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"seconds": "s", "sec": "s", "milliseconds": "ms"}

    @classmethod
    def _option_name(cls) -> str:
        return "epoch_unit"


class Source(ChoiceEnum):
    """Where a ping's position came from. The code order is the storage order."""

    GPS = "gps"
    WIFI = "wifi"
    CELL = "cell"

    @property
    def code(self) -> int:
        """The small integer stored in a ping table's ``source`` column."""
        return list(Source).index(self)


class MatchMode(ChoiceEnum):
    """How a ping meets a fence.

    ``point``: the ping's position is in the fence grown by its margin.
    ``disc``: the ping's accuracy disc reaches the grown fence (what a
    signalling-based fence effectively does).
    """

    POINT = "point"
    DISC = "disc"

    @classmethod
    def _option_name(cls) -> str:
        return "mode"


class Evidence(ChoiceEnum):
    """How much evidence matching computes for each hit.

    ``full``: ``depth_m`` and ``p_inside``; ``depth``: ``depth_m`` only
    (``p_inside`` NaN, for a caller that computes it where it needs it);
    ``hits``: the pairs alone, with their window and ``relation`` (``depth_m``
    and ``p_inside`` NaN), what a spatial join returns; in point mode the
    fastest, read from the index's classified raster. ``True`` and ``False``
    mean ``full`` and ``depth``.

    Examples
    --------
    >>> Evidence.parse("hits"), Evidence.parse(True), Evidence.parse(False)
    (<Evidence.HITS: 'hits'>, <Evidence.FULL: 'full'>, <Evidence.DEPTH: 'depth'>)
    """

    FULL = "full"
    DEPTH = "depth"
    HITS = "hits"

    @classmethod
    def parse(cls, value: object) -> Evidence:
        """The member ``value`` names; a bool means ``full`` (True) or ``depth`` (False)."""
        if isinstance(value, bool):
            return cls.FULL if value else cls.DEPTH
        return super().parse(value)


class Boundary(ChoiceEnum):
    """Whether a ping exactly on the boundary counts: ``covers`` (yes) or ``contains`` (no)."""

    COVERS = "covers"
    CONTAINS = "contains"


def thread_count(threads: int | None) -> int:
    """Threads for the compiled kernels: ``threads``, or the CPUs this process may use.

    Examples
    --------
    >>> thread_count(3)
    3
    >>> thread_count(0)
    Traceback (most recent call last):
    ...
    fencecheck.errors.OptionError: threads: 0 is not a positive whole number
    """
    if threads is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not on Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise OptionError(f"threads: {threads!r} is not a positive whole number")
    return threads
