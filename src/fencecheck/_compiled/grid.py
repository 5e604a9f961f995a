"""A uniform grid over boxes, for finding candidate boxes of millions of points at once.

The R-tree (:class:`~fencecheck.index.FenceIndex`) is the index of record; this
grid is derived from it for bulk point look-ups, which an R-tree answers one
point at a time. Each box is registered in every cell it overlaps (a CSR table:
``offsets`` into ``entries``); a point looks up its one cell. Candidates are a
superset of the boxes containing the point, to be decided exactly by the caller.

Examples
--------
>>> boxes = np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 0.0, 30.0, 5.0]])
>>> grid = BoxGrid(boxes, np.array([7, 9]), cell=4.0)
>>> point, box = grid.query(np.array([5.0, 25.0, 100.0]), np.array([5.0, 1.0, 1.0]))
>>> point.tolist(), box.tolist()
([0, 1], [7, 9])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["MAX_CELLS", "BoxGrid"]

MAX_CELLS = 4_000_000
"""The most cells a grid may have; the cell size grows to keep below it."""


class BoxGrid:
    """Boxes ``(minx, miny, maxx, maxy)`` with ids, bucketed in square cells.

    Parameters
    ----------
    boxes : ndarray of shape (n, 4)
        The boxes, in the frame's metres.
    ids : ndarray of int64
        What :meth:`query` returns for each box.
    cell : float
        The cell side in metres (made larger if the grid would have more than
        :data:`MAX_CELLS` cells).
    """

    def __init__(self, boxes: NDArray[np.float64], ids: NDArray[np.int64], cell: float) -> None:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self.ids = np.asarray(ids, dtype=np.int64)
        if boxes.shape[0] == 0:
            self.x0 = self.y0 = 0.0
            self.cell = float(cell)
            self.nx = self.ny = 1
            self.offsets = np.zeros(2, dtype=np.int64)
            self.entries = np.zeros(0, dtype=np.int64)
            return
        self.x0 = float(boxes[:, 0].min())
        self.y0 = float(boxes[:, 1].min())
        width = float(boxes[:, 2].max()) - self.x0
        height = float(boxes[:, 3].max()) - self.y0
        cell = max(float(cell), np.sqrt(max(width * height, 1.0) / MAX_CELLS))
        self.cell = cell
        self.nx = int(width // cell) + 1
        self.ny = int(height // cell) + 1
        i0, j0 = self._cells(boxes[:, 0], boxes[:, 1])
        i1, j1 = self._cells(boxes[:, 2], boxes[:, 3])
        wide = i1 - i0 + 1
        counts = wide * (j1 - j0 + 1)
        box = np.repeat(np.arange(boxes.shape[0]), counts)
        step = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        cell_id = (j0[box] + step // wide[box]) * self.nx + (i0[box] + step % wide[box])
        order = np.argsort(cell_id, kind="stable")
        self.entries = box[order]
        self.offsets = np.zeros(self.nx * self.ny + 1, dtype=np.int64)
        np.cumsum(np.bincount(cell_id, minlength=self.nx * self.ny), out=self.offsets[1:])

    @property
    def entry_ids(self) -> NDArray[np.int64]:
        """The ids of the entries, cell by cell (what the compiled kernels read)."""
        ids = getattr(self, "_entry_ids", None)
        if ids is None:
            ids = np.ascontiguousarray(self.ids[self.entries], dtype=np.int64)
            self._entry_ids = ids
        return ids

    def _cells(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        i = np.floor((x - self.x0) / self.cell).astype(np.int64)
        j = np.floor((y - self.y0) / self.cell).astype(np.int64)
        return np.clip(i, 0, self.nx - 1), np.clip(j, 0, self.ny - 1)

    def query(
        self, x: NDArray[np.float64], y: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Candidate boxes of points: pairs ``(point position, box id)``.

        Every box containing a point is among its candidates (boxes on a cell
        edge are in both cells; a point beyond the grid has none).
        """
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        fx = np.floor((x - self.x0) / self.cell)
        fy = np.floor((y - self.y0) / self.cell)
        on_grid = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        point = np.flatnonzero(on_grid)
        cell = fy[point].astype(np.int64) * self.nx + fx[point].astype(np.int64)
        start = self.offsets[cell]
        count = self.offsets[cell + 1] - start
        pair_point = np.repeat(point, count)
        step = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        pair_box = self.entries[np.repeat(start, count) + step]
        return pair_point.astype(np.int64), self.ids[pair_box]
