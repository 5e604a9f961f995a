r"""Reading an itinerary (``--itinerary``): a CSV file, a DataFrame or a list of rows.

Every reader hands its columns to :func:`fencecheck.itinerary.build_itinerary`, so
the checks are the same whatever the source; row numbers are 0-based data rows
(the header is not counted), as for pings.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "itinerary.csv")
>>> with open(path, "w", encoding="utf-8") as f:
...     _ = f.write("person_id,place,lon,lat,start,end,radius_m\n"
...                 "001,望京SOHO,116.4811,39.9964,2022-05-02 09:00,2022-05-02 18:00,150\n")
>>> it = read_itinerary(path)
>>> it.place.tolist(), it.radius_m.tolist(), it.datum
(['望京SOHO'], [150.0], 'gcj02')
"""

from __future__ import annotations

import csv
import datetime as _dt
import os
from collections.abc import Mapping, Sequence
from typing import Any

from fencecheck.datums import Datum
from fencecheck.errors import DataError
from fencecheck.itinerary import Itinerary, build_itinerary
from fencecheck.options import OnError

__all__ = ["read_itinerary"]


def read_itinerary(
    source: str | os.PathLike[str] | Sequence[Mapping[str, Any]] | Itinerary | Any,
    *,
    datum: Datum | str = Datum.GCJ02,
    tz: str | _dt.tzinfo | None = None,
    on_error: OnError | str = OnError.RAISE,
    encoding: str = "utf-8",
) -> Itinerary:
    """Read reported places.

    Parameters
    ----------
    source : path, DataFrame, list of mappings or Itinerary
        A CSV file with ``person_id, place, lon, lat, start, end`` and optionally
        ``radius_m``; a :class:`pandas.DataFrame` or a list of dicts with those
        keys. An :class:`~fencecheck.itinerary.Itinerary` is returned as it is.
    datum : {"gcj02", "wgs84", "bd09"}
        The pins' datum (default GCJ-02: Amap pins).
    tz : str or tzinfo, optional
        The zone naive times are read in (default Asia/Shanghai).
    on_error : {"raise", "reject"}
        Stop at the first bad row, or set bad rows aside in ``rejected``.
    encoding : str
        Text encoding of a CSV file.

    Raises
    ------
    DataError
        When the file cannot be read, or (under ``on_error="raise"``) for the
        first bad row, naming the file, the row and the field.
    """
    if isinstance(source, Itinerary):
        return source
    if hasattr(source, "columns") and hasattr(source, "to_dict"):
        frame: Any = source
        columns = {str(name): frame[name].to_numpy(dtype=object) for name in frame.columns}
        return build_itinerary(columns, datum=datum, tz=tz, on_error=on_error, source="DataFrame")
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        columns = _read_csv(name, encoding)
        return build_itinerary(columns, datum=datum, tz=tz, on_error=on_error, source=name)
    records = list(source)
    keys: list[str] = []
    for record in records:
        keys.extend(k for k in record if k not in keys)
    columns = {key: [record.get(key) for record in records] for key in keys}
    return build_itinerary(columns, datum=datum, tz=tz, on_error=on_error, source="<records>")


def _read_csv(path: str, encoding: str) -> dict[str, list[Any]]:
    try:
        with open(path, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise DataError("the file is empty (no header row)", source=path)
            names = [h.strip().lstrip("\ufeff") for h in header]
            columns: dict[str, list[Any]] = {name: [] for name in names}
            for line, values in enumerate(reader, start=2):
                if not values:
                    continue
                if len(values) != len(names):
                    raise DataError(
                        f"has {len(values)} fields, the header {len(names)}",
                        source=path,
                        row=len(columns[names[0]]),
                        line=line,
                    )
                for name, value in zip(names, values, strict=True):
                    columns[name].append(value)
    except FileNotFoundError:
        raise DataError("no such file", source=path) from None
    except IsADirectoryError:
        raise DataError("is a directory, not a CSV file", source=path) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not {encoding} text ({exc.reason}); pass the file's encoding", source=path
        ) from None
    return columns
