r"""Reading pings from CSV, Parquet or a pandas DataFrame, whole or chunk by chunk.

All three readers cut their input into chunks of at most ``chunk_rows`` rows
and hand each chunk's columns to :func:`fencecheck.pings.build_pings`, so a file
of any size can be streamed with bounded memory (:func:`iter_pings`), and the
checks are the same whatever the source. The chunks of one input share a
:class:`~fencecheck.pings.PersonRegistry`, so person codes agree across them.

Row numbers follow docs/contract.md: 0-based data rows, the header not counted; in
Parquet they run across row groups; for a DataFrame they are positions, not
index labels. Blank lines in a CSV file are not rows.

Examples
--------
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "pings.csv")
>>> with open(path, "w", encoding="utf-8") as f:
...     _ = f.write("person_id,t,lon,lat,accuracy_m,source\n"
...                 "001,2022-05-01T08:00:00+08:00,116.40,39.90,12,gps\n"
...                 "002,2022-05-01 08:05,116.41,95.0,,cell\n")
>>> table = read_pings(path, on_error="reject")
>>> table.person_ids().tolist(), table.rejected.records()
(['001'], [(1, '002', 'lat', 'lat is outside [-90, 90]', '95.0')])
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import gzip
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO, TypedDict

import numpy as np
from numpy.typing import NDArray

from fencecheck.datums import Datum
from fencecheck.errors import (
    FenceCheckWarning,
    MissingDependencyError,
    OptionError,
    PingDataError,
)
from fencecheck.options import EpochUnit, OnError, Source
from fencecheck.pings import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ConvertedNumbers,
    Labels,
    PersonRegistry,
    PingTable,
    build_pings,
)
from fencecheck.rejected import Rejected
from fencecheck.times import (
    ParsedTimes,
    local_ms_to_utc,
    parse_text_buffer,
    parse_time,
    parse_times,
    resolve_zone,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["DEFAULT_CHUNK_ROWS", "PingOptions", "iter_pings", "read_pings"]

DEFAULT_CHUNK_ROWS = 1_000_000
"""Rows per chunk when streaming: about 100 MB of working memory for a CSV chunk."""

_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


class PingOptions(TypedDict, total=False):
    """How to read a ping input: the keywords of :func:`read_pings` and :func:`iter_pings`.

    Every key is optional; :func:`read_pings` documents each one and its default.
    """

    datum: Datum | str
    tz: str | _dt.tzinfo | None
    epoch_unit: EpochUnit | str
    on_error: OnError | str
    encoding: str
    columns: Mapping[str, str] | None
    default_source: Source | str
    file_format: str | None
    chunk_rows: int
    engine: str
    time_format: str | None


def read_pings(source: str | os.PathLike[str] | Any, **options: Unpack[PingOptions]) -> PingTable:
    """Read all pings of a CSV file, a Parquet file or a pandas DataFrame.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv`` (also ``.csv.gz``, ``.txt``) or ``.parquet`` / ``.pq`` file, or a
        :class:`pandas.DataFrame`.
    **options
        How to read it (:class:`PingOptions`, every one optional):
    datum : {"wgs84", "gcj02", "bd09"}
        Datum of lon/lat; pings are stored in WGS-84.
    tz : str or tzinfo, optional
        Zone for naive times (default Asia/Shanghai). Aware times keep their offset.
    epoch_unit : {"s", "ms"}
        Unit of integer times.
    on_error : {"raise", "reject"}
        Raise for the first bad row, or set bad rows aside in ``rejected``.
    encoding : str
        Text encoding of a CSV file (``"gb18030"`` for many Chinese exports).
    columns : mapping, optional
        Input column name -> fencecheck column name, e.g. ``{"lng": "lon"}``.
    default_source : {"gps", "wifi", "cell"}
        Source of rows that give none (and of every row without a source column).
    file_format : {"csv", "parquet"}, optional
        Overrides the guess from the file name.
    chunk_rows : int
        Rows read at a time.
    engine : {"auto", "arrow", "python"}
        How a CSV file is split into fields: ``"arrow"`` uses pyarrow's CSV
        parser (many times faster; needs the ``parquet`` extra), ``"python"`` the
        standard library's :mod:`csv`; ``"auto"`` takes arrow when pyarrow is
        installed. Both give the same table: every value is checked by the same
        code, and where arrow cannot read the file (a row with the wrong number of
        fields, an undecodable byte) the rest is read by :mod:`csv`, which names
        the row or line.
    time_format : str, optional
        A :meth:`datetime.datetime.strptime` pattern (``"%d/%m/%Y %H:%M"``) every
        text time is read with, for spellings fencecheck does not know; without
        it, ISO 8601, epoch numbers and the common Chinese spellings
        (``2022/5/3 8:20``, ``2022年5月3日``) are read (docs/contract.md, "Times").

    A file whose name or columns say GCJ-02 (``gcj``, ``amap``, 高德, 火星) read
    as WGS-84 gets a :class:`~fencecheck.errors.FenceCheckWarning` suggesting
    ``datum="gcj02"`` (``--ping-datum gcj02``).

    Returns
    -------
    PingTable
        With ``rejected`` and ``rows_read`` covering the whole input.

    Raises
    ------
    PingDataError
        For an unreadable input or missing columns, and under ``on_error="raise"``
        for the first bad row; the message names the file, the row, the field and
        the reason.
    OptionError
        For a source that is none of these (a Dask DataFrame, a dict, a list), and
        for a ``columns`` mapping whose input column is not in the input or whose
        target is not a ping field.
    """
    return PingTable.concat(iter_pings(source, **options), size=_known_rows(source, options))


def _known_rows(source: Any, options: Mapping[str, Any]) -> int | None:
    """How many rows the input has, when known before reading; otherwise None.

    A DataFrame's length, or a Parquet file's row count (from its footer).
    :func:`read_pings` then makes the table's columns at that size at once and copies
    each chunk in as it comes (:meth:`PingTable.concat`). Any trouble here is left for
    the reader to report.
    """
    if _is_dataframe(source):
        return len(source)
    try:
        path = os.fspath(source)
        if _guess_format(path, options.get("file_format")) != "parquet":
            return None
        import pyarrow.parquet as pq

        rows = pq.read_metadata(path).num_rows
    except Exception:  # the reader itself says what is wrong with the input
        return None
    return int(rows)


def iter_pings(
    source: str | os.PathLike[str] | Any, **options: Unpack[PingOptions]
) -> Iterator[PingTable]:
    """Stream pings chunk by chunk; the options are :func:`read_pings`'s.

    Every chunk is a :class:`~fencecheck.pings.PingTable` with its own ``rejected``
    and ``rows_read``; their sums cover the input. At least one chunk is
    yielded, even for an input with no data rows.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person_id": ["a", "b", "a"], "t": [1651363200] * 3,
    ...                       "lon": [116.4] * 3, "lat": [39.9] * 3})
    >>> [len(chunk) for chunk in iter_pings(frame, chunk_rows=2)]
    [2, 1]
    >>> next(iter_pings(frame, chunk=2))
    Traceback (most recent call last):
    ...
    TypeError: iter_pings() got an unexpected keyword argument 'chunk'
    """
    unknown = sorted(set(options) - set(PingOptions.__annotations__))
    if unknown:
        raise TypeError(f"iter_pings() got an unexpected keyword argument {unknown[0]!r}")
    chunk_rows = options.get("chunk_rows", DEFAULT_CHUNK_ROWS)
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise OptionError(f"chunk_rows: {chunk_rows!r} is not a positive whole number")
    settings: dict[str, Any] = {
        "datum": Datum.parse(options.get("datum", Datum.WGS84)),
        "tz": resolve_zone(options.get("tz")),
        "epoch_unit": EpochUnit.parse(options.get("epoch_unit", EpochUnit.S)),
        "on_error": OnError.parse(options.get("on_error", OnError.RAISE)),
        "default_source": Source.parse(options.get("default_source", Source.GPS)),
        "registry": PersonRegistry(),
        "time_format": _time_format(options.get("time_format")),
    }
    columns = options.get("columns") or {}
    rename = {_column_key(k): _column_key(v) for k, v in columns.items()}
    _check_rename(rename)
    _check_source(source)
    if settings["datum"] is Datum.WGS84 and not _is_dataframe(source):
        _warn_if_gcj(os.path.basename(os.fspath(source)), "file name", os.fspath(source))
    if _is_dataframe(source):
        yield from _dataframe_chunks(source, rename, chunk_rows, settings)
        return
    path = os.fspath(source)
    kind = _guess_format(path, options.get("file_format"))
    encoding = options.get("encoding", "utf-8")
    if kind == "parquet":
        yield from _parquet_chunks(path, rename, chunk_rows, settings)
    elif _csv_engine(options.get("engine", "auto")) == "arrow":
        yield from _arrow_csv_chunks(path, encoding, rename, chunk_rows, settings)
    else:
        yield from _csv_chunks(path, encoding, rename, chunk_rows, settings)


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns")


def _check_source(source: Any) -> None:
    """Refuse, with what to pass instead, a source that is no path and no pandas DataFrame."""
    if hasattr(source, "npartitions"):  # a Dask DataFrame (or Bag, or Array)
        raise OptionError(
            f"read_pings: got a Dask {type(source).__name__}; scan or match it on the cluster "
            "with fencecheck.dask.scan / fencecheck.dask.match (which read and check each "
            "partition), or bring it into memory first with .compute()"
        )
    if isinstance(source, (str, os.PathLike)) or _is_dataframe(source):
        return
    raise OptionError(
        f"read_pings: got a {type(source).__name__}; give a path to a .csv or .parquet "
        "file (str or pathlib.Path) or a pandas DataFrame"
    )


def _time_format(pattern: object) -> str | None:
    """A strptime pattern, checked to hold at least one directive."""
    if pattern is None:
        return None
    if not isinstance(pattern, str) or "%" not in pattern:
        raise OptionError(
            f"time_format: {pattern!r} is not a strptime pattern such as '%d/%m/%Y %H:%M'"
        )
    return pattern


_FIELDS_TEXT = ", ".join(_COLUMNS)
_DIRECTION = (
    "a mapping reads an input column NAME as a FIELD (NAME=FIELD): --column longitude=lon "
    "(columns={'longitude': 'lon'}) reads the input column 'longitude' as lon"
)


def _check_rename(rename: Mapping[str, str]) -> None:
    """Refuse a mapping to something that is not a ping field (often one written backwards)."""
    for name, target in rename.items():
        if target not in _COLUMNS:
            hint = f"; did you mean {target}={name}?" if name in _COLUMNS else ""
            raise OptionError(
                f"column mapping {name}={target}: {target!r} is not a ping field "
                f"({_FIELDS_TEXT}){hint} ({_DIRECTION})"
            )


_GCJ_WORDS = ("gcj", "amap", "高德", "火星")


def _warn_if_gcj(text: str, what: str, origin: str) -> None:
    """Warn when a name read as WGS-84 says the coordinates are GCJ-02."""
    lowered = text.lower()
    if any(word in lowered for word in _GCJ_WORDS):
        warnings.warn(
            f"{origin}: the {what} ({text!r}) suggests GCJ-02 (Amap) coordinates, but the pings "
            "are read as WGS-84; if they are GCJ-02, pass --ping-datum gcj02 (datum='gcj02')",
            FenceCheckWarning,
            stacklevel=4,
        )


def _guess_format(path: str, file_format: str | None) -> str:
    if file_format is not None:
        kind = file_format.strip().lower()
        if kind not in ("csv", "parquet"):
            raise OptionError(f"file_format: {file_format!r} is not one of 'csv', 'parquet'")
        return kind
    lower = path.lower()
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        return "csv"
    raise OptionError(
        f"{path}: cannot tell the format from the name; name it .csv or .parquet, "
        "or pass file_format='csv' | 'parquet'"
    )


def _column_key(name: object) -> str:
    """A column name as matched: stripped, lower-case, without a byte-order mark."""
    return str(name).strip().lstrip("\ufeff").strip().lower()


def _resolve_columns(
    names: list[str], rename: Mapping[str, str], origin: str, datum: Datum | None = None
) -> dict[str, int]:
    """Fencecheck column -> input position; raises for missing or doubled columns.

    With ``datum`` WGS-84, a column name that says GCJ-02 (``gcj_lon``) is warned about.
    """
    header_is_data = any(_is_number(name) for name in names)
    seen = (
        "a first line that looks like data, not a header"
        if header_is_data
        else ", ".join(map(str, names)) or "no header"
    )
    keys = {_column_key(name) for name in names}
    absent = [name for name in rename if name not in keys]
    if absent:
        raise OptionError(
            f"{origin}: column mapping {absent[0]}={rename[absent[0]]}: the input has no "
            f"column {absent[0]!r}; found {seen}"
        )
    if datum is Datum.WGS84 and not header_is_data:
        for name in names:
            if any(word in str(name).lower() for word in _GCJ_WORDS):
                _warn_if_gcj(str(name), "column name", origin)
                break
    found: dict[str, int] = {}
    for position, name in enumerate(names):
        key = _column_key(name)
        key = rename.get(key, key)
        if key in _COLUMNS:
            if key in found:
                raise PingDataError(f"column {key!r} appears twice", source=origin)
            found[key] = position
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        # A file without a header has data in its first line: never echo it (docs/privacy.md).
        if rename:
            mapped = ", ".join(f"{k}={v}" for k, v in rename.items())
            hint = f"mapped {mapped}; {_DIRECTION}"
        else:
            hint = "rename columns with columns={'your name': 'lon', ...} or --column NAME=FIELD"
        raise PingDataError(
            f"missing required column(s) {', '.join(missing)}; found {seen} ({hint})",
            source=origin,
        )
    return found


def _is_number(name: object) -> bool:
    """Whether a column name reads as a number (then it is data, not a name).

    Examples
    --------
    >>> _is_number(" 116.39"), _is_number("lon"), _is_number(2)
    (True, False, True)
    """
    try:
        float(str(name))
    except ValueError:
        return False
    return True


# -- CSV ----------------------------------------------------------------------------------


def _codec(encoding: str) -> str:
    """The codec a CSV file is decoded with (UTF-8 also takes a byte-order mark)."""
    try:
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        "".encode(codec)
    except LookupError:
        raise OptionError(f"encoding: {encoding!r} is not a known text encoding") from None
    return codec


def _open_text(path: str, encoding: str) -> TextIO:
    codec = _codec(encoding)
    try:
        if path.lower().endswith(".gz"):
            return gzip.open(path, "rt", encoding=codec, newline="")
        return open(path, encoding=codec, newline="")
    except FileNotFoundError:
        raise PingDataError("no such file", source=path) from None
    except IsADirectoryError:
        raise PingDataError("is a directory, not a ping file", source=path) from None
    except OSError as exc:
        raise PingDataError(f"cannot be opened: {exc.strerror or exc}", source=path) from None


def _undecodable_line(path: str, encoding: str) -> int | None:
    """The 1-based line holding the first bytes that do not decode, or None.

    Only called after a decoding error: text is decoded ahead of the CSV reader
    in blocks, so the reader's own line count does not say where the bad bytes are.
    """
    decoder = codecs.getincrementaldecoder(_codec(encoding))()
    opener: Any = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError:
                    return number
            decoder.decode(b"", final=True)
    except (OSError, EOFError, UnicodeDecodeError):
        return None
    return None


def _csv_chunks(
    path: str,
    encoding: str,
    rename: Mapping[str, str],
    chunk_rows: int,
    options: dict[str, Any],
    skip: int = 0,
) -> Iterator[PingTable]:
    """Read CSV with the standard library; ``skip`` data rows already read elsewhere."""
    handle = _open_text(path, encoding)
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            while header is not None and not header:  # blank lines before the header
                header = next(reader, None)
            if header is None:
                raise PingDataError("empty file: no header row", source=path)
            positions = _resolve_columns(header, rename, path, None if skip else options["datum"])
            width = len(header)
            start = skip
            block: list[list[str]] = []
            lines: list[int] = []
            # Blank lines are not rows: a chunk holds chunk_rows records that are not blank.
            for record in reader:
                if not record:
                    continue
                if skip:
                    skip -= 1
                    continue
                block.append(record)
                lines.append(reader.line_num)
                if len(block) == chunk_rows:
                    yield _csv_block(block, lines, positions, width, start, path, options)
                    start += len(block)
                    block, lines = [], []
            if block or start == 0:
                yield _csv_block(block, lines, positions, width, start, path, options)
        except UnicodeDecodeError as exc:
            raise PingDataError(
                f"not valid {encoding} text ({exc.reason}); give the file's encoding, "
                "for example encoding='gb18030' (--encoding gb18030)",
                source=path,
                line=_undecodable_line(path, encoding),
            ) from None
        except csv.Error as exc:
            raise PingDataError(
                f"not readable as CSV: {exc}", source=path, line=reader.line_num
            ) from None
        except (OSError, EOFError) as exc:  # a damaged .gz file, a read error
            raise PingDataError(f"cannot be read: {exc}", source=path) from None


def _csv_engine(engine: str) -> str:
    choice = str(engine).strip().lower()
    if choice not in ("auto", "arrow", "python"):
        raise OptionError(f"engine: {engine!r} is not one of 'auto', 'arrow', 'python'")
    if choice == "python":
        return choice
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError as exc:
        if choice == "arrow":
            raise MissingDependencyError("pyarrow", "parquet", "engine='arrow'") from exc
        return "python"
    return "arrow"


class _ArrowCannotRead(Exception):
    """pyarrow could not read on; the standard library takes over."""


def _arrow_csv_batches(
    path: str, encoding: str, rename: Mapping[str, str], datum: Datum | None = None
) -> tuple[dict[str, str], Iterator[Any]]:
    """The wanted columns and a stream of record batches, every column as text."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    codec = encoding.strip().lower().replace("_", "-")
    codec = "utf8" if codec in ("utf-8", "utf8", "utf-8-sig") else encoding
    try:
        source = pa.input_stream(path, compression="gzip" if path.lower().endswith(".gz") else None)
        header = pacsv.open_csv(
            source, read_options=pacsv.ReadOptions(encoding=codec, block_size=1 << 16)
        ).schema.names
        source.close()
    except Exception as exc:  # any failure: the standard-library reader decides
        raise _ArrowCannotRead(str(exc)) from None
    positions = _resolve_columns(header, rename, path, datum)
    wanted = {name: header[pos] for name, pos in positions.items()}
    if len(set(header)) != len(header):
        raise _ArrowCannotRead("repeated column names")

    def batches() -> Iterator[Any]:
        try:
            stream = pa.input_stream(
                path, compression="gzip" if path.lower().endswith(".gz") else None
            )
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(encoding=codec, block_size=8 << 20),
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    include_columns=list(wanted.values()),
                    column_types={src: pa.string() for src in wanted.values()},
                    null_values=[""],
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=False,
                ),
            )
            with stream:
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        return
                    yield batch
        except Exception as exc:  # any failure: the standard-library reader decides
            raise _ArrowCannotRead(str(exc)) from None

    return wanted, batches()


