"""Ping files larger than memory, regrouped by person.

A person's pings must be judged together, but a ping file is read chunk by
chunk in whatever order it comes. :class:`PersonPartitions` spills each chunk's
columns into buckets by person code (``code % buckets``), as ``.npy`` files in a
temporary folder, then hands back batches of whole buckets, about
``batch_rows`` pings each, as :class:`~fencecheck.pings.PingTable`. Only the
numeric columns are written (about 42 bytes a ping); person ids stay in the
shared :class:`~fencecheck.pings.PersonRegistry`.

:func:`regroup` is the whole path for input in any order: chunks are held in
memory up to ``batch_rows`` pings, past that spilled into a
:func:`private_folder` (mode 0700, files 0600) that is removed however the
work ends: done, failed, interrupted (Ctrl-C) or the generator closed early.
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

import contextlib
import os
import shutil
import tempfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from fencecheck.errors import PingDataError
from fencecheck.pings import PING_COLUMNS, PingTable
from fencecheck.rejected import Rejected

__all__ = ["PersonPartitions", "private_folder", "regroup", "sorted_batches"]

DEFAULT_BUCKETS = 64
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


class PersonPartitions:
    """Buckets of pings by person, on disk, read back as batches of whole people.

    Parameters
    ----------
    folder : path
        An empty folder for the bucket files (the caller removes it; see
        :func:`private_folder`). Each file is created readable by the user only.
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
            # Readable by the user only, and never an existing file (or a link planted there).
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600)
            with os.fdopen(handle, "wb") as out:
                np.savez(out, **{name: getattr(chunk, name)[part] for name in PING_COLUMNS})
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


@contextlib.contextmanager
def private_folder(
    prefix: str = "fencecheck-", dir: str | os.PathLike[str] | None = None
) -> Iterator[Path]:
    """A new temporary folder only the user can enter (mode 0700), removed on leaving.

    The folder and everything in it is removed however the ``with`` block ends:
    normally, on an error, or on Ctrl-C (``KeyboardInterrupt``). A generator
    that holds one inside removes it when it finishes or is closed. Only a
    process killed outright (``SIGKILL``, a power cut) leaves it behind.

    Parameters
    ----------
    prefix : str
        The start of the folder's name.
    dir : path, optional
        Where to make it (default: :func:`tempfile.gettempdir`, that is
        ``TMPDIR`` or the system's temporary folder).

    Examples
    --------
    >>> import stat
    >>> with private_folder() as folder:
    ...     mode = stat.S_IMODE(folder.stat().st_mode)
    >>> oct(mode) if os.name == "posix" else "0o700", folder.exists()
    ('0o700', False)
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=dir))  # mkdtemp: mode 0700
    try:
        yield folder
    finally:
        try:
            shutil.rmtree(folder, ignore_errors=True)
        except KeyboardInterrupt:  # a second Ctrl-C while cleaning up: finish, then stop
            shutil.rmtree(folder, ignore_errors=True)
            raise


def regroup(
    chunks: Iterable[PingTable],
    batch_rows: int,
    *,
    buckets: int = DEFAULT_BUCKETS,
    dir: str | os.PathLike[str] | None = None,
) -> Generator[PingTable, None, None]:
    """Batches of whole people, about ``batch_rows`` pings each, from chunks in any order.

    Chunks are held in memory while they add up to at most ``batch_rows``
    pings, and then come back as one batch; past that, every chunk is spilled
    into a :func:`private_folder` by person (:class:`PersonPartitions`) and
    read back a few buckets at a time. The folder is removed when the batches
    are done, when reading or judging fails, on Ctrl-C, and when the generator
    is closed early (call ``close()``, or use :func:`contextlib.closing`).

    Examples
    --------
    >>> import contextlib, fencecheck as fc
    >>> chunks = fc.iter_pings("data/samples/pings.csv", chunk_rows=50)
    >>> with contextlib.closing(regroup(chunks, batch_rows=120)) as batches:
    ...     sizes = [len(batch) for batch in batches]
    >>> sum(sizes), len(sizes) > 1
    (400, True)
    """
    with contextlib.ExitStack() as stack:
        held: list[PingTable] = []
        loaded = 0
        spill: PersonPartitions | None = None
        for chunk in chunks:
            loaded += len(chunk)
            if spill is None and loaded <= batch_rows:
                held.append(chunk)
                continue
            if spill is None:
                folder = stack.enter_context(private_folder("fencecheck-scan-", dir))
                spill = PersonPartitions(folder, batch_rows, buckets)
                for part in held:
                    spill.add(part)
                held = []
            spill.add(chunk)
        if spill is not None:
            yield from spill.batches()
        elif held and loaded:
            yield PingTable.concat(held)


def sorted_batches(
    chunks: Iterable[PingTable], batch_rows: int
) -> Generator[PingTable, None, None]:
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
                    f"{chunk.origin}: row {int(chunk.row[start])}: person_id: the row's person "
                    "comes back after other people's pings (the input is not grouped by "
                    "person; drop --sorted-by-person)"
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
