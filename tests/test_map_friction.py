"""Maps a community worker can place: degrees on the edges, a sensible extent, true markers.

Both maps are checked: the matplotlib one (by its artists, measured with the
renderer) and the printable page's SVG (by its text).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

import fencecheck as fc
from fencecheck.judging.svg import _label_box, _text_width, render_svg

from support import SAMPLES

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

VENUE = (116.3329305, 40.0653168)  # F-venue-1, 惠家超市: a point with a 50 m margin
SEALED = (116.33, 40.07)  # inside F-sealed-1
FAR_SOUTH_DEG = 13.5  # about 1,500 km south


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))


@pytest.fixture(scope="module")
def samples(index: fc.FenceIndex) -> dict[str, fc.Explanation]:
    return {e.person_id: e for e in fc.explain(fc.read_pings(SAMPLES / "pings.csv"), index)}


def _traveller_rows(with_stay: bool) -> list[str]:
    """A fence before it was active, a stay in F-sealed-1 (or none), then 1,500 km south.

    With the stay, the person was in F-sealed-1 on 04-29 before it was sealed
    (18:00); without it, at the venue on 05-01 before it opened (14:00-17:00).
    """
    rng = np.random.default_rng(5)
    rows = []
    for k in range(8):
        lon, lat = (SEALED if with_stay else VENUE) + rng.normal(0, 0.00003, 2)
        day = "04-29" if with_stay else "05-01"
        rows.append(f"FAR,2022-{day}T10:{5 * k:02d}:00+08:00,{lon:.7f},{lat:.7f},8,gps")
    if with_stay:
        for k in range(12):  # 2022-05-02 10:00-10:55, F-sealed-1 is active
            lon, lat = SEALED + rng.normal(0, 0.00003, 2)
            rows.append(f"FAR,2022-05-02T10:{5 * k:02d}:00+08:00,{lon:.7f},{lat:.7f},8,gps")
    for k in range(10):  # 2022-05-03, far in the south
        lon, lat = SEALED + np.array([0.2, -FAR_SOUTH_DEG]) + rng.normal(0, 0.01, 2)
        rows.append(f"FAR,2022-05-03T{10 + k:02d}:00:00+08:00,{lon:.7f},{lat:.7f},10,gps")
    return rows


def traveller(index: fc.FenceIndex, tmp_path: Path, with_stay: bool = True) -> fc.Explanation:
    path = tmp_path / f"far-{with_stay}.csv"
    header = "person_id,t,lon,lat,accuracy_m,source"
    path.write_text("\n".join([header, *_traveller_rows(with_stay)]) + "\n", encoding="utf-8")
    [e] = fc.explain(fc.read_pings(path), index)
    return e


def _fence_box(index: fc.FenceIndex, fence_ids: list[str]) -> tuple[float, ...]:
    grown = index.grown_geometry(np.array([index.fences.position(f) for f in fence_ids]))
    return tuple(shapely.total_bounds(grown).tolist())


def _gid(ax: Any, gid: str) -> list[Any]:
    artists = [*ax.patches, *ax.collections, *ax.lines, *ax.texts, *ax.artists]
    return [a for a in artists if a.get_gid() == gid]


def _svg_extent(svg: str) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in re.search(r'data-extent="([^"]+)"', svg)[1].split())
    return x0, y0, x1, y1


# -- the extent --------------------------------------------------------------------------------


@pytest.mark.parametrize("with_stay", [True, False], ids=["exposed", "unexplained"])
def test_a_far_traveller_is_mapped_near_the_fences(
    index: fc.FenceIndex, tmp_path: Path, with_stay: bool
) -> None:
    e = traveller(index, tmp_path, with_stay)
    assert e.verdict == ("exposed" if with_stay else "unexplained")
    fences = (["F-sealed-1"] if with_stay else []) + [m["fence_id"] for m in e.near_misses]
    assert fences[0] == "F-sealed-1" if with_stay else "F-venue-1" in fences
    fx0, fy0, fx1, fy1 = _fence_box(index, fences)
    ax = e.plot()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for extent in ((x0, y0, x1, y1), _svg_extent(render_svg(e, "en"))):
        a, b, c, d = extent
        assert fx0 - 5_000 < a <= fx0 and fx1 <= c < fx1 + 5_000, extent
        assert fy0 - 5_000 < b <= fy0 and fy1 <= d < fy1 + 5_000, extent
    # The map says that fixes lie outside it: the ten in the far south.
    [note] = _gid(ax, "outside")
    assert note.get_text() == "10 fixes outside the map"
    for lang, words in (("en", "10 fixes outside the map"), ("zh", "10 个定位在地图范围外")):
        svg = render_svg(e, lang)
        assert 'class="outside" data-fixes="10"' in svg and words in svg
    # The scale bar and the north arrow stay; asking for the whole track still shows it.
    assert [a for a in ax.artists if str(a.get_gid()).startswith("scale-bar:")]
    assert ">N</text>" in render_svg(e, "en")
    whole = e.plot(zoom="track")
    assert np.ptp(whole.get_ylim()) > 1_400_000 and _gid(whole, "outside") == []


def test_a_map_with_every_fix_on_it_says_nothing_about_outside(
    samples: dict[str, fc.Explanation],
) -> None:
    e = samples["P01"]
    assert _gid(e.plot(zoom="track"), "outside") == []
    assert 'class="outside"' not in render_svg(e, "en")


# -- degrees on the edges ----------------------------------------------------------------------


def _degrees(text: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)°([ENWS])", text.replace("\u2212", "-"))
    assert match, text
    value = float(match[1])
    return -value if match[2] in "WS" else value


@pytest.mark.parametrize("person", ["008", "P01", "P05", "P06"])
def test_the_axes_are_labelled_in_degrees_that_are_true(
    person: str, samples: dict[str, fc.Explanation], index: fc.FenceIndex
) -> None:
    ax = samples[person].plot()
    ax.figure.canvas.draw()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    for axis, name, hemisphere in ((ax.xaxis, "lon", "°E"), (ax.yaxis, "lat", "°N")):
        ticks = [
            (t.get_loc(), t.label1.get_text())
            for t in axis.get_major_ticks()
            if t.label1.get_text()
        ]
        assert 2 <= len(ticks) <= 8, ticks
        for position, text in ticks:
            assert text.endswith(hemisphere), text
            lon, lat = (
                index.frame.to_lonlat(position, cy)
                if name == "lon"
                else (index.frame.to_lonlat(cx, position))
            )
            true = lon if name == "lon" else lat
            decimals = len(text.split("°")[0].split(".")[1]) if "." in text else 0
            assert abs(_degrees(text) - true) < 0.51 * 10.0**-decimals, (text, true)
        # Round values, with only as many decimals as the spacing needs.
        values = np.array([_degrees(t) for _, t in ticks])
        step = np.diff(values)
        assert np.allclose(step, step[0]) and step[0] > 0
        assert 10.0**-decimals <= step[0] + 1e-12
    assert "longitude" in ax.get_xlabel() and "latitude" in ax.get_ylabel()
    assert [a for a in ax.artists if str(a.get_gid()).startswith("scale-bar:")]


def test_the_fence_map_is_labelled_in_degrees(index: fc.FenceIndex) -> None:
    pings = fc.read_pings(SAMPLES / "pings.csv")
    ax = fc.judging.plot_fence(fc.scan(pings, index), "F-venue-1")
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all(t.endswith("°E") for t in labels)
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert labels and all(t.endswith("°N") for t in labels)


@pytest.mark.parametrize("person", ["008", "P01", "P06"])
def test_the_svg_has_a_graticule_in_degrees(
    person: str, samples: dict[str, fc.Explanation], index: fc.FenceIndex
) -> None:
    svg = render_svg(samples[person], "en")
    assert 'class="graticule"' in svg
    x0, _, x1, y1 = _svg_extent(svg)
    k = 1000.0 / (x1 - x0)
    lon_labels = re.findall(r'<text x="([-\d.]+)" y="[-\d.]+" data-axis="lon"[^>]*>([^<]+)<', svg)
    lat_labels = re.findall(r'<text x="[-\d.]+" y="([-\d.]+)" data-axis="lat"[^>]*>([^<]+)<', svg)
    assert lon_labels and lat_labels
    for x, text in lon_labels:  # the label starts 5 units right of its meridian, at the top
        assert text.endswith("°E")
        lon, _ = index.frame.to_lonlat(x0 + (float(x) - 5) / k, y1)
        assert abs(_degrees(text) - lon) < 1e-4, (text, lon)
    for y, text in lat_labels:  # the label sits 6 units above its parallel, at the left
        assert text.endswith("°N")
        _, lat = index.frame.to_lonlat(x0, y1 - (float(y) + 6) / k)
        assert abs(_degrees(text) - lat) < 1e-4, (text, lat)


# -- venues ------------------------------------------------------------------------------------


def test_a_venue_is_drawn_as_its_margin_disc(
    samples: dict[str, fc.Explanation], index: fc.FenceIndex
) -> None:
    e = samples["P05"]  # a zone slip put P05 in 惠家超市's window
    position = index.fences.position("F-venue-1")
    radius = float(index.fences.buffer_m[position])
    assert radius == 50.0
    centre = index.frame.to_xy(*VENUE)
    [patch] = _gid(e.plot(), "fence:F-venue-1")
    vertices = patch.get_path().vertices
    assert np.ptp(vertices[:, 0]) == pytest.approx(2 * radius, rel=0.02)
    assert np.ptp(vertices[:, 1]) == pytest.approx(2 * radius, rel=0.02)
    distance = np.hypot(vertices[:, 0] - centre[0], vertices[:, 1] - centre[1])
    assert distance == pytest.approx(np.full(distance.shape, radius), rel=0.02)

    svg = render_svg(e, "en")
    x0, _, x1, _ = _svg_extent(svg)
    k = 1000.0 / (x1 - x0)
    group = re.search(r'data-fence="F-venue-1".*?</g>', svg)[0]
    d = re.search(r'<path d="([^"]+)"[^>]*class="body"', group)[1]
    xy = np.array(re.findall(r"([-\d.]+),([-\d.]+)", d), dtype=float)
    assert np.ptp(xy[:, 0]) / k == pytest.approx(2 * radius, rel=0.03)
    assert np.ptp(xy[:, 1]) / k == pytest.approx(2 * radius, rel=0.03)
    assert 'class="venue"' in group


# -- fixes in a fence outside its window -------------------------------------------------------


def _idle_expected(e: fc.Explanation, index: fc.FenceIndex, fence_id: str) -> np.ndarray:
    """The slow, obvious way, fix by fix: in the fence's area, in none of its windows, no hit."""
    track = e.track
    assert track is not None
    position = index.fences.position(fence_id)
    area = index.geometry[position]
    if area.geom_type == "Point":
        area = area.buffer(float(index.fences.buffer_m[position]), 256)
    x, y = track.xy()
    windows = index.fences.windows_of(fence_id)
    idle = np.zeros(len(track), dtype=bool)
    for k in range(len(track)):
        inside = area.covers(shapely.Point(x[k], y[k]))
        active = any(start <= track.t[k] < end for start, end in windows)
        idle[k] = inside and not active and k not in set(track.hit_ping.tolist())
    return idle