def _arrow_csv_chunks(
    path: str,
    encoding: str,
    rename: Mapping[str, str],
    chunk_rows: int,
    options: dict[str, Any],
) -> Iterator[PingTable]:
    """Read CSV with pyarrow; hand over to :func:`_csv_chunks` where it cannot go on."""
    if not os.path.exists(path) or os.path.isdir(path):
        yield from _csv_chunks(path, encoding, rename, chunk_rows, options)
        return
    done = 0
    try:
        wanted, stream = _arrow_csv_batches(path, encoding, rename, options["datum"])
    except _ArrowCannotRead:
        yield from _csv_chunks(path, encoding, rename, chunk_rows, options)
        return
    chunks = _read_ahead(_exact_chunks(stream, chunk_rows))
    while True:
        try:
            part = next(chunks)
        except StopIteration:
            break
        except _ArrowCannotRead:
            yield from _csv_chunks(path, encoding, rename, chunk_rows, options, skip=done)
            return
        yield _arrow_part(part, wanted, done, path, options)
        done += part.num_rows
    if done == 0:
        yield _no_pings(wanted, path, options)


def _arrow_part(
    part: Any, wanted: Mapping[str, str], first_row: int, path: str, options: dict[str, Any]
) -> PingTable:
    """The checked pings of an Arrow table whose first row is the input's ``first_row``."""
    cols = {name: part.column(src) for name, src in wanted.items()}
    rows = np.arange(first_row, first_row + part.num_rows, dtype=np.int64)
    return _arrow_block(cols, rows, path, options)


