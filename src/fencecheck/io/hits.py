"""Writing hits tables: CSV or Parquet, chunk by chunk, as docs/contract.md specifies.

Columns: ``ping, person_id, t, fence_id, window_start, window_end, relation,
depth_m, p_inside``. In CSV, times are ISO 8601 UTC with ``Z`` (an open window's
end is empty), ``depth_m`` has millimetres (3 decimals) and ``p_inside`` 6
decimals; in Parquet, times are ``timestamp[ms, tz=UTC]`` (null for an open end)
and numbers keep full precision. A :class:`HitsWriter` takes the hits of one
chunk at a time, so a whole input is written with bounded memory. It writes any
table that renders itself as CSV lines and as Arrow (:class:`HitChunk`), which
:class:`fencecheck.Hits` does; this module does not depend on it.

Examples
--------
>>> import io, fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> hits = fc.match(fc.read_pings("data/samples/pings.csv"), index)
>>> out = io.StringIO()
>>> with HitsWriter(out, "csv") as writer:
...     writer.write(hits)
>>> out.getvalue().splitlines()[0]
'ping,person_id,t,fence_id,window_start,window_end,relation,depth_m,p_inside'
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any, Protocol, TextIO

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError, OptionError

__all__ = ["HIT_FILE_COLUMNS", "HitChunk", "HitsWriter", "csv_quoted", "hits_format", "hits_schema"]

HIT_FILE_COLUMNS = (
    "ping",
    "person_id",
    "t",
    "fence_id",
    "window_start",
    "window_end",
    "relation",
    "depth_m",
    "p_inside",
)


def hits_format(path: str | None, given: str | None = None) -> str:
    """``csv`` or ``parquet``, from ``given`` or the file name (stdout is CSV)."""
    if given:
        kind = given.strip().lower()
        if kind not in ("csv", "parquet"):
            raise OptionError(f"format: {given!r} is not one of 'csv', 'parquet'")
        return kind
    if path is None or path == "-":
        return "csv"
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".csv", ".txt")):
        return "csv"
    raise OptionError(f"--out {path}: name it .csv or .parquet to say which format to write")


class HitChunk(Protocol):
    """What :class:`HitsWriter` writes: a table of hits that renders itself."""

    def __len__(self) -> int: ...

    def csv_lines(self) -> list[str]:
        """The rows as CSV data lines, in :data:`HIT_FILE_COLUMNS` order."""
        ...

    def to_arrow(self) -> Any:
        """The rows as a :class:`pyarrow.Table` with :func:`hits_schema`."""
        ...


class HitsWriter:
    """Writes hits chunk by chunk to a CSV text stream or file, or a Parquet file.

    CSV is UTF-8 without a byte-order mark; ``excel=True`` starts it with one
    (``utf-8-sig``), which Excel needs to show Chinese text. Parquet ignores ``excel``.
    """

    def __init__(
        self, target: str | os.PathLike[str] | TextIO, file_format: str, *, excel: bool = False
    ) -> None:
        self.format = file_format
        self.excel = excel
        self.rows = 0
        self._own = False
        self._parquet: Any = None
        self._path: str | None = None
        if file_format == "parquet":
            if not isinstance(target, (str, os.PathLike)):
                raise OptionError("Parquet hits go to a file, not a stream")
            self._path = os.fspath(target)
            self._stream: TextIO | None = None
        elif isinstance(target, (str, os.PathLike)):
            encoding = "utf-8-sig" if excel else "utf-8"
            self._stream = open(target, "w", encoding=encoding, newline="")  # noqa: SIM115
            self._own = True
        else:
            self._stream = target
        self._header_done = False

    def __enter__(self) -> HitsWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def write(self, hits: HitChunk) -> None:
        """Append the hits of one chunk."""
        if self.format == "parquet":
            self._write_parquet(hits)
        else:
            self._write_csv(hits)
        self.rows += len(hits)

    def close(self) -> None:
        """Finish the file (a Parquet file with no hits still gets its schema)."""
        if self.format == "parquet":
            if self._parquet is None:
                self._open_parquet()
            self._parquet.close()
        elif self._stream is not None:
            if not self._header_done:
                self._write_header()
            if self._own:
                self._stream.close()
            else:
                self._stream.flush()

    # -- CSV ----------------------------------------------------------------------------------

    def _write_csv(self, hits: HitChunk) -> None:
        assert self._stream is not None
        if not self._header_done:
            self._write_header()
        lines = hits.csv_lines()
        if lines:
            self._stream.write("\n".join(lines))
            self._stream.write("\n")

    def _write_header(self) -> None:
        assert self._stream is not None
        if self.excel and not self._own:  # a file opened as utf-8-sig writes its own mark
            self._stream.write("\ufeff")
        self._stream.write(",".join(HIT_FILE_COLUMNS) + "\n")
        self._header_done = True

    # -- Parquet ------------------------------------------------------------------------------

    def _open_parquet(self) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise MissingDependencyError("pyarrow", "parquet", "Writing Parquet hits") from exc
        assert self._path is not None
        self._parquet = pq.ParquetWriter(self._path, hits_schema())

    def _write_parquet(self, hits: HitChunk) -> None:
        if self._parquet is None:
            self._open_parquet()
        self._parquet.write_table(hits.to_arrow())


def hits_schema() -> Any:
    """The Parquet / Arrow schema of a hits table (docs/contract.md's columns and types)."""
    import pyarrow as pa

    stamp = pa.timestamp("ms", tz="UTC")
    return pa.schema(
        [
            ("ping", pa.int64()),
            ("person_id", pa.string()),
            ("t", stamp),
            ("fence_id", pa.string()),
            ("window_start", stamp),
            ("window_end", stamp),
            ("relation", pa.string()),
            ("depth_m", pa.float64()),
            ("p_inside", pa.float64()),
        ]
    )


def csv_quoted(values: NDArray[Any]) -> NDArray[Any]:
    """Text values quoted as CSV needs (commas, quotes, line breaks)."""
    text = np.asarray(values, dtype=str)
    risky = (
        (np.char.find(text, ",") >= 0)
        | (np.char.find(text, '"') >= 0)
        | (np.char.find(text, "\n") >= 0)
        | (np.char.find(text, "\r") >= 0)
    )
    if risky.any():
        text = text.astype(object)
        text[risky] = ['"' + str(v).replace('"', '""') + '"' for v in text[risky]]
    return text
