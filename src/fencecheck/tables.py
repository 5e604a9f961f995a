"""Small result tables: named numpy columns, to pandas, CSV or Parquet.

A :class:`Table` is what :func:`fencecheck.judging.scan` returns for each of its
results. Time columns hold UTC milliseconds (int64) with :data:`NO_TIME` for a
missing one; they are written as docs/contract.md says: ISO 8601 UTC with ``Z`` in CSV
(empty when missing) and ``timestamp[ms, tz=UTC]`` in Parquet (null when
missing). Missing numbers are NaN (empty in CSV, null in Parquet).

Examples
--------
>>> table = Table({"fence_id": np.array(["F1", "F2"], dtype=object),
...                "people": np.array([3, 0])})
>>> len(table), table.names, table["people"].tolist()
(2, ('fence_id', 'people'), [3, 0])
>>> import io
>>> out = io.StringIO()
>>> table.to_csv(out)
>>> out.getvalue().splitlines()
['fence_id,people', 'F1,3', 'F2,0']
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError, OptionError
from fencecheck.optional import require
from fencecheck.times import format_utc

__all__ = ["NO_TIME", "Table", "table_format", "utc_datetimes"]

NO_TIME = np.iinfo(np.int64).min
"""The value of a missing time in a time column."""


def table_format(given: str) -> str:
    """``csv`` or ``parquet`` (case-insensitive); OptionError for anything else."""
    kind = str(given).strip().lower()
    if kind not in ("csv", "parquet"):
        raise OptionError(f"format: {given!r} is not one of 'csv', 'parquet'")
    return kind


class Table:
    """Named columns of equal length, in order.

    Parameters
    ----------
    columns : mapping of str to ndarray
        The columns, in order.
    times : iterable of str
        The names of the columns that hold UTC milliseconds.
    """

    def __init__(self, columns: Mapping[str, NDArray[Any]], times: tuple[str, ...] = ()) -> None:
        self.columns = {name: np.asarray(values) for name, values in columns.items()}
        lengths = {values.shape[0] for values in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of unequal length: {sorted(lengths)}")
        unknown = set(times) - set(self.columns)
        if unknown:
            raise ValueError(f"time columns {sorted(unknown)} are not columns")
        self.times = tuple(times)

    def __len__(self) -> int:
        return next(iter(self.columns.values())).shape[0] if self.columns else 0

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self.columns[name]

    def __repr__(self) -> str:
        return f"Table({len(self)} rows: {', '.join(self.names)})"

    @property
    def names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(self.columns)

    def take(self, positions: NDArray[Any]) -> Table:
        """The rows at these positions (or where a mask is true)."""
        return Table({k: v[positions] for k, v in self.columns.items()}, self.times)

    def to_pandas(self) -> Any:
        """A :class:`pandas.DataFrame`, time columns as tz-aware UTC datetimes."""
        pd = require("pandas", "pandas", "Table.to_pandas")
        data: dict[str, Any] = {}
        for name, values in self.columns.items():
            data[name] = utc_datetimes(values) if name in self.times else values
        return pd.DataFrame(data)

    def to_csv(self, target: str | os.PathLike[str] | TextIO, *, excel: bool = False) -> None:
        """Write as CSV (times ISO 8601 UTC with ``Z``; missing values empty).

        UTF-8 without a byte-order mark, which scripts, pandas and ``cut`` read as
        it is; ``excel=True`` starts the file (or stream) with one (``utf-8-sig``),
        without which Excel shows Chinese text garbled.
        """
        texts = [self._text(name) for name in self.names]
        if isinstance(target, (str, os.PathLike)):
            encoding = "utf-8-sig" if excel else "utf-8"
            with open(target, "w", encoding=encoding, newline="") as handle:
                self._write_rows(handle, texts)
        else:
            if excel:
                target.write("\ufeff")
            self._write_rows(target, texts)

    def _write_rows(self, handle: TextIO, texts: list[list[str]]) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(self.names)
        writer.writerows(zip(*texts, strict=True))

    def _text(self, name: str) -> list[str]:
        values = self.columns[name]
        if name in self.times:
            missing = values == NO_TIME
            text = np.asarray(format_utc(np.where(missing, 0, values)), dtype=object)
            text[missing] = ""
            return [str(v) for v in text.tolist()]
        if values.dtype.kind == "f":
            return ["" if np.isnan(v) else repr(float(v)) for v in values.tolist()]
        if values.dtype.kind == "b":
            return ["true" if v else "false" for v in values.tolist()]
        return ["" if v is None else str(v) for v in values.tolist()]

    def to_arrow(self) -> Any:
        """A :class:`pyarrow.Table` with docs/contract.md's types."""
        try:
            import pyarrow as pa
        except ImportError as exc:
            raise MissingDependencyError("pyarrow", "parquet", "Table.to_arrow") from exc
        arrays = {}
        for name, values in self.columns.items():
            if name in self.times:
                missing = values == NO_TIME
                arrays[name] = pa.array(
                    np.where(missing, 0, values), pa.timestamp("ms", tz="UTC"), mask=missing
                )
            elif values.dtype.kind == "f":
                arrays[name] = pa.array(values, pa.float64(), mask=np.isnan(values))
            elif values.dtype.kind in "iu":
                arrays[name] = pa.array(values, pa.int64())
            elif values.dtype.kind == "b":
                arrays[name] = pa.array(values, pa.bool_())
            else:
                arrays[name] = pa.array(
                    [None if v is None else str(v) for v in values.tolist()], pa.string()
                )
        return pa.table(arrays)

    def to_parquet(self, path: str | os.PathLike[str]) -> None:
        """Write as Parquet (times ``timestamp[ms, tz=UTC]``)."""
        import pyarrow.parquet as pq

        pq.write_table(self.to_arrow(), os.fspath(path))

    def write(
        self, path: str | os.PathLike[str], file_format: str = "csv", *, excel: bool = False
    ) -> None:
        """Write as ``csv`` or ``parquet`` (``excel``: CSV with a byte-order mark)."""
        if table_format(file_format) == "parquet":
            self.to_parquet(path)
        else:
            self.to_csv(path, excel=excel)


def utc_datetimes(ms: NDArray[np.int64]) -> Any:
    """UTC milliseconds as a tz-aware pandas Series (:data:`NO_TIME` becomes NaT).

    Examples
    --------
    >>> stamps = utc_datetimes(np.array([0, NO_TIME]))
    >>> str(stamps[0]), bool(stamps.isna()[1])
    ('1970-01-01 00:00:00+00:00', True)
    """
    pd = require("pandas", "pandas", "Time columns as datetimes")
    stamps = np.asarray(ms).astype("datetime64[ms]")
    stamps[np.asarray(ms) == NO_TIME] = np.datetime64("NaT")
    return pd.Series(pd.to_datetime(stamps, utc=True))