def _no_pings(wanted: Mapping[str, str], path: str, options: dict[str, Any]) -> PingTable:
    """The one chunk of an input with a header and no rows: an empty ping table."""
    empty = {name: np.zeros(0, dtype="<U1") for name in wanted}
    return build_pings(empty, rows=np.zeros(0, dtype=np.int64), origin=path, **options)


def _exact_chunks(batches: Iterator[Any], chunk_rows: int) -> Iterator[Any]:
    """Arrow tables of exactly ``chunk_rows`` rows (the last one fewer) from record batches.

    The columns of a table stay chunked as the batches came (no copy); an
    exception from ``batches`` passes through.
    """
    import pyarrow as pa

    pending: list[Any] = []
    pending_rows = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        pending.append(batch)
        pending_rows += batch.num_rows
        while pending_rows >= chunk_rows:
            table = pa.Table.from_batches(pending, schema=pending[0].schema)
            rest = table.slice(chunk_rows)
            pending = rest.to_batches() if rest.num_rows else []
            pending_rows -= chunk_rows
            yield table.slice(0, chunk_rows)
    if pending_rows:
        yield pa.Table.from_batches(pending, schema=pending[0].schema)


_END = object()


def _read_ahead(items: Iterator[Any]) -> Iterator[Any]:
    """The items of ``items``, the next one read by a worker thread while this one is used.

    Arrow reads a file without holding the GIL, so reading chunk k + 1 overlaps
    checking chunk k; one chunk is held ahead. An exception from ``items``
    passes through when its item is asked for.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fencecheck-read")
    try:
        ahead = pool.submit(next, items, _END)
        while True:
            item = ahead.result()
            if item is _END:
                return
            ahead = pool.submit(next, items, _END)
            yield item
            del item
    finally:
        # Never wait for the worker here: a reader the caller leaves (an error in a
        # chunk, a loop broken off) is closed by the garbage collector, in whatever
        # thread it runs, and a join there can deadlock. The worker finishes the read
        # it is doing, drops ``items`` and ends.
        pool.shutdown(wait=False, cancel_futures=True)


def _csv_block(
    block: list[list[str]],
    lines: list[int],
    positions: Mapping[str, int],
    width: int,
    start: int,
    path: str,
    options: dict[str, Any],
) -> PingTable:
    rows = np.arange(start, start + len(block), dtype=np.int64)
    lengths = np.fromiter((len(r) for r in block), dtype=np.int64, count=len(block))
    ragged = lengths != width
    extra = None
    if ragged.any():
        k = int(np.flatnonzero(ragged)[0])
        if options["on_error"] is OnError.RAISE:
            if k:  # the first bad row wins: check the rows before this one first
                _csv_block(block[:k], lines[:k], positions, width, start, path, options)
            raise PingDataError(
                f"has {lengths[k]} fields, the header has {width}",
                source=path,
                row=int(rows[k]),
                line=lines[k],
                field="row",
            )
        pid = positions["person_id"]
        extra = Rejected.from_records(
            (
                int(rows[i]),
                block[i][pid].strip() if pid < len(block[i]) else "",
                "row",
                f"has {lengths[i]} fields, the header has {width} (line {lines[i]})",
                ",".join(block[i])[:80],
            )
            for i in np.flatnonzero(ragged)
        )
        block = [r for r, bad in zip(block, ragged.tolist(), strict=True) if not bad]
        rows = rows[~ragged]
    if block:
        transposed = list(zip(*block, strict=True))
        cols = {name: np.array(transposed[pos], dtype=str) for name, pos in positions.items()}
    else:
        cols = {name: np.zeros(0, dtype="<U1") for name in positions}
    return build_pings(cols, rows=rows, origin=path, extra_rejected=extra, **options)


# -- Parquet --------------------------------------------------------------------------------


def _parquet_chunks(
    path: str,
    rename: Mapping[str, str],
    chunk_rows: int,
    options: dict[str, Any],
) -> Iterator[PingTable]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError("pyarrow", "parquet", "Reading Parquet pings") from exc
    try:
        handle = pq.ParquetFile(path)
    except FileNotFoundError:
        raise PingDataError("no such file", source=path) from None
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError variants
        raise PingDataError(f"not readable as Parquet: {exc}", source=path) from None
    names = list(handle.schema_arrow.names)
    positions = _resolve_columns(names, rename, path, options["datum"])
    wanted = {name: names[pos] for name, pos in positions.items()}
    # Person ids and sources repeat: read as the file's dictionaries, they need no hashing.
    text = [
        src
        for name, src in wanted.items()
        if name in ("person_id", "source")
        and (pa.types.is_string(handle.schema_arrow.field(src).type))
    ]
    if text:
        try:
            handle = pq.ParquetFile(path, read_dictionary=text)
        except Exception as exc:  # pyarrow raises ArrowInvalid and OSError variants
            raise PingDataError(f"not readable as Parquet: {exc}", source=path) from None
    start = 0
    # With dictionaries a batch ends at a row group; chunks are made whole again.
    batches = handle.iter_batches(batch_size=chunk_rows, columns=list(wanted.values()))
    chunks = _read_ahead(_exact_chunks(batches, chunk_rows))
    while True:
        try:
            part = next(chunks)
        except StopIteration:
            break
        except (OSError, pa.ArrowException) as exc:  # damaged pages
            raise PingDataError(f"not readable as Parquet: {exc}", source=path) from None
        yield _arrow_part(part, wanted, start, path, options)
        start += part.num_rows
    if start == 0:
        yield _no_pings(wanted, path, options)


def _arrow_block(
    cols: Mapping[str, Any], rows: NDArray[np.int64], path: str, options: dict[str, Any]
) -> PingTable:
    import pyarrow as pa

    plain: dict[str, Any] = {}
    for name, arr in cols.items():
        if name == "t":
            continue
        if name in ("person_id", "source"):
            plain[name] = _arrow_labels(arr)
        elif pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            plain[name] = _floats(arr)
        else:
            plain[name] = _arrow_text_numbers(arr)
    times = _arrow_times(cols["t"], options)
    if times.bad.any():  # the raw text is only needed for the rejected table
        plain["t"] = np.asarray(
            cols["t"].cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object
        )
    return build_pings(plain, rows=rows, times=times, origin=path, **options)


def _arrow_text_numbers(arr: Any) -> ConvertedNumbers | NDArray[Any]:
    """Numbers written as text: Arrow converts them, or they go to the text checks.

    Arrow's conversion is taken only when it reads every value; otherwise (a value
    with spaces, a word, a Python-only spelling) the text goes to the same checks
    the standard-library reader uses, which find and name the bad values.
    """
    import pyarrow as pa

    def text() -> NDArray[Any]:
        return np.asarray(arr.cast(pa.string()).to_numpy(zero_copy_only=False), dtype=object)

    try:
        values = _floats(arr)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return text()
    return ConvertedNumbers(values, text)


def _arrow_labels(arr: Any) -> Labels:
    """An Arrow column as :class:`~fencecheck.pings.Labels`, encoded by Arrow's hash table.

    A chunked column is encoded chunk by chunk, without joining its text first:
    Arrow's encoder gives every chunk the one dictionary it builds, and chunks
    that keep their own (a Parquet dictionary per row group) have their codes
    shifted past the dictionaries before them (:class:`Labels` allows a value twice).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(arr.type):
        arr = pc.dictionary_encode(arr.cast(pa.string()))
    else:
        arr = arr.cast(pa.dictionary(arr.type.index_type, pa.string()))
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if not chunks:
        return Labels(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=object))
    first = chunks[0].dictionary
    if all(chunk.dictionary.equals(first) for chunk in chunks[1:]):
        dictionaries = [first]
        shifts = [0] * len(chunks)
    else:
        dictionaries = [chunk.dictionary for chunk in chunks]
        shifts = np.cumsum([0] + [len(d) for d in dictionaries[:-1]]).tolist()
    codes = np.empty(len(arr), dtype=np.intp)
    at = 0
    for chunk, shift in zip(chunks, shifts, strict=True):
        part = codes[at : at + len(chunk)]
        part[:] = _integers(chunk.indices, fill=-1)
        if shift:
            part[part >= 0] += shift
        at += len(chunk)
    values = np.concatenate(
        # to_pylist, not to_numpy: a string array's to_numpy imports pandas
        [np.array(d.to_pylist(), dtype=object) for d in dictionaries]
    )
    return Labels(codes, values)


