"""Small group-by helpers on integer group labels (faster than ``ufunc.at``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["any_by"]


def any_by(
    group: NDArray[np.integer[Any]], flags: NDArray[np.bool_] | bool, size: int
) -> NDArray[np.bool_]:
    """Per group ``0..size-1``, whether any of its rows is flagged.

    Examples
    --------
    >>> any_by(np.array([0, 2, 2]), np.array([False, True, False]), 4).tolist()
    [False, False, True, False]
    """
    chosen = group if flags is True else group[np.asarray(flags, dtype=bool)]
    return np.asarray(np.bincount(chosen, minlength=size)[:size] > 0, dtype=bool)
