"""Writing hits tables: CSV or Parquet, chunk by chunk, as docs/contract.md specifies.

Columns: ``ping, person_id, t, fence_id, window_start, window_end, relation,
depth_m, p_inside``. In CSV, times are ISO 8601 UTC with ``Z`` (an open window's
end is empty), ``depth_m`` has millimetres (3 decimals) and ``p_inside`` 6
decimals; in Parquet, times are ``timestamp[ms, tz=UTC]`` (null for an open end)
and numbers keep full precision. A :class:`HitsWriter` takes the hits of one
chunk at a time, so a whole input is written with bounded memory. It writes any
table that renders itself as CSV lines and as Arrow (:class:`HitChunk`), which
:class:`fencecheck.Hits` does; this module does not depend on it. A table that
also has the numpy columns (:class:`HitColumns`, as :class:`fencecheck.Hits`
has) goes to Parquet straight from them (:func:`hits_to_arrow`): the text columns
are Arrow ``take`` of the distinct ids, never a Python string per hit, and the
columns with few distinct values (ids, relation, windows) are dictionary-encoded
in the file, the others not.

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
from typing import Any, Protocol, TextIO, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError, OptionError

_OPEN_END = int(np.iinfo(np.int64).max)  # fencecheck.times.OPEN_END: a window still open

__all__ = [
    "HIT_FILE_COLUMNS",
    "HitChunk",
    "HitColumns",
    "HitsWriter",
    "arrow_strings",
    "csv_quoted",
    "hits_format",
    "hits_schema",
    "hits_to_arrow",
]

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


class _Registry(Protocol):
    """Person ids by code (:class:`fencecheck.pings.PersonRegistry`)."""

    def __len__(self) -> int: ...

    def ids(self) -> NDArray[np.object_]:
        """All ids so far, indexed by code."""
        ...


@runtime_checkable
class HitColumns(Protocol):
    """A table of hits as numpy columns, as :class:`fencecheck.Hits` holds them.

    ``person`` and ``fence`` are codes into ``persons.ids()`` and
    ``fence_lookup``; ``window_end`` is ``OPEN_END`` for a window still open;
    ``inside`` is the relation (``inside``, else ``uncertain``).
    """

    @property
    def ping(self) -> NDArray[np.int64]:
        """The ping's row number in the input."""
        ...

    @property
    def person(self) -> NDArray[np.int32]:
        """The person's code in ``persons``."""
        ...

    @property
    def t(self) -> NDArray[np.int64]:
        """The ping's instant, UTC milliseconds."""
        ...

    @property
    def fence(self) -> NDArray[np.int64]:
        """The fence's position in ``fence_lookup``."""
        ...

    @property
    def window_start(self) -> NDArray[np.int64]:
        """The window's start, UTC milliseconds."""
        ...

    @property
    def window_end(self) -> NDArray[np.int64]:
        """The window's end, UTC milliseconds (``OPEN_END`` when open)."""
        ...

    @property
    def inside(self) -> NDArray[np.bool_]:
        """The relation is ``inside`` (else ``uncertain``)."""
        ...

    @property
    def depth_m(self) -> NDArray[np.float64]:
        """Signed distance to the fence without its margin, metres."""
        ...

    @property
    def p_inside(self) -> NDArray[np.float64]:
        """Probability that the person was inside the fence."""
        ...

    @property
    def fence_lookup(self) -> NDArray[np.object_]:
        """Fence ids by position."""
        ...

    @property
    def persons(self) -> _Registry:
        """Person ids by code."""
        ...


_DICTIONARY_COLUMNS = ("person_id", "fence_id", "window_start", "window_end", "relation")
"""The Parquet columns with few distinct values, dictionary-encoded in the file.

The others (``ping``, ``t``, ``depth_m``, ``p_inside``) are nearly all distinct:
a dictionary would only be tried and dropped, at twice the cost of writing them.
"""