def _arrow_times(arr: Any, options: dict[str, Any]) -> ParsedTimes:
    import pyarrow as pa

    kind = arr.type
    null = _nulls(arr) if arr.null_count else np.zeros(len(arr), dtype=bool)
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        if pa.types.is_date(kind):
            ms = _timestamp_ms(arr.cast(pa.timestamp("ms")), null)
            aware = False
        else:
            ms = _timestamp_ms(arr, null)
            aware = kind.tz is not None
        if not aware and (~null).any():
            ms[~null] = local_ms_to_utc(ms[~null], options["tz"])
        reasons = np.empty(ms.shape[0], dtype=object)  # all None
        reasons[null] = "missing time"
        ms[null] = 0
        return ParsedTimes(ms, null, reasons)
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = _floats(arr)
        return parse_times(values, tz=options["tz"], epoch_unit=options["epoch_unit"])
    return _arrow_text_times(arr, options)


_CAST_LEAF = 4096
"""Rows below which a run of times Arrow refuses is no longer halved (see _arrow_text_times)."""


def _arrow_text_times(arr: Any, options: dict[str, Any]) -> ParsedTimes:
    """Times written as text: Arrow's ISO 8601 parser where it reads them, else fencecheck's.

    Arrow's cast to a timestamp (C++, no Python object per value) is
    tried first for the whole column (:func:`_cast_times`); it accepts only
    ISO 8601 forms that fencecheck reads to the same instant (tested in
    tests/test_read_fast.py), and refuses the whole column for one value it
    cannot read. Then the column is halved until each part is read by Arrow or
    is at most :data:`_CAST_LEAF` rows, and the rows of the refused parts go to
    :func:`~fencecheck.times.parse_text_buffer`, the reader that knows every
    spelling and gives every reason. With ``time_format`` only the latter is used.
    """
    import pyarrow as pa

    if options["time_format"] is None:
        fast = _cast_times(arr, options["tz"])
        if fast is not None:
            return fast
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    n = len(arr)
    _, offsets_buffer, data_buffer = arr.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    lengths = np.diff(offsets)
    if arr.null_count:
        lengths[_nulls(arr)] = -1

    def slow(rows: slice | NDArray[np.intp]) -> ParsedTimes:
        return parse_text_buffer(
            data,
            offsets[:-1][rows],
            lengths[rows],
            tz=options["tz"],
            epoch_unit=options["epoch_unit"],
            time_format=options["time_format"],
        )

    if options["time_format"] is not None or n <= _CAST_LEAF:
        return slow(slice(None))
    ms = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    reasons = np.full(n, None, dtype=object)
    refused: list[NDArray[np.intp]] = []
    half = n // 2
    for lo, hi in ((0, half), (half, n)):
        _cast_halves(arr, lo, hi, options["tz"], ParsedTimes(ms, bad, reasons), refused)
    if refused:
        rows = np.concatenate(refused)
        sub = slow(rows)
        ms[rows], bad[rows], reasons[rows] = sub.ms, sub.bad, sub.reasons
    return ParsedTimes(ms, bad, reasons)


