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
"""

from __future__ import annotations

import importlib
from types import ModuleType

from fencecheck.errors import MissingDependencyError

__all__ = ["require"]


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
