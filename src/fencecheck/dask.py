"""fencecheck on a Dask cluster: a city's pings, with the answers of one machine.

Needs the ``dask`` extra (``pip install 'fencecheck[dask]'``: ``dask[dataframe]`` and
``distributed``); ``import fencecheck`` never imports it. The work is the
single-machine code, run where the data is:

- :func:`match` maps every partition of the pings through
  :meth:`~fencecheck.FenceIndex.match` (no shuffle) into a Dask DataFrame of hits with
  docs/contract.md's columns, ``ping`` the row in the whole input.
- :func:`scan` reads and checks each partition (the same checks and ``on_error``
  as :func:`~fencecheck.read_pings`), splits its pings into buckets by a stable
  hash of the person id, judges each bucket of whole people with
  :func:`~fencecheck.judging.scan.scan_part`, and sums the parts on the client
  with :func:`~fencecheck.judging.scan.assemble`, the very function
  :func:`~fencecheck.scan` uses, so the tables are exact: counts add up, and
  medians and shares are recomputed from the rows. Rejected rows come back with
  their row number in the whole input: rows read = pings used + rows rejected.
- :func:`explain` gathers the named people's pings and explains them locally.

The fences travel once: as the index's JSON document (:meth:`FenceIndex.to_dict`,
fences in WGS-84 plus the metric frame), one task key that every worker
fetches once and rebuilds into a :class:`~fencecheck.FenceIndex` cached per
worker process by the document's SHA-256. Cases (few) travel the same way, as
one key. No index is pickled and no file is re-read per task. A worker that
dies mid-scan costs a retry of its tasks, which are pure: the result is the same.

The pings may be a Dask DataFrame the user already has, or Parquet or CSV paths
and globs, local or any fsspec URL (``s3://…``) with that filesystem installed.

Examples
--------
>>> import fencecheck as fc, fencecheck.dask as fcd
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> result = fcd.scan("data/samples/pings.csv", index, blocksize=8_000, scheduler="sync")
>>> whole = fc.scan(fc.read_pings("data/samples/pings.csv"), index)
>>> list(result.people["verdict"]) == list(whole.people["verdict"])
True
>>> result.reading.rows_read, result.reading.pings_used, len(result.reading.rejected)
(400, 400, 0)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import DataError, OptionError
from fencecheck.fences import FenceSet
from fencecheck.index import FenceIndex
from fencecheck.io.pings import read_pings
from fencecheck.io.tally import Reading
from fencecheck.judging.explain import Explanation
from fencecheck.judging.explain import explain as explain_pings
from fencecheck.judging.scan import (
    DEFAULT_BATCH_PINGS,
    Scan,
    ScanPart,
    assemble,
    person_batches,
    scan_part,
)
from fencecheck.judging.verdicts import DEFAULT_LOOKBACK_S, Rules
from fencecheck.optional import require
from fencecheck.options import MatchMode
from fencecheck.pings import PersonRegistry, PingTable
from fencecheck.policy import Policy
from fencecheck.rejected import Rejected
from fencecheck.times import DEFAULT_TZ

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from fencecheck.io.pings import PingOptions

__all__ = [
    "IndexSpec",
    "PartitionRowError",
    "cluster",
    "explain",
    "joined",
    "match",
    "person_buckets",
    "scan",
]

_ROW_BITS = 40
"""A partition's rows are numbered ``(partition << 40) + position`` until its offset is known."""

_BUILT: dict[str, FenceIndex] = {}
"""Indexes rebuilt in this process, by the SHA-256 of their document (one per worker)."""


@dataclass(frozen=True)
class IndexSpec:
    """A fence index as it travels to workers: its JSON document and that document's SHA-256.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> spec = IndexSpec.of(index)
    >>> spec.build().fences.ids.tolist() == index.fences.ids.tolist()
    True
    >>> spec.build() is spec.build()  # rebuilt once per process
    True
    """

    document: str
    digest: str

    @classmethod
    def of(cls, fences: FenceIndex | FenceSet) -> IndexSpec:
        """The spec of an index (a fence set is indexed in its own frame first)."""
        index = fences if isinstance(fences, FenceIndex) else FenceIndex.build(fences)
        text = json.dumps(index.to_dict(), ensure_ascii=False, sort_keys=True)
        return cls(text, hashlib.sha256(text.encode("utf-8")).hexdigest())

    def build(self) -> FenceIndex:
        """The index, rebuilt from the document once per process and cached."""
        index = _BUILT.get(self.digest)
        if index is None:
            index = FenceIndex.from_dict(json.loads(self.document), source="<dask index>")
            _BUILT[self.digest] = index
        return index