def _cast_halves(
    arr: Any,
    lo: int,
    hi: int,
    zone: _dt.tzinfo,
    out: ParsedTimes,
    refused: list[NDArray[np.intp]],
) -> None:
    """Read rows ``lo:hi`` with :func:`_cast_times` into ``out``, halving where Arrow refuses.

    The rows of refused parts of at most :data:`_CAST_LEAF` rows are appended to
    ``refused``. A few bad values among n rows cost O(bad x log n) casts.
    """
    got = _cast_times(arr.slice(lo, hi - lo), zone)
    if got is not None:
        out.ms[lo:hi], out.bad[lo:hi], out.reasons[lo:hi] = got.ms, got.bad, got.reasons
        return
    if hi - lo <= _CAST_LEAF:
        refused.append(np.arange(lo, hi, dtype=np.intp))
        return
    mid = (lo + hi) // 2
    _cast_halves(arr, lo, mid, zone, out, refused)
    _cast_halves(arr, mid, hi, zone, out, refused)


def _cast_times(arr: Any, zone: _dt.tzinfo) -> ParsedTimes | None:
    """Text times read by Arrow's ISO 8601 cast, or None when it refuses any value.

    Arrow reads ``YYYY-MM-DD[( |T)hh[:mm[:ss[.f…]]]]`` followed by ``Z``,
    ``±hh[:mm]`` or ``±hhmm`` into a timestamp with a zone (UTC), and the same
    without an offset into a naive timestamp, which is then read in ``zone`` as
    fencecheck reads naive times (:func:`~fencecheck.times.local_ms_to_utc`). It
    is tried in milliseconds, then (for finer fractions, truncated as fencecheck
    does) in nanoseconds. A missing value (null) is a "missing time".
    """
    import pyarrow as pa

    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    for unit in ("ms", "ns"):
        for aware in (True, False):
            try:
                stamps = arr.cast(pa.timestamp(unit, tz="UTC" if aware else None))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
            raw = _integers(stamps.cast(pa.int64()), fill=0)
            ms = np.floor_divide(raw, 1_000_000) if unit == "ns" else raw.copy()
            missing = np.zeros(ms.shape[0], dtype=bool)
            if stamps.null_count:
                missing = _nulls(stamps)
            if not aware and missing.any():
                ms[~missing] = local_ms_to_utc(ms[~missing], zone)
            elif not aware:
                ms = local_ms_to_utc(ms, zone)
            reasons = np.empty(ms.shape[0], dtype=object)  # all None
            if missing.any():
                reasons[missing] = "missing time"
                ms[missing] = 0
            return ParsedTimes(ms, missing, reasons)
    return None


