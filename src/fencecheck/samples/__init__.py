"""The bundled samples: seven invented fences and eight invented people in Beijing.

Shipped inside the package, so that ``fencecheck demo`` and the examples work
after a plain ``pip install``. The stories behind each person, with their
numbers, are in ``data/samples/README.md`` of the repository; the generator is
``data/samples/make_samples.py``.

Examples
--------
>>> import fencecheck as fc
>>> len(fc.read_fences(path("fences.geojson")))
7
>>> sorted(p.name for p in folder().iterdir() if p.suffix in (".csv", ".geojson"))
['cases.csv', 'fences.geojson', 'pings.csv']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["NAMES", "folder", "path"]

NAMES = ("fences.geojson", "pings.csv", "cases.csv")
"""The sample files: fences, people's pings, and three confirmed cases' pings."""


def folder() -> Path:
    """The folder the sample files are in (inside the installed package)."""
    return Path(str(resources.files(__name__)))


def path(name: str) -> Path:
    """The path of one sample file, by name (one of :data:`NAMES`).

    Raises
    ------
    FileNotFoundError
        For a name that is not a sample file.
    """
    if name not in NAMES:
        raise FileNotFoundError(f"{name!r} is not a bundled sample; the samples are {NAMES}")
    return folder() / name