@pytest.mark.parametrize(
    ("with_stay", "fence_id"), [(True, "F-sealed-1"), (False, "F-venue-1")], ids=["sealed", "venue"]
)
def test_fixes_in_a_fence_outside_its_window_are_not_drawn_like_hits(
    index: fc.FenceIndex, tmp_path: Path, with_stay: bool, fence_id: str
) -> None:
    e = traveller(index, tmp_path, with_stay)
    track = e.track
    assert track is not None
    idle = _idle_expected(e, index, fence_id)
    assert idle.sum() == 8
    ax = e.plot()
    [rings] = _gid(ax, "out-of-window")
    x, y = track.xy()
    drawn = {tuple(np.round(p, 3)) for p in rings.get_offsets()}
    assert drawn == {tuple(np.round(p, 3)) for p in np.column_stack([x[idle], y[idle]])}
    assert rings.get_label() == "in the fence, outside its active window"
    assert len(rings.get_facecolors()) == 0 or (rings.get_facecolors()[:, 3] == 0).all()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "in the fence, outside its active window" in legend
    hits = {
        tuple(np.round(p, 3))
        for c in ax.collections
        if str(c.get_gid()).startswith("hits:")
        for p in c.get_offsets()
    }
    assert not hits & drawn and bool(hits) == with_stay

    for lang, words in (("en", "in the fence, outside its active window"),
                        ("zh", "在围栏内，但不在其生效时段")):  # fmt: skip
        svg = render_svg(e, lang)
        group = re.search(r'<g class="out-of-window"[^>]*>(.*?)</g>', svg)
        assert group is not None and len(re.findall("<circle", group[1])) == 8
        assert words in svg


