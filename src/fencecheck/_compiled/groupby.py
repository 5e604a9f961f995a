"""Small group-by helpers on integer group labels (faster than ``ufunc.at``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

__all__ = ["any_by", "pairs_of"]


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


def pairs_of(
    person: NDArray[np.int32], fence: NDArray[np.int64], n_fences: int
) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.int64]]:
    """The distinct (person, fence) pairs of some rows, and each row's pair.

    Returns ``pair_of_row``, and each pair's person and fence. Rows sorted by
    person are paired in one pass (pairs by person, then first appearance);
    others by a sort (pairs by person, then fence).

    Examples
    --------
    >>> pair, who, where = pairs_of(np.array([0, 0, 1], np.int32), np.array([5, 5, 2]), 6)
    >>> pair.tolist(), who.tolist(), where.tolist()
    ([0, 0, 1], [0, 1], [5, 2])
    """
    person = np.ascontiguousarray(person, dtype=np.int32)
    fence = np.ascontiguousarray(fence, dtype=np.int64)
    n = max(int(n_fences), 1)
    if bool(np.all(person[1:] >= person[:-1])):
        pair, who, where = _pairs_of_sorted(person, fence, n)
        return np.asarray(pair), np.asarray(who), np.asarray(where)
    pairs, pair = np.unique(person.astype(np.int64) * n + fence, return_inverse=True)
    return (
        np.asarray(pair.reshape(-1), dtype=np.int64),
        (pairs // n).astype(np.int32),
        (pairs % n).astype(np.int64),
    )


@njit(nogil=True, cache=True)
def _pairs_of_sorted(person: Any, fence: Any, n_fences: int) -> Any:
    """:func:`pairs_of` for rows sorted by person: a scratch slot per fence, reset per person."""
    n = person.shape[0]
    slot = np.full(n_fences, -1, dtype=np.int64)
    pair = np.empty(n, dtype=np.int64)
    who = np.empty(n, dtype=np.int32)
    where = np.empty(n, dtype=np.int64)
    m = 0
    first = 0  # the first pair of the current person
    for i in range(n):
        if i > 0 and person[i] != person[i - 1]:
            for k in range(first, m):
                slot[where[k]] = -1
            first = m
        f = fence[i]
        if slot[f] < 0:
            slot[f] = m
            who[m] = person[i]
            where[m] = f
            m += 1
        pair[i] = slot[f]
    return pair, who[:m].copy(), where[:m].copy()
