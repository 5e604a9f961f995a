"""Plain values, defined once: which are missing, arrays of Python objects, counts in words.

A missing value is None, NaN, or pandas' NA / NaT. Readers of fences and pings
both ask; an empty string is *not* missing here (each reader decides what an
empty text means for its field).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["counted", "is_missing", "missing_mask", "missing_objects", "object_array"]


def is_missing(value: object) -> bool:
    """Whether one value is None, NaN or pandas' NA / NaT (a list or an array is not).

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing(""), is_missing([1, 2])
    (True, True, False, False)
    >>> is_missing(np.datetime64("NaT")), is_missing(np.array([np.nan, 1.0]))
    (True, False)
    """
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, (float, np.floating)):
        return bool(value != value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def missing_mask(values: NDArray[Any]) -> NDArray[np.bool_]:
    """Where values are None, NaN or pandas' NA / NaT (never for text arrays).

    Examples
    --------
    >>> missing_mask(np.array([1.0, np.nan])).tolist()
    [False, True]
    >>> missing_mask(np.array(["a", None, float("nan")], dtype=object)).tolist()
    [False, True, True]
    """
    if values.dtype.kind == "O":
        return missing_objects(values)
    if values.dtype.kind == "f":
        return np.isnan(values)
    return np.zeros(values.shape[0], dtype=bool)


def missing_objects(values: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Where an object array holds None, NaN, or pandas' NA / NaT (see :func:`is_missing`)."""
    try:
        none = np.equal(values, np.array(None, dtype=object))
        missing: NDArray[np.bool_] = np.asarray(none | (values != values), dtype=bool)
    except (TypeError, ValueError):  # pandas.NA refuses to be a bool; arrays as values
        missing = np.fromiter((is_missing(v) for v in values), dtype=bool, count=values.shape[0])
    return missing


def object_array(values: Sequence[Any] | NDArray[Any]) -> NDArray[np.object_]:
    """A 1-D object array of Python values (numpy scalars become Python ones).

    Examples
    --------
    >>> object_array(np.array(["001", "P02"])).tolist(), type(object_array(np.array([1]))[0])
    (['001', 'P02'], <class 'int'>)
    """
    items = values.tolist() if isinstance(values, np.ndarray) else list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def counted(n: int, one: str, many: str) -> str:
    """``n`` things with the right plural, thousands separated.

    Examples
    --------
    >>> counted(1, "person", "people"), counted(1200, "row", "rows")
    ('1 person', '1,200 rows')
    """
    return f"{n:,} {one if n == 1 else many}"