def test_a_sample_at_the_venue_before_it_opened_shows_its_idle_fixes(
    samples: dict[str, fc.Explanation], index: fc.FenceIndex
) -> None:
    e = samples["P05"]
    idle = _idle_expected(e, index, "F-venue-1")
    assert idle.any()
    [rings] = _gid(e.plot(), "out-of-window")
    assert len(rings.get_offsets()) == int(idle.sum())
    p01 = samples["P01"]  # every fix in F-sealed-1 is in its window: no ring
    assert _gid(p01.plot(), "out-of-window") == []
    assert 'class="out-of-window"' not in render_svg(p01, "en")


# -- labels ------------------------------------------------------------------------------------


def _overlapping(boxes: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [
        (a, b)
        for i, (a, p) in enumerate(boxes)
        for b, q in boxes[i + 1 :]
        if p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3]
    ]


@pytest.mark.parametrize("person", ["008", "P01", "P02", "P03", "P04", "P05", "P06", "P07"])
def test_map_labels_do_not_overprint(
    person: str, samples: dict[str, fc.Explanation], index: fc.FenceIndex, tmp_path: Path
) -> None:
    e = samples[person]
    ax = e.plot()
    ax.figure.savefig(tmp_path / "map.png", dpi=100)  # measured as drawn
    renderer = ax.figure.canvas.get_renderer()
    labelled = [
        t for t in ax.texts
        if str(t.get_gid()).split(":")[0] in ("near", "label", "entry", "exit") and t.get_visible()
    ]  # fmt: skip
    if person == "008":
        assert len([t for t in labelled if str(t.get_gid()).startswith("near:")]) == 3
    boxes = [(str(t.get_gid()), t.get_window_extent(renderer).extents) for t in labelled]
    assert _overlapping(boxes) == []

    svg = render_svg(e, "en")
    found = re.findall(
        r'<g class="(near|fence-label|entry|exit)"[^>]*>(?:<line[^>]*/>)?'
        r'<text x="([-\d.]+)" y="([-\d.]+)" text-anchor="(\w+)"[^>]*>([^<]+)</text>',
        svg,
    )
    if person == "008":
        assert len([f for f in found if f[0] == "near"]) == 3
    boxes = [
        (f"{cls}:{text}", _label_box((float(x), float(y), anchor), _text_width(text)))
        for cls, x, y, anchor, text in found
    ]
    assert _overlapping(boxes) == []
