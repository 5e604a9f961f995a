"""The rejected table: every row or feature set aside, with its reason.

Under ``on_error="reject"`` a reader never drops a row silently: what it cannot
use goes here, so that rows read = rows loaded + rows rejected. A rejected row
keeps its 0-based row number (docs/contract.md), the id it carried (person id for a
ping, fence id for a fence feature, ``""`` when it had none), the field at
fault, the reason, and the offending value as text. The reason never repeats a
coordinate; the ``value`` column is raw input, and so is the person id: a
rejected file is for whoever holds the input, and is never pseudonymized
(docs/privacy.md).

Examples
--------
>>> r = Rejected.from_records([(3, "P01", "lat", "lat is outside [-90, 90]", "95.0")])
>>> len(r), r.row.tolist(), r.field.tolist()
(1, [3], ['lat'])
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError

__all__ = ["REJECTED_COLUMNS", "Rejected"]

REJECTED_COLUMNS = ("row", "id", "field", "reason", "value")
"""The columns of a rejected table, in file order."""


@dataclass(frozen=True)
class Rejected:
    """Rows or features set aside by a reader, one entry per row, sorted by row.

    Attributes
    ----------
    row : ndarray of int64
        0-based data row (pings) or feature position (fences) in the input.
    id : ndarray of object
        The person id or fence id the row carried, as text.
    field : ndarray of object
        The column or property at fault.
    reason : ndarray of object
        Why it was set aside.
    value : ndarray of object
        The offending value as text.
    """

    row: NDArray[np.int64]
    id: NDArray[np.object_]
    field: NDArray[np.object_]
    reason: NDArray[np.object_]
    value: NDArray[np.object_]

    @classmethod
    def empty(cls) -> Rejected:
        """A table with no rows."""
        return cls.from_records([])

    @classmethod
    def from_records(cls, records: Iterable[Sequence[Any]]) -> Rejected:
        """Build from ``(row, id, field, reason, value)`` tuples, sorting by row."""
        rows = list(records)
        order = sorted(range(len(rows)), key=lambda i: int(rows[i][0]))
        cols: list[list[Any]] = [[rows[i][k] for i in order] for k in range(5)]
        return cls(
            np.asarray(cols[0], dtype=np.int64).reshape(-1),
            _text_array(cols[1]),
            _text_array(cols[2]),
            _text_array(cols[3]),
            _text_array(cols[4]),
        )

    @classmethod
    def concat(cls, parts: Sequence[Rejected]) -> Rejected:
        """Join tables (for example one per chunk), keeping rows sorted."""
        if not parts:
            return cls.empty()
        row = np.concatenate([p.row for p in parts])
        order = np.argsort(row, kind="stable")
        return cls(
            row[order],
            *(
                np.concatenate([getattr(p, name) for p in parts])[order]
                for name in REJECTED_COLUMNS[1:]
            ),
        )

    def __len__(self) -> int:
        return int(self.row.shape[0])

    def __repr__(self) -> str:
        return f"<Rejected: {len(self)} rows>"

    def records(self) -> list[tuple[int, str, str, str, str]]:
        """The table as a list of tuples, in row order."""
        return [
            (int(r), str(i), str(f), str(m), str(v))
            for r, i, f, m, v in zip(
                self.row, self.id, self.field, self.reason, self.value, strict=True
            )
        ]

    def reasons_by_field(self) -> dict[str, int]:
        """How many rows were set aside for each field, most first."""
        names, counts = np.unique(self.field.astype(str), return_counts=True)
        pairs = sorted(
            zip(names.tolist(), counts.tolist(), strict=True), key=lambda p: (-p[1], p[0])
        )
        return dict(pairs)

    def to_csv(self, path: str | os.PathLike[str], *, excel: bool = False) -> None:
        """Write the table as UTF-8 CSV with the columns of :data:`REJECTED_COLUMNS`.

        ``excel=True`` starts the file with a byte-order mark (``utf-8-sig``), for Excel.
        """
        with open(path, "w", encoding="utf-8-sig" if excel else "utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REJECTED_COLUMNS)
            writer.writerows(self.records())

    def to_pandas(self) -> Any:
        """The table as a :class:`pandas.DataFrame` (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("pandas", "pandas", "Rejected.to_pandas") from exc
        return pd.DataFrame({name: getattr(self, name) for name in REJECTED_COLUMNS})


def _text_array(values: Sequence[Any]) -> NDArray[np.object_]:
    out = np.empty(len(values), dtype=object)
    out[:] = ["" if v is None else str(v) for v in values]
    return out
