"""Writing hits tables: CSV or Parquet, chunk by chunk, as FORMATS.md specifies.

Columns: ``ping, person_id, t, fence_id, window_start, window_end, relation,
depth_m, p_inside``. In CSV, times are ISO 8601 UTC with ``Z`` (an open window's
end is empty), ``depth_m`` has millimetres (3 decimals) and ``p_inside`` 6
decimals; in Parquet, times are ``timestamp[ms, tz=UTC]`` (null for an open end)
and numbers keep full precision. A :class:`HitsWriter` takes the hits of one
chunk at a time, so a whole input is written with bounded memory.

Examples
--------
>>> import io, fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> hits = index.match(fc.read_pings("data/samples/pings.csv"))
>>> out = io.StringIO()
>>> with HitsWriter(out, "csv") as writer:
...     writer.write(hits)
>>> out.getvalue().splitlines()[0]
'ping,person_id,t,fence_id,window_start,window_end,relation,depth_m,p_inside'
"""

from __future__ import annotations

import os
from types import TracebackType
from typing import Any, TextIO

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError, OptionError
from fencecheck.matching import Hits
from fencecheck.times import OPEN_END, format_utc

__all__ = ["HIT_FILE_COLUMNS", "HitsWriter", "hits_format", "hits_schema", "hits_to_arrow"]

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


class HitsWriter:
    """Writes hits chunk by chunk to a CSV text stream or file, or a Parquet file."""

    def __init__(self, target: str | os.PathLike[str] | TextIO, file_format: str) -> None:
        self.format = file_format
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
            self._stream = open(target, "w", encoding="utf-8", newline="")  # noqa: SIM115
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

    def write(self, hits: Hits) -> None:
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
                self._stream.write(",".join(HIT_FILE_COLUMNS) + "\n")
                self._header_done = True
            if self._own:
                self._stream.close()
            else:
                self._stream.flush()

    # -- CSV ----------------------------------------------------------------------------------

    def _write_csv(self, hits: Hits) -> None:
        assert self._stream is not None
        if not self._header_done:
            self._stream.write(",".join(HIT_FILE_COLUMNS) + "\n")
            self._header_done = True
        if len(hits) == 0:
            return
        columns = [
            hits.ping.astype(str),
            _csv_text(hits.person_ids()),
            format_utc(hits.t),
            _csv_text(hits.fence_ids()),
            format_utc(hits.window_start),
            format_utc(hits.window_end),
            hits.relation(),
            np.char.mod("%.3f", hits.depth_m),
            np.char.mod("%.6f", hits.p_inside),
        ]
        lines = np.asarray(columns[0], dtype=str)
        for column in columns[1:]:
            lines = np.char.add(np.char.add(lines, ","), np.asarray(column, dtype=str))
        self._stream.write("\n".join(lines.tolist()))
        self._stream.write("\n")

    # -- Parquet ------------------------------------------------------------------------------

    def _open_parquet(self) -> None:
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise MissingDependencyError("pyarrow", "parquet", "Writing Parquet hits") from exc
        assert self._path is not None
        self._parquet = pq.ParquetWriter(self._path, hits_schema())

    def _write_parquet(self, hits: Hits) -> None:
        if self._parquet is None:
            self._open_parquet()
        self._parquet.write_table(hits_to_arrow(hits))


def hits_schema() -> Any:
    """The Parquet / Arrow schema of a hits table (FORMATS.md's columns and types)."""
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


def hits_to_arrow(hits: Hits) -> Any:
    """The hits as a :class:`pyarrow.Table` with :func:`hits_schema` (open ends null)."""
    try:
        import pyarrow as pa
    except ImportError as exc:
        raise MissingDependencyError("pyarrow", "parquet", "Hits.to_arrow") from exc
    stamp = pa.timestamp("ms", tz="UTC")
    open_end = hits.window_end == OPEN_END
    return pa.table(
        {
            "ping": pa.array(hits.ping, pa.int64()),
            "person_id": pa.array(hits.person_ids().tolist(), pa.string()),
            "t": pa.array(hits.t, stamp),
            "fence_id": pa.array(hits.fence_ids().tolist(), pa.string()),
            "window_start": pa.array(hits.window_start, stamp),
            "window_end": pa.array(np.where(open_end, 0, hits.window_end), stamp, mask=open_end),
            "relation": pa.array(hits.relation().tolist(), pa.string()),
            "depth_m": pa.array(hits.depth_m, pa.float64()),
            "p_inside": pa.array(hits.p_inside, pa.float64()),
        },
        schema=hits_schema(),
    )


def _csv_text(values: NDArray[Any]) -> NDArray[Any]:
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
