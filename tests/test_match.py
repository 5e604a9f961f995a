"""Matching: exactly the slow obvious answer, on edges, vertices and window ends."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import fencecheck as fc
from fencecheck._compiled.rules import GROW_QUAD_SEGS
from fencecheck.frame import MetricFrame
from fencecheck.hits import HIT_COLUMNS
from fencecheck.index import FenceIndex
from fencecheck.matching import match_xy, p_inside_of
from fencecheck.probability import gaussian_mass, sigma_from_accuracy
from fencecheck.times import OPEN_END
from strategies import PlanarCase, planar_cases

from support import SAMPLES, SHARED_DATA, shared_file

FRAME = MetricFrame(116.40, 39.90)


def planar_index(
    geometry: list[Any], buffer_m: list[float], windows: list[list[tuple[int, Any]]]
) -> FenceIndex:
    """An index whose fences are given in frame coordinates (exact, no projection)."""

    def lonlat(g: Any) -> Any:
        return shapely.transform(g, lambda c: np.column_stack(FRAME.to_lonlat(c[:, 0], c[:, 1])))

    records = [
        {
            "id": f"F{i}",
            "geometry": lonlat(g),
            "buffer_m": b,
            "windows": [[s // 1000, None if e is None else e // 1000] for s, e in w],
        }
        for i, (g, b, w) in enumerate(zip(geometry, buffer_m, windows, strict=True))
    ]
    # GEOS's test polygons may be invalid on purpose: the planar geometry is what is used
    fences = fc.FenceSet.from_records(records, invalid="repair")
    return FenceIndex(fences, FRAME, geometry=np.array([*geometry, None], dtype=object)[:-1])


def reference(case: PlanarCase, disc: bool, strict: bool) -> dict[tuple[int, int], Any]:
    """Every ping against every fence with shapely, one pair at a time."""
    out = {}
    for i in range(case.x.shape[0]):
        p = shapely.Point(case.x[i], case.y[i])
        t = int(case.t[i])
        for j, g in enumerate(case.geometry):
            window = [(s, e) for s, e in case.windows[j] if s <= t < (OPEN_END if e is None else e)]
            if not window:
                continue
            b = case.buffer_m[j]
            d = shapely.distance(g, p)
            polygonal = g.geom_type in ("Polygon", "MultiPolygon")
            if strict:
                point_rule = (polygonal and g.contains(p)) or d < b
                hit = point_rule or (disc and d < b + case.accuracy_m[i])
            else:
                point_rule = (polygonal and g.covers(p)) or d <= b
                hit = point_rule or (disc and d <= b + case.accuracy_m[i])
            if hit:
                depth = g.boundary.distance(p) if polygonal and g.covers(p) else -d
                out[(i, j)] = (min(s for s, _ in window), bool(point_rule), depth)
    return out


@settings(max_examples=150, deadline=None)
@given(case=planar_cases(), disc=st.booleans(), strict=st.booleans())
def test_hits_are_exactly_the_pairwise_reference(
    case: PlanarCase, disc: bool, strict: bool
) -> None:
    # merge overlapping windows the way the loader does, for the reference too
    index = planar_index(case.geometry, case.buffer_m, case.windows)
    case.windows = [
        [(s, None if e == OPEN_END else e) for s, e in index.fences.windows_of(f"F{j}")]
        for j in range(len(case.geometry))
    ]
    pos, window, fence, inside, depth, p_inside = match_xy(
        index,
        case.x,
        case.y,
        case.t,
        case.accuracy_m,
        mode="disc" if disc else "point",
        boundary="contains" if strict else "covers",
        block_pings=7,
    )
    expected = reference(case, disc, strict)
    got = {
        (int(i), int(j)): (int(index.fences.window_start[w]), bool(k), float(d))
        for i, j, w, k, d in zip(pos, fence, window, inside, depth, strict=True)
    }
    assert set(got) == set(expected)
    for key, (start, rule, d) in expected.items():
        assert got[key][:2] == (start, rule), key
        assert math.isclose(got[key][2], d, abs_tol=1e-9), key
    assert np.all((p_inside >= 0) & (p_inside <= 1))
    # hits come in ping order, then fence order
    assert list(zip(pos.tolist(), fence.tolist(), strict=True)) == sorted(got)


@pytest.mark.parametrize("buffer_m", [0.0, 25.0])
@pytest.mark.parametrize(
    "fence",
    [
        shapely.Polygon([(0, 0), (100, 0), (0, 100)]),  # far from its box's corner (100, 100)
        shapely.box(0, 0, 100, 100),  # on it: the distance to the box is the distance
    ],
)
def test_pings_past_a_box_corner_are_decided_by_their_distance(fence: Any, buffer_m: float) -> None:
    rng = np.random.default_rng(7)
    angle = rng.uniform(0.0, np.pi / 2, 400)
    radius = rng.uniform(0.0, 150.0, 400)
    x, y = 100 + radius * np.cos(angle), 100 + radius * np.sin(angle)
    accuracy = rng.uniform(1.0, 120.0, 400)
    index = planar_index([fence], [buffer_m], [[(0, None)]])
    pos, _, _, inside, depth, _ = match_xy(
        index, x, y, np.zeros(400, dtype=np.int64), accuracy, mode="disc"
    )
    distance = shapely.distance(fence, shapely.points(x, y))
    assert pos.tolist() == np.flatnonzero(distance <= buffer_m + accuracy).tolist()
    assert np.array_equal(depth, -distance[pos])
    assert np.array_equal(inside, distance[pos] <= buffer_m)
    assert 0 < pos.shape[0] < 400  # some within reach, some not


@settings(max_examples=40, deadline=None)
@given(case=planar_cases(max_fences=3, max_pings=20))
def test_p_inside_is_the_gaussian_mass_over_the_grown_fence(case: PlanarCase) -> None:
    index = planar_index(case.geometry, case.buffer_m, case.windows)
    pos, _, fence, _, _, p_inside = match_xy(
        index, case.x, case.y, case.t, case.accuracy_m, mode="disc"
    )
    for i, j, p in zip(pos.tolist(), fence.tolist(), p_inside.tolist(), strict=True):
        grown = case.geometry[j]
        if case.buffer_m[j] > 0:
            grown = shapely.buffer(grown, case.buffer_m[j], quad_segs=GROW_QUAD_SEGS)
        sigma = float(sigma_from_accuracy(case.accuracy_m[i]))
        expected = gaussian_mass(grown, case.x[i], case.y[i], sigma)
        assert math.isclose(p, expected, abs_tol=1e-6), (i, j)


# -- GEOS's own point/polygon test cases -------------------------------------------------------


def geos_cases() -> list[tuple[str, str, str, str, bool]]:
    if not (SHARED_DATA / "geos_xml").exists():
        return []
    cases = []
    for path in sorted((SHARED_DATA / "geos_xml").glob("*.xml")):
        for k, case in enumerate(ET.parse(path).getroot().iter("case")):
            a = " ".join((case.findtext("a") or "").split())
            b = " ".join((case.findtext("b") or "").split())
            for test in case.iter("test"):
                op = test.find("op")
                if op is None:
                    continue
                expected = (op.text or "").strip().lower() == "true"
                cases.append(
                    (f"{path.stem}#{k}", a, b, f"{op.get('name')}:{op.get('arg1')}", expected)
                )
    return cases


def _point_polygon(a: str, b: str, op: str) -> tuple[Any, Any, str] | None:
    """(polygon, point, predicate of polygon on point) when the case is one point vs an area."""
    ga, gb = shapely.from_wkt(a), shapely.from_wkt(b)
    name, arg1 = op.split(":")
    polygonal = ("Polygon", "MultiPolygon")
    if ga.geom_type in polygonal and gb.geom_type == "Point" and arg1 == "A":
        table = {"contains": "contains", "covers": "covers", "intersects": "covers"}
        return (ga, gb, table[name]) if name in table else None
    if gb.geom_type in polygonal and ga.geom_type == "Point" and arg1 == "A":
        table = {"within": "contains", "coveredBy": "covers", "intersects": "covers"}
        return (gb, ga, table[name]) if name in table else None
    return None


GEOS = [c for c in geos_cases() if _point_polygon(c[1], c[2], c[3])]


@pytest.mark.skipif(not GEOS, reason=f"GEOS test files not found under {SHARED_DATA}/geos_xml")
@pytest.mark.parametrize(
    ("name", "a", "b", "op", "expected"), GEOS, ids=[f"{c[0]}-{c[3]}" for c in GEOS]
)
def test_geos_point_polygon_cases(name: str, a: str, b: str, op: str, expected: bool) -> None:
    polygon, point, predicate = _point_polygon(a, b, op)  # type: ignore[misc]
    # GEOS's coordinates are planar: shift them near the frame's origin unchanged in shape
    index = planar_index([polygon], [0.0], [[(0, None)]])
    x, y = shapely.get_coordinates(point)[0]
    pos, *_ = match_xy(
        index,
        np.array([x]),
        np.array([y]),
        np.array([1]),
        np.array([0.0]),
        boundary="contains" if predicate == "contains" else "covers",
    )
    assert (pos.shape[0] == 1) == expected


def test_geos_files_give_many_cases() -> None:
    shared_file("geos_xml/general_TestRelatePA.xml")
    assert len(GEOS) > 100


# -- the samples' stories ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_hits() -> tuple[fc.Hits, fc.Hits]:
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    return index.match(pings), index.match(pings, mode="disc")


def _of(hits: fc.Hits, person: str) -> dict[str, Any]:
    sel = hits.person_ids() == person
    return {
        "fences": set(hits.fence_ids()[sel].tolist()),
        "inside": hits.inside[sel],
        "p": hits.p_inside[sel],
        "depth": hits.depth_m[sel],
    }


def test_sample_resident_is_deep_inside_the_sealed_compound(sample_hits: Any) -> None:
    point, _ = sample_hits
    p01 = _of(point, "P01")
    assert p01["fences"] == {"F-sealed-1"} and p01["inside"].all()
    assert (p01["depth"] > 30).all() and (p01["p"] > 0.99).all()


def test_sample_cell_fixes_only_graze_in_disc_mode(sample_hits: Any) -> None:
    point, disc = sample_hits
    assert _of(point, "P03")["fences"] == set()
    p03 = _of(disc, "P03")
    assert p03["fences"] == {"F-precaution-1"}
    assert not p03["inside"].any() and (p03["p"] < 0.05).all()


def test_sample_people_without_hits(sample_hits: Any) -> None:
    _, disc = sample_hits
    for person in ("008", "P05", "P06"):  # no hit at all, wrong time, datum slip
        assert _of(disc, person)["fences"] == set(), person


def test_chunked_matching_equals_whole(sample_hits: Any) -> None:
    point, _ = sample_hits
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    chunks = fc.iter_pings(SAMPLES / "pings.csv", chunk_rows=37)
    joined = fc.Hits.concat(list(fc.matching.match_chunks(chunks, index)))
    for name in HIT_COLUMNS:
        assert np.array_equal(getattr(joined, name), getattr(point, name)), name
    assert len(joined) == len(point) > 0


def test_matching_without_evidence_leaves_only_p_inside_out(sample_hits: Any) -> None:
    _, disc = sample_hits
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    bare = index.match(pings, mode="disc", evidence=False)
    assert len(bare) == len(disc) > 0 and np.isnan(bare.p_inside).all()
    for name in HIT_COLUMNS:
        if name != "p_inside":
            assert np.array_equal(getattr(bare, name), getattr(disc, name)), name
    # p_inside_of completes them afterwards, to the bit, where a caller needs it.
    at = np.searchsorted(pings.row, bare.ping)
    x, y = index.frame.to_xy(pings.lon[at], pings.lat[at])
    p = p_inside_of(index, bare.fence, x, y, pings.accuracy_m[at], bare.depth_m)
    assert np.array_equal(p, disc.p_inside)


def test_hits_to_pandas_has_the_formats_columns(sample_hits: Any) -> None:
    pytest.importorskip("pandas")
    _, disc = sample_hits
    frame = disc.to_pandas()
    assert list(frame.columns) == [
        "ping",
        "person_id",
        "t",
        "fence_id",
        "window_start",
        "window_end",
        "relation",
        "depth_m",
        "p_inside",
    ]
    assert str(frame["t"].dt.tz) == "UTC"
    assert set(frame["relation"]) == {"inside", "uncertain"}
    open_end = frame["fence_id"] == "F-controlled-1"
    assert frame.loc[open_end, "window_end"].isna().all()


@settings(max_examples=40, deadline=None)
@given(case=planar_cases(max_fences=6, max_pings=40), data=st.data())
def test_matching_after_changes_equals_a_fresh_build(case: PlanarCase, data: Any) -> None:
    n = len(case.geometry)
    index = planar_index(case.geometry[:1], case.buffer_m[:1], case.windows[:1])
    for j in range(1, n):
        extra = planar_index([case.geometry[j]], [case.buffer_m[j]], [case.windows[j]])
        records = extra.fences
        index.add(
            fc.FenceSet.from_records(
                [
                    {
                        "id": f"F{j}",
                        "geometry": records.geometry[0],
                        "buffer_m": case.buffer_m[j],
                        "windows": [
                            [s // 1000, None if e == OPEN_END else e // 1000]
                            for s, e in records.windows_of("F0")
                        ],
                    }
                ],
            )
        )
        index.geometry[-1] = case.geometry[j]  # keep the exact planar geometry
    gone = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1))
    index.remove(f"F{j}" for j in sorted(gone))
    keep = [j for j in range(n) if j not in gone]
    fresh = planar_index(
        [case.geometry[j] for j in keep],
        [case.buffer_m[j] for j in keep],
        [case.windows[j] for j in keep],
    )
    for mode in ("point", "disc"):
        a = match_xy(index, case.x, case.y, case.t, case.accuracy_m, mode=mode)
        b = match_xy(fresh, case.x, case.y, case.t, case.accuracy_m, mode=mode)
        got = sorted(zip(a[0].tolist(), index.fences.ids[a[2]].tolist(), strict=True))
        want = sorted(zip(b[0].tolist(), [f"F{keep[k]}" for k in b[2].tolist()], strict=True))
        assert got == want


def test_options_are_checked(sample_hits: Any) -> None:
    index = FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    with pytest.raises(fc.errors.OptionError, match="mode: 'circle' is not one of 'point', 'disc'"):
        index.match(pings, mode="circle")
    with pytest.raises(fc.errors.OptionError, match="boundary: 'touches' is not one of"):
        index.match(pings, boundary="touches")
    with pytest.raises(
        fc.errors.OptionError, match="block_pings: 0 is not a positive whole number"
    ):
        fc.match(pings, index, block_pings=0)
