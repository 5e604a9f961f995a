"""The candidate grid: every box that holds a point is among the point's candidates."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck._compiled.grid import BoxGrid

coord = st.integers(-50, 50).map(float)


@settings(max_examples=200, deadline=None)
@given(
    boxes=st.lists(
        st.tuples(coord, coord, st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=20
    ),
    points=st.lists(st.tuples(coord, coord), min_size=1, max_size=30),
    cell=st.sampled_from([0.5, 1.0, 3.0, 7.0, 100.0]),
)
def test_candidates_are_a_superset_of_the_boxes_holding_each_point(
    boxes: list[tuple[float, float, int, int]], points: list[tuple[float, float]], cell: float
) -> None:
    array = np.array([(x, y, x + w, y + h) for x, y, w, h in boxes], dtype=np.float64)
    ids = np.arange(100, 100 + len(boxes))
    grid = BoxGrid(array, ids, cell)
    px = np.array([p[0] for p in points])
    py = np.array([p[1] for p in points])
    point, box = grid.query(px, py)
    found = set(zip(point.tolist(), box.tolist(), strict=True))
    for i, (x, y) in enumerate(points):
        for k, (x0, y0, x1, y1) in enumerate(array.tolist()):
            if x0 <= x <= x1 and y0 <= y <= y1:
                assert (i, int(ids[k])) in found
    # and nothing outside the grid's own extent is proposed
    far = grid.query(np.array([1e9]), np.array([1e9]))
    assert far[0].shape[0] == 0


def test_an_empty_grid_proposes_nothing() -> None:
    grid = BoxGrid(np.zeros((0, 4)), np.zeros(0, dtype=np.int64), 10.0)
    point, box = grid.query(np.array([0.0]), np.array([0.0]))
    assert point.shape[0] == box.shape[0] == 0
