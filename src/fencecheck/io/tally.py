"""Counting a stream of ping chunks: rows read = pings used + rows rejected.

The command line's summaries and :func:`fencecheck.scan_file`'s ``reading`` come
from a :class:`PingTally`, which counts each chunk as it goes by and keeps
only the counts, the people's codes and the rejected rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fencecheck.pings import PingTable
from fencecheck.rejected import Rejected
from fencecheck.times import format_utc
from fencecheck.values import counted

__all__ = ["PingTally", "Reading"]


@dataclass(frozen=True)
class Reading:
    """What a streamed read took in: rows read = pings used + rows rejected.

    :func:`fencecheck.scan_file` reports it.

    Attributes
    ----------
    rows_read : int
        Data rows in the input.
    pings_used : int
        Pings loaded and judged.
    people : int
        Distinct people among them.
    rejected : Rejected
        The rows set aside, with their reasons (``on_error="reject"``).
    regrouped : bool
        Whether the pings were regrouped by person in temporary files.
    """

    rows_read: int
    pings_used: int
    people: int
    rejected: Rejected
    regrouped: bool


class PingTally:
    """Counts over a stream of ping chunks, without keeping the chunks.

    Examples
    --------
    >>> tally = PingTally()
    >>> from fencecheck.io.pings import iter_pings
    >>> for chunk in iter_pings("data/samples/pings.csv", chunk_rows=150):
    ...     tally.add(chunk)
    >>> tally.rows_read, tally.loaded, len(tally.people), len(tally.rejected_rows())
    (400, 400, 8, 0)
    """

    def __init__(self) -> None:
        self.rows_read = 0
        self.loaded = 0
        self.people: set[int] = set()
        self.t_min: int | None = None
        self.t_max: int | None = None
        self.rejected: list[Rejected] = []

    def add(self, chunk: PingTable) -> None:
        """Count one chunk."""
        self.rows_read += chunk.rows_read
        self.loaded += len(chunk)
        self.people.update(np.unique(chunk.person).tolist())
        if len(chunk):
            lo, hi = int(chunk.t.min()), int(chunk.t.max())
            self.t_min = lo if self.t_min is None else min(self.t_min, lo)
            self.t_max = hi if self.t_max is None else max(self.t_max, hi)
        if len(chunk.rejected):
            self.rejected.append(chunk.rejected)

    def rejected_rows(self) -> Rejected:
        """Every chunk's rejected rows, as one table."""
        return Rejected.concat(self.rejected)

    def reading(self, *, regrouped: bool = False) -> Reading:
        """The counts as a :class:`Reading`."""
        return Reading(
            rows_read=self.rows_read,
            pings_used=self.loaded,
            people=len(self.people),
            rejected=self.rejected_rows(),
            regrouped=regrouped,
        )

    def summary(self, datum: str, zone: str) -> str:
        """One line: rows read, pings and people, rejected rows, time span, datum and zone."""
        rejected = sum(len(r) for r in self.rejected)
        span = ""
        if self.t_min is not None and self.t_max is not None:
            span = f", {format_utc(self.t_min)} .. {format_utc(self.t_max)}"
        return (
            f"{counted(self.rows_read, 'row', 'rows')} read, "
            f"{counted(self.loaded, 'ping', 'pings')} of "
            f"{counted(len(self.people), 'person', 'people')}, "
            f"{rejected} rejected{span}; datum {datum} -> wgs84, naive times in {zone}"
        )