def _integers(arr: Any, fill: int) -> NDArray[np.int64]:
    """An Arrow integer column (chunked or not) as int64, its nulls set to ``fill``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> _integers(pa.chunked_array([[3, None], [5]], pa.int16()), fill=-1).tolist()
    [3, -1, 5]
    """
    return _from_buffers(arr, np.dtype(np.int64), fill)


def _floats(arr: Any) -> NDArray[np.float64]:
    """An Arrow number column (chunked or not) as float64, its nulls NaN.

    Examples
    --------
    >>> import pyarrow as pa
    >>> _floats(pa.array([1, None, 3])).tolist()
    [1.0, nan, 3.0]
    """
    import pyarrow as pa

    return _from_buffers(arr.cast(pa.float64()), np.dtype(np.float64), np.nan)


def _from_buffers(arr: Any, out_type: np.dtype[Any], fill: float) -> NDArray[Any]:
    """A fixed-width Arrow column as numpy ``out_type``, its nulls set to ``fill``.

    Read from the buffers, not with ``to_numpy`` or ``fill_null``: for a column
    with nulls those go through ``pyarrow.scalar`` or pandas' conversion, which
    import pandas (a second of start-up) when it is installed.
    """
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = np.empty(len(arr), dtype=out_type)
    at = 0
    for chunk in chunks:
        n = len(chunk)
        kind = chunk.type
        code = (
            "f" if pa.types.is_floating(kind) else "i" if pa.types.is_signed_integer(kind) else "u"
        )
        data = chunk.buffers()[1]
        if n and data is not None:
            values = np.frombuffer(data, dtype=f"{code}{kind.bit_width // 8}")
            out[at : at + n] = values[chunk.offset : chunk.offset + n]
        if chunk.null_count:
            out[at : at + n][_nulls(chunk)] = fill
        at += n
    return out


