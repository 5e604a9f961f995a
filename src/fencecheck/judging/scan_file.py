"""Scan a ping file of any size: the tables of :func:`~fencecheck.judging.scan.scan`.

:func:`scan_file` reads the file chunk by chunk. A file of at most
``batch_rows`` pings is judged in memory. A larger one is first regrouped by
person into temporary files (:func:`~fencecheck.io.partition.regroup`: 64 buckets
of numpy columns in a folder only the user can read, removed however the scan
ends, Ctrl-C included), then judged a batch of whole people at a time; with
``sorted_by_person=True`` a file already grouped by person is judged as it
comes, with nothing written. Either way each person is judged on all of their
pings at once, so the tables equal those of :func:`~fencecheck.scan` on the
whole file read into memory (``tests/test_scan.py`` checks it).

``fencecheck scan`` is this function with its options parsed from the command
line.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> result = scan_file("data/samples/pings.csv", index, batch_rows=100)
>>> result.reading.regrouped, result.reading.rows_read, len(result.people)
(True, 400, 8)
>>> whole = fc.scan(fc.read_pings("data/samples/pings.csv"), index)
>>> list(result.people["verdict"]) == list(whole.people["verdict"])
True
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from fencecheck.errors import OptionError
from fencecheck.index import FenceIndex
from fencecheck.io.partition import regroup, sorted_batches
from fencecheck.io.pings import iter_pings
from fencecheck.io.tally import PingTally
from fencecheck.judging.scan import DEFAULT_BATCH_PINGS, Scan, ScanPart, assemble, scan_part
from fencecheck.judging.verdicts import DEFAULT_LOOKBACK_S, Rules
from fencecheck.optional import check_progress, progress_bar
from fencecheck.options import MatchMode
from fencecheck.pings import PingTable
from fencecheck.policy import Policy
from fencecheck.times import resolve_zone, zone_name

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from fencecheck.io.pings import PingOptions

__all__ = ["scan_file"]


def scan_file(
    pings: str | os.PathLike[str] | Iterable[PingTable],
    index: FenceIndex,
    *,
    at: object = None,
    lookback: object = DEFAULT_LOOKBACK_S,
    policy: Policy | None = None,
    mode: MatchMode | str = MatchMode.DISC,
    batch_rows: int = DEFAULT_BATCH_PINGS,
    sorted_by_person: bool = False,
    progress: bool | Callable[[str], None] | None = None,
    cases: PingTable | None = None,
    grid_origin: tuple[float, float] | str | None = None,
    **options: Unpack[PingOptions],
) -> Scan:
    """Judge everyone in a ping file too large for memory, and sum it up.

    Parameters
    ----------
    pings : path, or iterable of PingTable
        A CSV or Parquet file (read with :func:`~fencecheck.iter_pings` and
        ``options``), or chunks already being read.
    index : FenceIndex
        The fences.
    at, lookback, policy, mode
        As for :func:`~fencecheck.scan`.
    batch_rows : int
        Pings judged at a time (a person is never split); a file of more pings
        is regrouped by person first.
    sorted_by_person : bool
        The input comes grouped by person: judge it as it comes, without
        regrouping.
    progress : bool or callable, optional
        ``True`` shows a bar of the pings judged, with the rows read (tqdm: a widget
        in a notebook, a line on a terminal; needs the ``progress`` extra); a
        callable is called with a short line (``"1,000,000 rows read"``) as the
        work goes.
    cases, grid_origin
        Confirmed cases' pings (held in memory: they are few) and the companion
        grid's origin, as for :func:`~fencecheck.scan`.
    **options
        How to read the file: :func:`~fencecheck.read_pings`'s keywords.

    Returns
    -------
    Scan
        The tables of :func:`~fencecheck.scan`, with ``reading`` saying what was
        read, used and set aside.

    Raises
    ------
    OptionError
        For a ``batch_rows`` that is not a positive whole number.
    MissingDependencyError
        For ``progress=True`` without tqdm.
    """
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
        raise OptionError(f"batch_rows: {batch_rows!r} is not a positive whole number")
    rules = Rules.of(policy, lookback, mode)
    check_progress(progress)
    bar = (
        progress_bar(None, unit="ping", desc="scan", purpose="scan_file(progress=True)")
        if progress is True
        else None
    )
    say = progress if callable(progress) else (lambda line: None)
    tally = PingTally()
    zones: list[str] = []
    parts: list[ScanPart] = []
    judged = 0

    def judge_batch(batch: PingTable) -> None:
        nonlocal judged
        parts.append(scan_part(batch, index, rules, at=at, cases=cases, grid_origin=grid_origin))
        judged += len(batch)
        say(f"{judged:,} of {tally.loaded:,} pings judged")
        if bar is not None:
            bar.total = max(tally.loaded, judged)
            bar.update(len(batch))

    def counted(chunks: Iterable[PingTable]) -> Iterator[PingTable]:
        for chunk in chunks:
            tally.add(chunk)
            zones.append(chunk.tz)
            say(f"{tally.rows_read:,} rows read")
            if bar is not None:
                bar.set_postfix_str(f"{tally.rows_read:,} rows read")
            yield chunk

    if isinstance(pings, (str, os.PathLike)):
        chunks = counted(iter_pings(pings, **options))
    else:
        chunks = counted(pings)
    # Closed however the work ends, so that a regrouping's temporary folder goes at once.
    with (
        contextlib.closing(
            sorted_batches(chunks, batch_rows) if sorted_by_person else regroup(chunks, batch_rows)
        ) as batches,
        bar if bar is not None else contextlib.nullcontext(),
    ):
        for batch in batches:
            judge_batch(batch)
    regrouped = not sorted_by_person and tally.loaded > batch_rows
    tz = zones[0] if zones else zone_name(resolve_zone(options.get("tz")))
    result = assemble(parts, index, rules, at=at, tz=tz)
    return replace(result, reading=tally.reading(regrouped=regrouped))
