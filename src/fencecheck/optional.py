"""Optional dependencies, imported only when a function needs one.

pandas, pyarrow, GeoPandas, matplotlib and Dask are extras: ``import fencecheck``
never imports them. A function that needs one calls :func:`require`, which
imports it or raises :class:`~fencecheck.errors.MissingDependencyError` naming the
extra that brings it.

Examples
--------
>>> require("json", "none", "A doctest").dumps([1])
'[1]'
>>> try:
...     require("no_such_package_here", "plot", "Drawing a map")
... except ImportError as exc:
...     print(str(exc).split("; ")[1])
install it with: pip install 'fencecheck[plot]'

:func:`tracked` shows progress over a loop: a tqdm bar (the ``progress`` extra) for
``progress=True``, a line to a callable, or nothing.

>>> lines = []
>>> [k for k in tracked(range(3), lines.append, total=3, noun="people explained",
...                     unit="person", purpose="A doctest")]
[0, 1, 2]
>>> lines[-1]
'3 of 3 people explained'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from types import ModuleType
from typing import Any, TypeVar

from fencecheck.errors import MissingDependencyError, OptionError

__all__ = ["Progress", "check_progress", "progress_bar", "require", "tracked"]

Progress = bool | Callable[[str], None] | None
"""What a long function takes as ``progress``: ``True`` for a bar, a callable for lines."""

_T = TypeVar("_T")


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import ``module``, or say which extra to install for ``purpose``.

    Parameters
    ----------
    module : str
        The module to import (``"pyarrow.parquet"``, ``"geopandas"``).
    extra : str
        The fencecheck extra that installs it (``"parquet"``, ``"geopandas"``).
    purpose : str
        What needs it, for the message (``"Hits.to_arrow"``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        When the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(module.split(".")[0], extra, purpose) from exc


def progress_bar(total: int | None, *, unit: str, desc: str, purpose: str) -> Any:
    """A :mod:`tqdm.auto` bar on stderr (a widget in a notebook), from the ``progress`` extra.

    Raises
    ------
    MissingDependencyError
        When tqdm is not installed (``pip install 'fencecheck[progress]'``).
    """
    tqdm = require("tqdm.auto", "progress", purpose).tqdm
    return tqdm(total=total, unit=unit, desc=desc, dynamic_ncols=True)


def check_progress(progress: object) -> None:
    """OptionError unless ``progress`` is None, a bool or a callable."""
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise OptionError(f"progress: {progress!r} is not True, False, None or a callable")


def tracked(
    items: Iterable[_T],
    progress: Progress,
    *,
    total: int,
    noun: str,
    unit: str,
    purpose: str,
    size: Callable[[_T], int] | None = None,
) -> Iterator[_T]:
    """The items, with progress shown as each one is done.

    Parameters
    ----------
    items : iterable
        What the loop goes over.
    progress : bool, callable or None
        ``True``: a tqdm bar (:func:`progress_bar`); a callable: called with
        ``"<done> of <total> <noun>"`` after each item; ``None`` or ``False``: nothing.
    total : int
        The sum of ``size`` over the items (their number without ``size``).
    noun, unit : str
        What is counted, for the line (``"people explained"``) and the bar (``"person"``).
    purpose : str
        What shows the bar, for the error when tqdm is missing.
    size : callable, optional
        How much one item counts (default 1).

    Raises
    ------
    MissingDependencyError
        For ``progress=True`` without tqdm, before the first item.
    """
    check_progress(progress)
    if progress is None or progress is False:
        return iter(items)
    weigh = size or (lambda item: 1)
    if progress is True:
        bar = progress_bar(total, unit=unit, desc=purpose.split("(")[0], purpose=purpose)
        return _with_bar(items, bar, weigh)
    assert callable(progress)
    return _with_lines(items, progress, weigh, total, noun)


def _with_bar(items: Iterable[_T], bar: Any, weigh: Callable[[_T], int]) -> Iterator[_T]:
    try:
        for item in items:
            yield item
            bar.update(weigh(item))
    finally:
        bar.close()


def _with_lines(
    items: Iterable[_T],
    say: Callable[[str], None],
    weigh: Callable[[_T], int],
    total: int,
    noun: str,
) -> Iterator[_T]:
    done = 0
    for item in items:
        yield item
        done += weigh(item)
        say(f"{done:,} of {total:,} {noun}")