@contextlib.contextmanager
def cluster(address: str) -> Iterator[Any]:
    """A Dask client for ``--dask ADDRESS``: ``local:N`` starts (and stops) N worker processes.

    Any other address (``tcp://host:8786``) names a running scheduler.

    Raises
    ------
    OptionError
        For ``local:N`` with N not a positive whole number.
    """
    distributed = require("distributed", "dask", "--dask")
    if address.startswith("local:"):
        count = address.removeprefix("local:")
        if not count.isdigit() or int(count) < 1:
            raise OptionError(f"--dask {address}: local:N needs N, a positive number of workers")
        with (
            distributed.LocalCluster(
                n_workers=int(count),
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
            ) as local,
            distributed.Client(local) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(address, timeout="20s")
    except OSError as exc:
        raise OptionError(f"--dask {address}: no scheduler answers there ({exc})") from None
    with client:
        yield client


def scan(
    pings: Any,
    fences: FenceIndex | FenceSet,
    *,
    at: object = None,
    lookback: object = DEFAULT_LOOKBACK_S,
    policy: Policy | None = None,
    mode: MatchMode | str = MatchMode.DISC,
    cases: PingTable | None = None,
    grid_origin: tuple[float, float] | str | None = None,
    buckets: int | None = None,
    batch_pings: int = DEFAULT_BATCH_PINGS,
    blocksize: int | str | None = "64MB",
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    **options: Unpack[PingOptions],
) -> Scan:
    """Judge everyone in a partitioned ping source on a Dask cluster, as :func:`fencecheck.scan`.

    Parameters
    ----------
    pings : dask.dataframe.DataFrame, path, glob or list of them
        Raw ping columns (as a file holds them), or Parquet / CSV files.
    fences : FenceIndex or FenceSet
        The fences.
    at, lookback, policy, mode, cases, grid_origin
        As for :func:`fencecheck.scan`.
    buckets : int, optional
        How many groups of whole people are judged apart (default: the number
        of input partitions).
    batch_pings : int
        Within a bucket, people are judged about this many pings at a time.
    blocksize : int or str, optional
        CSV bytes per partition (Parquet files partition by row group).
    scheduler : str, optional
        Dask's scheduler (default: the active ``distributed`` client, else
        Dask's own default).
    progress : callable, optional
        Called with a short line as buckets are judged.
    **options
        How to read the pings: :func:`fencecheck.read_pings`'s keywords
        (``chunk_rows`` and ``engine`` do not apply).

    Returns
    -------
    Scan
        With ``reading``: rows read, pings used, people and rejected rows of the
        whole input.
    """
    dask = require("dask", "dask", "fencecheck.dask.scan")
    rules = Rules.of(policy, lookback, mode)
    spec = IndexSpec.of(fences)
    settings: dict[str, Any] = dict(options)
    frames = _partitions(pings, blocksize, settings)
    n_buckets = len(frames) if buckets is None else int(buckets)
    if n_buckets < 1:
        raise OptionError(f"buckets: {buckets!r} is not a positive whole number")
    reading = {k: v for k, v in settings.items() if k not in ("chunk_rows", "engine")}
    split = [
        dask.delayed(_check_and_split, pure=True)(frame, k, reading, n_buckets)
        for k, frame in enumerate(frames)
    ]
    spec_key = dask.delayed(spec, pure=True)
    cases_key = None if cases is None else dask.delayed(cases, pure=True)
    judged = [
        dask.delayed(_judge_bucket, pure=True)(
            [piece[0][b] for piece in split],
            spec_key,
            rules,
            at,
            cases_key,
            grid_origin,
            batch_pings,
        )
        for b in range(n_buckets)
    ]
    counts = [piece[1] for piece in split]
    try:
        results = _compute([*judged, *counts], scheduler, progress, len(judged))
    except PartitionRowError as exc:
        raise _located(exc, frames, scheduler) from None
    outcomes: list[tuple[list[ScanPart], int, int]] = results[: len(judged)]
    checked: list[tuple[Rejected, int, str]] = results[len(judged) :]
    lengths = np.array([rows for _, rows, _ in checked], dtype=np.int64)
    rejected = Rejected.concat([_global_rows(rej, lengths) for rej, _, _ in checked])
    parts = [part for found, _, _ in outcomes for part in found]
    index = spec.build()
    tz = checked[0][2] if checked else DEFAULT_TZ
    result = assemble(parts, index, rules, at=at, tz=tz)
    return replace(
        result,
        reading=Reading(
            rows_read=int(lengths.sum()),
            pings_used=sum(used for _, used, _ in outcomes),
            people=sum(people for _, _, people in outcomes),
            rejected=rejected,
            regrouped=False,
        ),
    )


def match(
    pings: Any,
    fences: FenceIndex | FenceSet,
    *,
    mode: MatchMode | str = MatchMode.POINT,
    boundary: str = "covers",
    blocksize: int | str | None = "64MB",
    with_rejected: bool = False,
    **options: Unpack[PingOptions],
) -> Any:
    """Every hit of a partitioned ping source, as a Dask DataFrame (no shuffle).

    Each partition is read with :func:`fencecheck.read_pings`'s checks and matched
    by :meth:`FenceIndex.match`; ``ping`` is the row in the whole input, which
    takes one pass over the partitions to count their rows first.

    Returns
    -------
    dask.dataframe.DataFrame, or a pair of them
        The hits (docs/contract.md's columns); with ``with_rejected=True``, also
        the rejected rows (``row, id, field, reason, value``), computed from the
        same tasks.
    """
    dask = require("dask", "dask", "fencecheck.dask.match")
    dd = require("dask.dataframe", "dask", "fencecheck.dask.match")
    pd = require("pandas", "pandas", "fencecheck.dask.match")
    settings: dict[str, Any] = dict(options)
    frames = _partitions(pings, blocksize, settings)
    lengths = np.asarray(dask.compute(*[dask.delayed(len)(f) for f in frames]), dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    spec_key = dask.delayed(IndexSpec.of(fences), pure=True)
    reading = {k: v for k, v in settings.items() if k not in ("chunk_rows", "engine")}
    done = [
        dask.delayed(_match_partition, pure=True)(
            frame, int(offsets[k]), spec_key, str(mode), boundary, reading
        )
        for k, frame in enumerate(frames)
    ]
    hits_meta = _empty_hits(pd)
    hits = dd.from_delayed([d[0] for d in done], meta=hits_meta, verify_meta=False)
    if not with_rejected:
        return hits
    meta = pd.DataFrame({name: pd.Series(dtype=object) for name in _REJECTED})
    meta["row"] = meta["row"].astype("int64")
    rejected = dd.from_delayed([d[1] for d in done], meta=meta, verify_meta=False)
    return hits, rejected


def explain(
    pings: Any,
    fences: FenceIndex | FenceSet,
    *,
    person: Sequence[str],
    blocksize: int | str | None = "64MB",
    scheduler: str | None = None,
    reading: dict[str, Any] | None = None,
    **kwargs: Any,
) -> list[Explanation]:
    """Explain the named people: their pings are gathered from the partitions, then explained here.

    ``reading`` holds :func:`fencecheck.read_pings`'s keywords; every other keyword
    goes to :func:`fencecheck.explain`. One person's pings are few, so only they
    travel back.
    """
    dask = require("dask", "dask", "fencecheck.dask.explain")
    wanted = [str(p) for p in person]
    options = dict(reading or {})
    frames = _partitions(pings, blocksize, options)
    try:
        found = dask.compute(
            *[
                dask.delayed(_people_of, pure=True)(frame, k, options, wanted)
                for k, frame in enumerate(frames)
            ],
            scheduler=scheduler,
        )
    except PartitionRowError as exc:
        raise _located(exc, frames, scheduler) from None
    lengths = np.array([rows for _, rows in found], dtype=np.int64)
    tables = [replace(t, row=_global_rows_of(t.row, lengths)) for t, _ in found if len(t)]
    if not tables:
        raise OptionError(f"person {wanted[0]!r} has no pings in the input")
    index = fences if isinstance(fences, FenceIndex) else FenceIndex.build(fences)
    return explain_pings(joined(tables), index, person=wanted, **kwargs)


# -- tasks (run on workers) ----------------------------------------------------------------

_REJECTED = ("row", "id", "field", "reason", "value")


def _check_and_split(
    frame: Any, k: int, options: dict[str, Any], buckets: int
) -> tuple[list[PingTable], tuple[Rejected, int, str]]:
    """Read one partition with every check; its pings split into buckets of whole people."""
    table = _read_partition(frame, k, options)
    offset = k << _ROW_BITS
    rejected = replace(table.rejected, row=table.rejected.row + offset)
    table = replace(table, row=table.row + offset, rejected=Rejected.empty())
    bucket = person_buckets(table.persons.ids(), buckets)[table.person]
    order = np.argsort(bucket, kind="stable")
    cuts = np.searchsorted(bucket[order], np.arange(buckets + 1))
    pieces = [table.take(np.sort(order[cuts[b] : cuts[b + 1]])) for b in range(buckets)]
    return pieces, (rejected, table.rows_read, table.tz)


def _judge_bucket(
    pieces: list[PingTable],
    spec: IndexSpec,
    rules: Rules,
    at: object,
    cases: PingTable | None,
    grid_origin: Any,
    batch_pings: int,
) -> tuple[list[ScanPart], int, int]:
    """Judge one bucket of whole people: its scan parts, pings and people."""
    filled = [p for p in pieces if len(p)]
    if not filled:
        return [], 0, 0
    pings = joined(filled)
    index = spec.build()
    parts = [
        scan_part(batch, index, rules, at=at, cases=cases, grid_origin=grid_origin)
        for batch in person_batches(pings, batch_pings)
    ]
    return parts, len(pings), int(np.unique(pings.person).shape[0])


def _match_partition(
    frame: Any, offset: int, spec: IndexSpec, mode: str, boundary: str, options: dict[str, Any]
) -> tuple[Any, Any]:
    pd = require("pandas", "pandas", "fencecheck.dask.match")
    try:
        table = read_pings(_positional(frame), **options)
    except DataError as exc:
        row = None if exc.row is None else exc.row + offset
        raise DataError(exc.reason, source=exc.source, row=row, field=exc.field) from None
    table = replace(table, row=table.row + offset)
    hits = spec.build().match(table, mode=mode, boundary=boundary).to_pandas()
    rejected = table.rejected
    return hits, pd.DataFrame(
        {
            "row": rejected.row + offset,
            "id": rejected.id,
            "field": rejected.field,
            "reason": rejected.reason,
            "value": rejected.value,
        }
    )


def _people_of(
    frame: Any, k: int, options: dict[str, Any], wanted: list[str]
) -> tuple[PingTable, int]:
    table = _read_partition(frame, k, options)
    ids = table.persons.ids()
    keep = np.isin(ids[table.person], wanted)
    mine = table.take(np.flatnonzero(keep))
    return replace(
        mine, row=mine.row + (k << _ROW_BITS), rejected=Rejected.empty()
    ), table.rows_read


class PartitionRowError(Exception):
    """A bad row in partition ``k`` (its position there): the client names its row in the input.

    Plain ``args`` (partition, position, reason, field, source), so that it
    crosses process boundaries intact.
    """


def _read_partition(frame: Any, k: int, options: dict[str, Any]) -> PingTable:
    try:
        return read_pings(_positional(frame), **options)
    except DataError as exc:
        raise PartitionRowError(k, exc.row, exc.reason, exc.field, exc.source) from None


def _located(error: PartitionRowError, frames: list[Any], scheduler: str | None) -> DataError:
    """The error with the bad row's number in the whole input (the partitions before it counted)."""
    dask = require("dask", "dask", "fencecheck.dask")
    k, position, reason, field, source = error.args
    before = dask.compute(*[dask.delayed(len)(f) for f in frames[:k]], scheduler=scheduler)
    row = None if position is None else int(sum(before)) + int(position)
    return DataError(reason, source=source, row=row, field=field)


def joined(pieces: Sequence[PingTable]) -> PingTable:
    """Pings of several partitions as one table: person codes re-made in one registry."""
    registry = PersonRegistry()
    recoded = []
    for piece in pieces:
        used = np.unique(piece.person)
        code = np.full(len(piece.persons), -1, dtype=np.int32)
        code[used] = registry.encode(piece.persons.ids()[used])
        recoded.append(replace(piece, person=code[piece.person], persons=registry))
    return PingTable.concat(recoded)


def person_buckets(ids: NDArray[Any], buckets: int) -> NDArray[np.int64]:
    """Each person id's bucket: CRC-32 of its UTF-8 text, modulo ``buckets``.

    Stable across processes and machines (Python's ``hash`` of a string is not).

    Examples
    --------
    >>> person_buckets(np.array(["001", "002", "001"], dtype=object), 4).tolist()
    [3, 1, 3]
    """
    return np.fromiter(
        (zlib.crc32(str(i).encode("utf-8")) % buckets for i in ids), dtype=np.int64, count=len(ids)
    )


# -- helpers ---------------------------------------------------------------------------------


def _partitions(pings: Any, blocksize: int | str | None, options: dict[str, Any]) -> list[Any]:
    """The pings' partitions as delayed pandas DataFrames."""
    dd = require("dask.dataframe", "dask", "fencecheck.dask")
    if hasattr(pings, "to_delayed") and hasattr(pings, "npartitions"):
        return list(pings.to_delayed())
    paths = (
        [os.fspath(p) for p in pings] if isinstance(pings, (list, tuple)) else [os.fspath(pings)]
    )
    first = paths[0].lower()
    kind = options.get("file_format")
    if kind == "parquet" or (kind is None and first.endswith((".parquet", ".pq", "/"))):
        frame = dd.read_parquet(paths)
    elif kind in (None, "csv"):
        frame = dd.read_csv(
            paths,
            dtype=str,
            keep_default_na=False,
            blocksize=blocksize,
            encoding=options.get("encoding", "utf-8"),
        )
    else:
        raise OptionError(f"file_format: {kind!r} is not csv or parquet")
    options.pop("file_format", None)
    options.pop("encoding", None)
    return list(frame.to_delayed())


def _positional(frame: Any) -> Any:
    """A partition with a fresh 0..n-1 index (row numbers are positions)."""
    return frame.reset_index(drop=True)


def _global_rows_of(rows: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """``(partition << 40) + position`` as the row in the whole input."""
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    part = rows >> _ROW_BITS
    return offsets[part] + (rows & ((1 << _ROW_BITS) - 1))


def _global_rows(rejected: Rejected, lengths: NDArray[np.int64]) -> Rejected:
    return replace(rejected, row=_global_rows_of(rejected.row, lengths))


def _empty_hits(pd: Any) -> Any:
    stamp = "datetime64[ns, UTC]"
    return pd.DataFrame(
        {
            "ping": pd.Series(dtype="int64"),
            "person_id": pd.Series(dtype=object),
            "t": pd.Series(dtype=stamp),
            "fence_id": pd.Series(dtype=object),
            "window_start": pd.Series(dtype=stamp),
            "window_end": pd.Series(dtype=stamp),
            "relation": pd.Series(dtype=object),
            "depth_m": pd.Series(dtype="float64"),
            "p_inside": pd.Series(dtype="float64"),
        }
    )


def _compute(
    tasks: list[Any],
    scheduler: str | None,
    progress: Callable[[str], None] | None,
    watched: int,
) -> list[Any]:
    """Compute ``tasks``; with a distributed client and ``progress``, say as buckets finish."""
    dask = require("dask", "dask", "fencecheck.dask")
    client: Any = None
    if scheduler is None:
        with contextlib.suppress(ImportError, ValueError):
            from distributed import get_client

            client = get_client()
    if client is None or progress is None:
        return list(dask.compute(*tasks, scheduler=scheduler))
    distributed: Any = require("distributed", "dask", "fencecheck.dask")
    futures = client.compute(tasks)
    for done, _ in enumerate(distributed.as_completed(futures[:watched]), start=1):
        progress(f"{done:,} of {watched:,} buckets of people judged")
    return list(client.gather(futures))