def _nulls(arr: Any) -> NDArray[np.bool_]:
    """Which values of an Arrow column (chunked or not) are null, from the validity bitmaps.

    (``is_null().to_numpy()`` would import pandas, as :func:`_from_buffers` says.)

    Examples
    --------
    >>> import pyarrow as pa
    >>> _nulls(pa.chunked_array([[None, "a"], ["b", None, None]])).tolist()
    [True, False, False, True, True]
    """
    import pyarrow as pa

    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    out = np.zeros(len(arr), dtype=bool)
    at = 0
    for chunk in chunks:
        n = len(chunk)
        if chunk.null_count == n:
            out[at : at + n] = True
        elif chunk.null_count:
            bits = np.frombuffer(chunk.buffers()[0], dtype=np.uint8)
            valid = np.unpackbits(bits, count=chunk.offset + n, bitorder="little")
            out[at : at + n] = valid[chunk.offset :] == 0
        at += n
    return out


def _timestamp_ms(arr: Any, null: NDArray[np.bool_]) -> NDArray[np.int64]:
    import pyarrow as pa

    unit = arr.type.unit
    raw = _integers(arr.cast(pa.int64()), fill=0)
    if unit == "s":
        return raw * 1000
    if unit == "ms":
        return raw.copy()
    divisor = 1000 if unit == "us" else 1_000_000
    return np.floor_divide(raw, divisor)