def hits_to_arrow(hits: HitColumns, *, person_ids: Any = None, fence_ids: Any = None) -> Any:
    """The hits as a :class:`pyarrow.Table` with :func:`hits_schema`, from their numpy columns.

    Parameters
    ----------
    hits : HitColumns
        The hits (a :class:`fencecheck.Hits`).
    person_ids, fence_ids : pyarrow.StringArray, optional
        ``hits.persons.ids()`` and ``hits.fence_lookup`` as Arrow strings, when the
        caller keeps them from chunk to chunk (at least as many as the codes need).

    Returns
    -------
    pyarrow.Table
        docs/contract.md's columns and types; a window still open has a null end.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> hits = fc.match(fc.read_pings("data/samples/pings.csv"), index)
    >>> hits_to_arrow(hits).equals(hits.to_arrow())
    True
    """
    pa = _pyarrow("Writing Parquet hits")
    if person_ids is None:
        person_ids = arrow_strings(hits.persons.ids())
    if fence_ids is None:
        fence_ids = arrow_strings(hits.fence_lookup)
    stamp = pa.timestamp("ms", tz="UTC")
    open_end = hits.window_end == _OPEN_END
    relation = arrow_strings(["uncertain", "inside"])
    columns = [
        _arrow_numbers(hits.ping, pa.int64()),
        person_ids.take(_arrow_numbers(hits.person, pa.int32())),
        _arrow_numbers(hits.t, stamp),
        fence_ids.take(_arrow_numbers(hits.fence, pa.int64())),
        _arrow_numbers(hits.window_start, stamp),
        _arrow_numbers(np.where(open_end, 0, hits.window_end), stamp, missing=open_end),
        relation.take(_arrow_numbers(hits.inside.view(np.int8), pa.int8())),
        # NaN (not computed: evidence="hits" or "depth") is written as null
        _arrow_numbers(hits.depth_m, pa.float64(), missing=np.isnan(hits.depth_m)),
        _arrow_numbers(hits.p_inside, pa.float64(), missing=np.isnan(hits.p_inside)),
    ]
    return pa.Table.from_arrays(columns, schema=hits_schema())


# Arrow arrays are made from numpy buffers here, never with ``pyarrow.array``: that
# function (and ``pyarrow.scalar``) imports pandas, when it is installed, to ask whether
# its argument is a pandas object, which costs a command a second of start-up.


def _arrow_numbers(values: NDArray[Any], arrow_type: Any, missing: Any = None) -> Any:
    """A numpy column as an Arrow array of ``arrow_type`` (its own width), sharing the buffer.

    ``missing`` (booleans) marks the rows that are null.
    """
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    validity = None
    nulls = 0
    if missing is not None and missing.any():
        nulls = int(missing.sum())
        validity = pa.py_buffer(np.packbits(~missing, bitorder="little"))
    return pa.Array.from_buffers(
        arrow_type, values.shape[0], [validity, pa.py_buffer(values)], null_count=nulls
    )


def arrow_strings(values: Any) -> Any:
    """Text values (none missing) as a :class:`pyarrow.StringArray`, without importing pandas.

    Examples
    --------
    >>> arrow_strings(["P01", "街道"]).to_pylist()
    ['P01', '街道']
    """
    import pyarrow as pa

    encoded = [str(value).encode("utf-8") for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    if offsets[-1] < np.iinfo(np.int32).max:
        return pa.Array.from_buffers(
            pa.string(), len(encoded), [None, pa.py_buffer(offsets.astype(np.int32)), data]
        )
    big = pa.Array.from_buffers(
        pa.large_string(), len(encoded), [None, pa.py_buffer(offsets), data]
    )
    return big.cast(pa.string())


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
        # Arrow copies of the ids the chunks' codes point into, kept while they are the same
        # registry (which only grows) and the same fence lookup.
        self._persons: tuple[Any, Any] | None = None
        self._fences: tuple[Any, Any] | None = None
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
        _pyarrow("Writing Parquet hits")
        import pyarrow.parquet as pq

        assert self._path is not None
        self._parquet = pq.ParquetWriter(
            self._path, hits_schema(), use_dictionary=list(_DICTIONARY_COLUMNS)
        )

    def _write_parquet(self, hits: HitChunk) -> None:
        if self._parquet is None:
            self._open_parquet()
        if isinstance(hits, HitColumns):
            table = hits_to_arrow(
                hits, person_ids=self._person_ids(hits), fence_ids=self._fence_ids(hits)
            )
        else:
            table = hits.to_arrow()
        self._parquet.write_table(table)

    def _person_ids(self, hits: HitColumns) -> Any:
        """``hits.persons.ids()`` in Arrow, the new ones appended to those of earlier chunks."""
        import pyarrow as pa

        registry = hits.persons
        known = self._persons[1] if self._persons and self._persons[0] is registry else None
        if known is None or len(known) != len(registry):
            start = 0 if known is None else len(known)
            fresh = arrow_strings(registry.ids()[start:])
            known = fresh if known is None else pa.concat_arrays([known, fresh])
            self._persons = (registry, known)
        return known

    def _fence_ids(self, hits: HitColumns) -> Any:
        """``hits.fence_lookup`` in Arrow, made once per lookup."""
        lookup = hits.fence_lookup
        if self._fences is None or self._fences[0] is not lookup:
            self._fences = (lookup, arrow_strings(lookup))
        return self._fences[1]


def _pyarrow(what: str) -> Any:
    """``pyarrow``, or a :class:`MissingDependencyError` naming the ``parquet`` extra."""
    try:
        import pyarrow as pa
    except ImportError as exc:
        raise MissingDependencyError("pyarrow", "parquet", what) from exc
    return pa


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
