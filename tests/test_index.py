"""The fence index: exact queries, changes without rebuild, and saving without pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from fencecheck import FenceSet, read_fences
from fencecheck.errors import FenceDataError
from fencecheck.frame import MetricFrame
from fencecheck.index import FenceIndex
from fencecheck.times import OPEN_END, parse_time

from support import SAMPLES

DAY = 86_400_000
T0 = parse_time("2022-05-01T00:00:00Z")
FRAME = MetricFrame(116.40, 39.90)


@st.composite
def fence_records(draw: Any, n: int) -> list[dict[str, Any]]:
    """n fences near 116.40 E 39.90 N: boxes and triangles, windows, margins, venues."""
    records = []
    for i in range(n):
        lon = 116.40 + draw(st.integers(-50, 50)) * 1e-4
        lat = 39.90 + draw(st.integers(-50, 50)) * 1e-4
        w = draw(st.integers(1, 20)) * 1e-4
        h = draw(st.integers(1, 20)) * 1e-4
        shape = draw(st.sampled_from(["box", "triangle", "point"]))
        buffer_m = float(draw(st.sampled_from([0, 0, 15, 80])))
        if shape == "box":
            geometry: Any = shapely.box(lon, lat, lon + w, lat + h)
        elif shape == "triangle":
            geometry = shapely.Polygon([(lon, lat), (lon + w, lat), (lon, lat + h)])
        else:
            geometry = shapely.Point(lon, lat)
            buffer_m = buffer_m or 50.0
        windows = []
        for _ in range(draw(st.integers(1, 3))):
            start = T0 + draw(st.integers(0, 20)) * DAY // 2
            end = None if draw(st.integers(0, 5)) == 0 else start + draw(st.integers(1, 6)) * DAY
            windows.append([start // 1000, None if end is None else end // 1000])
        records.append(
            {
                "id": f"F{i}",
                "kind": "sealed",
                "windows": windows,
                "buffer_m": buffer_m,
                "geometry": geometry,
            }
        )
    return records


def brute_force(
    fences: FenceSet,
    frame: MetricFrame,
    bounds: tuple[float, ...],
    t0: int,
    t1: int,
    distance_m: float,
) -> list[str]:
    """The obvious slow answer: every fence, every window, shapely in the frame."""
    box = shapely.box(*bounds)
    side = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    if side > 0:
        box = shapely.segmentize(box, side / 16)
    box_xy = frame.project_geometry(box)
    out = []
    for i, fid in enumerate(fences.ids.tolist()):
        sel = fences.window_fence == i
        active = np.any((fences.window_start[sel] < t1) & (fences.window_end[sel] > t0))
        geom = frame.project_geometry(fences.geometry[i])
        if active and shapely.distance(geom, box_xy) <= fences.buffer_m[i] + distance_m:
            out.append(fid)
    return sorted(out)


queries = st.tuples(
    st.integers(-60, 60),
    st.integers(-60, 60),
    st.integers(0, 30),
    st.integers(0, 30),
    st.integers(-2, 24),
    st.integers(0, 10),
    st.sampled_from([0.0, 25.0, 300.0]),
)


def run_query(index: FenceIndex, q: tuple[int, ...]) -> tuple[list[str], tuple[Any, ...]]:
    x, y, w, h, start_half_days, length_days, distance = q
    bounds = (116.40 + x * 1e-4, 39.90 + y * 1e-4, 116.40 + (x + w) * 1e-4, 39.90 + (y + h) * 1e-4)
    t0 = T0 + start_half_days * DAY // 2
    t1 = t0 + length_days * DAY + 1
    got = sorted(index.query(bounds, t0 // 1000, t1 // 1000, distance_m=distance).tolist())
    return got, (bounds, (t0 // 1000) * 1000, (t1 // 1000) * 1000, distance)


@settings(max_examples=60, deadline=None)
@given(records=fence_records(12), qs=st.lists(queries, min_size=1, max_size=6))
def test_queries_equal_the_brute_force_answer(
    records: list[dict[str, Any]], qs: list[tuple[int, ...]]
) -> None:
    fences = FenceSet.from_records(records)
    index = FenceIndex.build(fences, FRAME)
    for q in qs:
        got, (bounds, t0, t1, distance) = run_query(index, q)
        assert got == brute_force(fences, FRAME, bounds, t0, t1, distance)


@settings(max_examples=40, deadline=None)
@given(records=fence_records(14), data=st.data())
def test_adding_and_removing_answers_like_a_fresh_build(
    records: list[dict[str, Any]], data: Any
) -> None:
    first = data.draw(st.integers(1, 13))
    removed = data.draw(st.sets(st.integers(0, 13), max_size=6))
    index = FenceIndex.build(FenceSet.from_records(records[:first]), FRAME)
    index.add(FenceSet.from_records(records[first:]))
    index.remove(f"F{i}" for i in sorted(removed))
    # a removed id can come back as a new fence
    back = sorted(removed)[:1]
    if back:
        index.add(FenceSet.from_records([records[back[0]]]))
    final = [r for i, r in enumerate(records) if i not in removed or i in back]
    fresh = FenceIndex.build(FenceSet.from_records(final), FRAME)
    assert len(index) == len(fresh) == len(final)
    for q in data.draw(st.lists(queries, min_size=3, max_size=8)):
        assert run_query(index, q)[0] == run_query(fresh, q)[0]


def test_samples_exactness_beyond_bounding_boxes() -> None:
    index = FenceIndex.build(read_fences(SAMPLES / "fences.geojson"))
    # a small box in the middle of the sealed compound: inside the controlled ring's
    # bounding box, but in its hole, so only the compound is near
    middle = (116.3299, 40.0699, 116.3301, 40.0701)
    assert index.query(middle, "2022-05-01", "2022-05-02").tolist() == ["F-sealed-1"]
    assert set(index.query(middle, "2022-05-01", "2022-05-02", distance_m=100).tolist()) == {
        "F-sealed-1",
        "F-controlled-1",
    }
    # the sealed window ends at 2022-05-07 00:00 (exclusive); the ring's is open
    assert index.query(middle, "2022-05-07", None, distance_m=100).tolist() == ["F-controlled-1"]
    assert index.query(middle, "2022-05-06T23:59:59", "2022-05-07").tolist() == ["F-sealed-1"]


def test_add_refuses_a_live_id_and_remove_an_unknown_one() -> None:
    fences = read_fences(SAMPLES / "fences.geojson")
    index = FenceIndex.build(fences)
    with pytest.raises(FenceDataError, match="'F-sealed-1' is already in the index"):
        index.add(fences.take([fences.position("F-sealed-1")]))
    with pytest.raises(KeyError):
        index.remove(["F-nowhere"])
    index.remove(["F-sealed-1"])
    with pytest.raises(KeyError):
        index.remove(["F-sealed-1"])


def test_save_and_load_rebuild_the_same_index(tmp_path: Path) -> None:
    index = FenceIndex.build(read_fences(SAMPLES / "fences.geojson"))
    index.remove(["F-buildings-2"])
    path = tmp_path / "index.json"
    index.save(path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "fencecheck-index" and document["version"] == 1
    loaded = FenceIndex.load(path)
    assert loaded.frame == index.frame and len(loaded) == len(index) == 6
    live = index.live_fences()
    assert loaded.fences.ids.tolist() == live.ids.tolist()
    for a, b in zip(loaded.geometry, index.geometry[index.alive], strict=True):
        assert shapely.equals_exact(a, b, tolerance=0)
    assert np.array_equal(loaded.fences.window_end, live.window_end)
    assert OPEN_END in loaded.fences.window_end.tolist()
    box = (116.32, 40.06, 116.34, 40.08)
    assert loaded.query(box).tolist() == index.query(box).tolist()


def test_load_refuses_what_is_not_an_index(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": "something"}', encoding="utf-8")
    with pytest.raises(FenceDataError, match="not a fencecheck-index document"):
        FenceIndex.load(path)
    path.write_text('{"format": "fencecheck-index", "version": 99}', encoding="utf-8")
    with pytest.raises(FenceDataError, match="version 99 is not supported"):
        FenceIndex.load(path)
    with pytest.raises(FenceDataError, match="no such file"):
        FenceIndex.load(tmp_path / "missing.json")


def test_candidates_pair_boxes_with_windows() -> None:
    fences = read_fences(SAMPLES / "fences.geojson")
    index = FenceIndex.build(fences)
    x, y = index.frame.to_xy(116.3300, 40.0700)
    t = float(parse_time("2022-05-01T12:00:00+08:00"))
    mins = np.array([[x, y, t], [1e6, 1e6, t]])
    box, window = index.candidates(mins, mins.copy())
    assert set(box.tolist()) == {0}
    names = set(fences.ids[fences.window_fence[window]].tolist())
    assert "F-sealed-1" in names and "F-venue-1" not in names


def test_empty_fence_set_needs_a_frame() -> None:
    empty = FenceSet.from_records([])
    with pytest.raises(FenceDataError, match="empty fence set"):
        FenceIndex.build(empty)
    index = FenceIndex.build(empty, FRAME)
    assert len(index) == 0 and index.query((116.3, 39.8, 116.5, 40.0)).tolist() == []


def test_prepare_makes_the_lazy_parts_now_and_changes_no_answer() -> None:
    import fencecheck as fc

    pings = fc.read_pings(SAMPLES / "pings.csv")
    lazy = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    eager = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    assert eager.prepare() is eager
    n = len(eager.fences)
    assert (eager.grown_moments.row >= 0).all()
    assert (eager.grown_pieces.moments.row[: 4 * n] >= 0).all()
    assert lazy._grown_moments is None  # nothing made until matching needs it
    for mode in ("point", "disc"):
        a, b = lazy.match(pings, mode=mode), eager.match(pings, mode=mode)
        assert a.ping.tolist() == b.ping.tolist() and a.fence.tolist() == b.fence.tolist()
        assert np.array_equal(a.p_inside, b.p_inside) and np.array_equal(a.depth_m, b.depth_m)
