"""The classified raster behind ``evidence="hits"``: the same pairs as the exact test, always."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from fencecheck._compiled.raster import FenceRaster
from fencecheck.errors import OptionError
from fencecheck.matching import match_xy
from strategies import STEP, PlanarCase, planar_cases
from test_match import planar_index, reference

from support import SAMPLES

CELLS = [0.7, 3.0, STEP, 2.5 * STEP, 9 * STEP]


def with_raster(index: Any, cell: float) -> Any:
    """The index with its raster rebuilt at a given cell side (small: many cells)."""
    live = np.flatnonzero(index.alive).astype(np.int64)
    index._raster = FenceRaster.build(
        index.flat, index.fence_box, index.fences.buffer_m.astype(np.float64), live, cell=cell
    )
    return index


def _pairs(result: tuple[Any, ...], index: Any) -> list[tuple[int, int, int, bool]]:
    pos, window, fence, inside, depth, p_inside = result
    assert np.isnan(depth).all() and np.isnan(p_inside).all()
    return list(
        zip(
            pos.tolist(),
            fence.tolist(),
            index.fences.window_start[window].tolist(),
            inside.tolist(),
            strict=True,
        )
    )


@settings(max_examples=150, deadline=None)
@given(case=planar_cases(), strict=st.booleans(), cell=st.sampled_from(CELLS))
def test_hits_only_are_exactly_the_pairwise_reference(
    case: PlanarCase, strict: bool, cell: float
) -> None:
    index = with_raster(planar_index(case.geometry, case.buffer_m, case.windows), cell)
    case.windows = [
        [(s, None if e == fc.times.OPEN_END else e) for s, e in index.fences.windows_of(f"F{j}")]
        for j in range(len(case.geometry))
    ]
    result = match_xy(
        index,
        case.x,
        case.y,
        case.t,
        case.accuracy_m,
        boundary="contains" if strict else "covers",
        block_pings=7,
        evidence="hits",
    )
    expected = reference(case, False, strict)
    got = _pairs(result, index)
    # every reference pair once, in ping then fence order, with its window; all "inside"
    assert [(i, j) for i, j, _, _ in got] == sorted(expected)
    for i, j, start, inside in got:
        assert (start, inside) == expected[(i, j)][:2]


@settings(max_examples=60, deadline=None)
@given(case=planar_cases(max_fences=4, max_pings=5), cell=st.sampled_from(CELLS), data=st.data())
def test_surely_inside_cells_lie_in_the_grown_fence_and_no_meeting_fence_is_left_out(
    case: PlanarCase, cell: float, data: Any
) -> None:
    index = with_raster(planar_index(case.geometry, case.buffer_m, case.windows), cell)
    raster = index._raster
    for _ in range(40):
        x = data.draw(st.floats(-60.0, 460.0, allow_nan=False))
        y = data.draw(st.floats(-60.0, 460.0, allow_nan=False))
        listed = dict(raster.entries_at(x, y))
        # the cell's box: every point of it, its corners included
        i = np.floor((x - raster.x0) / raster.cell)
        j = np.floor((y - raster.y0) / raster.cell)
        corners = [
            (raster.x0 + (i + a) * raster.cell, raster.y0 + (j + b) * raster.cell)
            for a in (0, 1)
            for b in (0, 1)
        ]
        for f, (geometry, margin) in enumerate(zip(case.geometry, case.buffer_m, strict=True)):
            point = shapely.Point(x, y)
            meets = shapely.dwithin(geometry, point, margin) or (
                geometry.geom_type != "Point" and geometry.covers(point)
            )
            if meets:
                assert f in listed, (f, x, y)
            if listed.get(f):
                for cx, cy in [(x, y), *corners]:
                    corner = shapely.Point(cx, cy)
                    assert shapely.distance(geometry, corner) < margin or (
                        geometry.geom_type != "Point" and geometry.contains(corner)
                    ), (f, cx, cy)


def test_the_raster_lists_a_far_inside_cell_as_sure_and_an_edge_cell_for_the_test() -> None:
    index = with_raster(planar_index([shapely.box(0, 0, 400, 400)], [20.0], [[(0, None)]]), 10.0)
    raster = index._raster
    assert raster.entries_at(200.0, 200.0) == [(0, True)]
    assert raster.entries_at(400.0 + 3.0, 200.0) == [(0, True)]  # in the margin, surely
    assert raster.entries_at(400.0 + 19.9, 200.0) == [(0, False)]  # near the grown edge
    assert raster.entries_at(400.0 + 45.0, 200.0) == []  # surely outside: not listed


def test_hits_only_match_the_full_match_on_the_samples() -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    for boundary in ("covers", "contains"):
        full = index.match(pings, boundary=boundary)
        pairs = index.match(pings, boundary=boundary, evidence="hits")
        assert len(pairs) == len(full) > 0
        for column in ("ping", "person", "t", "fence", "window_start", "window_end", "inside"):
            assert np.array_equal(getattr(pairs, column), getattr(full, column)), column
        assert np.isnan(pairs.depth_m).all() and np.isnan(pairs.p_inside).all()
    # disc mode: the same pairs as with depth, depth left out
    disc = index.match(pings, mode="disc", evidence="hits")
    depth = index.match(pings, mode="disc", evidence="depth")
    assert np.array_equal(disc.ping, depth.ping) and np.array_equal(disc.fence, depth.fence)
    assert np.array_equal(disc.inside, depth.inside) and not disc.inside.all()
    assert np.isnan(disc.depth_m).all() and not np.isnan(depth.depth_m).any()


def test_the_raster_is_made_by_prepare_and_forgotten_when_fences_change() -> None:
    fences = fc.read_fences(SAMPLES / "fences.geojson")
    index = fc.FenceIndex.build(fences.take(np.arange(len(fences) - 1)))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    assert index._raster is None
    index.prepare()
    assert index._raster is not None and index._raster.entries.shape[0] > 0
    before = index.match(pings, evidence="hits")
    index.add(fences.take(np.array([len(fences) - 1])))
    assert index._raster is None
    added = index.match(pings, evidence="hits")
    assert np.array_equal(added.fence_ids(), index.match(pings).fence_ids())
    index.remove([str(fences.ids[0])])
    assert index._raster is None
    removed = index.match(pings, evidence="hits")
    assert str(fences.ids[0]) not in set(removed.fence_ids().tolist())
    assert len(before) != len(added) or len(added) != len(removed)


def test_evidence_names_are_checked() -> None:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    with pytest.raises(
        OptionError, match="evidence: 'pairs' is not one of 'full', 'depth', 'hits'"
    ):
        index.match(pings, evidence="pairs")
    assert np.isnan(index.match(pings, evidence=False).p_inside).all()
    assert not np.isnan(index.match(pings, evidence=True).p_inside).any()
