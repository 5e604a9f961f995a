"""Ping files larger than memory, regrouped by person.

A person's pings must be judged together, but a ping file is read chunk by
chunk in whatever order it comes. :class:`PersonPartitions` spills each chunk's
columns into buckets by person code (``code % buckets``), as ``.npy`` files in a
temporary folder, then hands back batches of whole buckets, about
``batch_rows`` pings each, as :class:`~fencecheck.pings.PingTable`. Only the
numeric columns are written (about 42 bytes a ping); person ids stay in the
shared :class:`~fencecheck.pings.PersonRegistry`.

:func:`sorted_batches` is the path for input already sorted by person: no
spilling, a batch ends between two people, and a person who comes back after
their batch was closed is a data error naming the row.

Examples
--------
>>> import tempfile, fencecheck as fc
>>> pings = fc.read_pings("data/samples/pings.csv")
>>> with tempfile.TemporaryDirectory() as folder:
...     spill = PersonPartitions(folder, batch_rows=100, buckets=4)
...     spill.add(pings)
...     sizes = [len(batch) for batch in spill.batches()]
>>> sum(sizes) == len(pings), len(sizes) > 1
(True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fencecheck.errors import PingDataError
from fencecheck.pings import PING_COLUMNS, PingTable
from fencecheck.rejected import Rejected

__all__ = ["PersonPartitions", "sorted_batches"]

DEFAULT_BUCKETS = 64


class PersonPartitions:
    """Buckets of pings by person, on disk, read back as batches of whole people.

    Parameters
    ----------
    folder : path
        An empty folder for the bucket files (the caller removes it).
    batch_rows : int
        About how many pings each batch holds (a bucket is never split).
    buckets : int
        How many buckets people are spread over.
    """

    def __init__(self, folder: str | Path, batch_rows: int, buckets: int = DEFAULT_BUCKETS) -> None:
        self.folder = Path(folder)
        self.batch_rows = batch_rows
        self.buckets = buckets
        self.rows = np.zeros(buckets, dtype=np.int64)
        self._files: list[list[Path]] = [[] for _ in range(buckets)]
        self._template: PingTable | None = None

    def add(self, chunk: PingTable) -> None:
        """Spill one chunk into the buckets."""
        if self._template is None:
            self._template = chunk
        bucket = chunk.person.astype(np.int64) % self.buckets
        order = np.argsort(bucket, kind="stable")
        bounds = np.searchsorted(bucket[order], np.arange(self.buckets + 1))
        for b in range(self.buckets):
            lo, hi = int(bounds[b]), int(bounds[b + 1])
            if lo == hi:
                continue
            part = order[lo:hi]
            path = self.folder / f"b{b:03d}_{len(self._files[b]):06d}.npz"
            np.savez(path, **{name: getattr(chunk, name)[part] for name in PING_COLUMNS})
            self._files[b].append(path)
            self.rows[b] += hi - lo

    def batches(self) -> Iterator[PingTable]:
        """Batches of whole buckets, about ``batch_rows`` pings each, in bucket order."""
        if self._template is None:
            return
        group: list[int] = []
        held = 0
        for b in range(self.buckets):
            if self.rows[b] == 0:
                continue
            if group and held + self.rows[b] > self.batch_rows:
                yield self._load(group)
                group, held = [], 0
            group.append(b)
            held += int(self.rows[b])
        if group:
            yield self._load(group)

    def _load(self, group: list[int]) -> PingTable:
        assert self._template is not None
        columns: dict[str, list[np.ndarray]] = {name: [] for name in PING_COLUMNS}
        for b in group:
            for path in self._files[b]:
                with np.load(path) as data:
                    for name in PING_COLUMNS:
                        columns[name].append(data[name])
                path.unlink()
        joined: dict[str, Any] = {name: np.concatenate(columns[name]) for name in PING_COLUMNS}
        return replace(self._template, **joined, rejected=Rejected.empty(), rows_read=0)


def sorted_batches(chunks: Iterable[PingTable], batch_rows: int) -> Iterator[PingTable]:
    """Batches of whole people from chunks of input sorted (grouped) by person.

    Raises
    ------
    PingDataError
        When a person's pings come back after another person's began.
    """
    held: list[PingTable] = []
    rows = 0
    closed: set[int] = set()
    last: int | None = None
    for chunk in chunks:
        if len(chunk) == 0:
            continue
        person = chunk.person
        change = np.flatnonzero(person[1:] != person[:-1]) + 1
        starts = np.concatenate([[0], change])
        runs = person[starts].tolist()
        if last is not None and runs[0] == last:
            runs, starts = runs[1:], starts[1:]
        for code, start in zip(runs, starts.tolist(), strict=True):
            if code in closed:
                raise PingDataError(
                    f"{chunk.origin}: row {int(chunk.row[start])}: person_id: "
                    f"{chunk.persons.ids()[code]!r} comes back after other people's pings "
                    "(the input is not grouped by person; drop --sorted-by-person)"
                )
            if last is not None:
                closed.add(last)
            last = code
        held.append(chunk)
        rows += len(chunk)
        if rows >= batch_rows:
            # Keep the last person, who may go on in the next chunk.
            joined = PingTable.concat(held)
            tail = joined.person == last
            if not tail.all():  # (one person alone may outgrow a batch)
                yield replace(joined.take(~tail), rejected=Rejected.empty(), rows_read=0)
            held = [replace(joined.take(tail), rejected=Rejected.empty(), rows_read=0)]
            rows = len(held[0])
    if held:
        yield replace(PingTable.concat(held), rejected=Rejected.empty(), rows_read=0)