# -- DataFrame ------------------------------------------------------------------------------


def _dataframe_chunks(
    frame: Any,
    rename: Mapping[str, str],
    chunk_rows: int,
    options: dict[str, Any],
) -> Iterator[PingTable]:
    names = [str(c) for c in frame.columns]
    positions = _resolve_columns(names, rename, "DataFrame", options["datum"])
    n = len(frame)
    for start in range(0, max(n, 1), chunk_rows):
        stop = min(start + chunk_rows, n)
        part = frame.iloc[start:stop]
        cols = {name: part.iloc[:, pos] for name, pos in positions.items()}
        times = _series_times(cols["t"], options)
        plain = {name: _series_values(series) for name, series in cols.items()}
        yield build_pings(
            plain,
            rows=np.arange(start, stop, dtype=np.int64),
            times=times,
            origin="DataFrame",
            **options,
        )


def _series_values(series: Any) -> NDArray[Any]:
    values = series.to_numpy()
    if values.dtype.kind in "iuf":
        return np.asarray(values)
    if values.dtype.kind == "M":
        return np.asarray(np.where(np.isnat(values), "", values.astype(str)), dtype=object)
    return np.asarray(series.astype(object).to_numpy(), dtype=object)


def _series_times(series: Any, options: dict[str, Any]) -> ParsedTimes:
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(dtype):
        aware = isinstance(dtype, pd.DatetimeTZDtype)
        if aware:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        values = series.to_numpy(dtype="datetime64[ms]")
        null = np.isnat(values)
        ms = values.view(np.int64).copy()
        if not aware and (~null).any():
            ms[~null] = local_ms_to_utc(ms[~null], options["tz"])
        ms[null] = 0
        reasons = np.full(ms.shape[0], None, dtype=object)
        reasons[null] = "missing time"
        return ParsedTimes(ms, null, reasons)
    values = series.to_numpy()
    if values.dtype.kind == "O":
        return _object_times(values, options)
    return parse_times(
        values,
        tz=options["tz"],
        epoch_unit=options["epoch_unit"],
        time_format=options["time_format"],
    )


def _object_times(values: NDArray[Any], options: dict[str, Any]) -> ParsedTimes:
    """Mixed Python objects: datetimes keep their zone, numbers are epochs, text is parsed."""
    # Text with gaps (None, NaN) goes to the vectorized parser; only real datetimes and
    # numbers among the objects need one look each.
    if not any(
        isinstance(v, (_dt.datetime, _dt.date, int)) or (isinstance(v, float) and v == v)
        for v in values[:1000]
    ):
        return parse_times(
            values,
            tz=options["tz"],
            epoch_unit=options["epoch_unit"],
            time_format=options["time_format"],
        )
    n = values.shape[0]
    ms = np.zeros(n, dtype=np.int64)
    bad = np.zeros(n, dtype=bool)
    reasons = np.full(n, None, dtype=object)
    for i, value in enumerate(values.tolist()):
        if value is None or (isinstance(value, float) and value != value) or value is _nat():
            bad[i], reasons[i] = True, "missing time"
            continue
        if isinstance(value, str) and options["time_format"] is not None:
            one = parse_times([value], tz=options["tz"], time_format=options["time_format"])
            ms[i], bad[i], reasons[i] = one.ms[0], one.bad[0], one.reasons[0]
            continue
        try:
            ms[i] = parse_time(value, tz=options["tz"], epoch_unit=options["epoch_unit"])
        except ValueError as exc:
            bad[i], reasons[i] = True, str(exc)
    return ParsedTimes(ms, bad, reasons)


def _nat() -> Any:
    import pandas as pd

    return pd.NaT
