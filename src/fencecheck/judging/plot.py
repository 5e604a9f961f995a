"""Maps of an explanation and of one fence's triggered people (matplotlib, imported lazily).

Everything is drawn in the index's local metric frame (metres east and north
of its centre), so that an accuracy circle is a circle and the scale bar is
true everywhere on the map.

:func:`plot_explanation` (also ``Explanation.plot()``) draws the fences
involved, filled by kind, with their margins dashed; the person's pings over
the lookback as a track, each cell or Wi-Fi fix with its accuracy circle; the
hits coloured by credibility; the decisive episode emphasised, its entry and
exit labelled in local time (Beijing time by default); fixes in a fence while
it was not active as hollow grey rings, never like a hit; for a datum mistake,
where the mistaken data put the fence or the track; a scale bar; the verdict
in the title. The axes are ticked at round longitudes and latitudes
(``116.330°E``, ``40.070°N``) with a light grid, so that a worker can place the
map; the view frames the fences and the hits (without a hit, the track within
:data:`NEAR_TRACK_M` of them), and a note says how many fixes lie outside it.
Labels (fence ids, nearest misses, entry and exit) are moved to where they
overprint no other text.

:func:`plot_fence` draws one fence of a :func:`~fencecheck.judging.scan` and the hit
pings of the people it triggered, coloured by what that trigger was
(exposed, passed through, false trigger), as the scan's ``fences`` table
counts them.

Every artist carries a ``gid`` saying what it is (``fence:<id>``,
``margin:<id>``, ``accuracy``, ``hits:credible``, ``entry`` ...), so that
tests and users can find them.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> [p01] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P01"])
>>> ax = p01.plot()
>>> ax.get_title(loc="left").splitlines()[0]
'P01: exposed'
>>> sorted(p.get_gid() for p in ax.patches if str(p.get_gid()).startswith("fence:"))
['fence:F-sealed-1']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import NDArray

from fencecheck.errors import MissingDependencyError, OptionError
from fencecheck.index import FenceIndex
from fencecheck.judging.mistakes import DATUM_MISTAKES
from fencecheck.judging.track import Track
from fencecheck.judging.verdicts import judge
from fencecheck.judging.wording import duration_en
from fencecheck.options import Source
from fencecheck.pings import PingTable, ping_positions
from fencecheck.policy import Policy
from fencecheck.tables import Table
from fencecheck.times import format_local, zone_label

__all__ = [
    "KIND_COLOURS",
    "OUTCOME_COLOURS",
    "Explained",
    "Scanned",
    "degree_text",
    "fixes_outside",
    "graticule",
    "outside_window",
    "plot_explanation",
    "plot_fence",
]


class Explained(Protocol):
    """What a map reads of an explanation (:class:`fencecheck.Explanation` has it all).

    The maps sit below the explanation in the package, so that
    ``Explanation.plot()`` can call them; they name what they need here.
    """

    @property
    def person_id(self) -> str:
        """The person's id."""

    @property
    def verdict(self) -> str:
        """The verdict's name."""

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons' names."""

    @property
    def evidence(self) -> dict[str, Any]:
        """The evidence, by reason."""

    @property
    def decisive(self) -> dict[str, Any] | None:
        """The decisive episode, or None."""

    @property
    def near_misses(self) -> list[dict[str, Any]]:
        """The nearest misses."""

    @property
    def lookback_s(self) -> float:
        """The lookback, seconds."""

    @property
    def tz(self) -> str:
        """The zone times are shown in."""

    @property
    def track(self) -> Track | None:
        """The person's pings and hits."""


class Scanned(Protocol):
    """What a fence's map reads of a scan (:class:`fencecheck.Scan` has it all)."""

    @property
    def at(self) -> int | None:
        """The judging time (UTC ms), or None for each person's last ping."""

    @property
    def fences(self) -> Table:
        """The per-fence table."""

    @property
    def index(self) -> FenceIndex | None:
        """The fences scanned."""

    @property
    def lookback_s(self) -> float:
        """The lookback, seconds."""

    @property
    def mode(self) -> str:
        """How hits were found."""

    @property
    def pings(self) -> PingTable | None:
        """The pings scanned."""

    @property
    def policy(self) -> Policy:
        """The thresholds."""

    @property
    def triggers(self) -> Table:
        """One row per (person, fence) trigger."""


KIND_COLOURS = {
    "sealed": "#b2182b",
    "controlled": "#ef8a62",
    "risk_area": "#d6604d",
    "precaution": "#f4d03f",
    "risk_venue": "#762a83",
}
"""Fill colour of each known fence kind; other kinds are grey."""
OTHER_KIND_COLOUR = "#8c8c8c"
OUTCOME_COLOURS = {
    "exposed": "#b2182b",
    "passed_through": "#ef8a62",
    "false_trigger": "#2166ac",
}
"""Colour of each verdict (and of each fence trigger's outcome)."""
HIT_STYLES = {
    "credible": ("#b2182b", "o", "credible hit"),
    "grazing": ("#f39c12", "o", "hit, not credible (boundary)"),
    "jump": ("#762a83", "X", "hit on a location jump"),
}
_ZOOMS = ("fences", "track")
UPSTREAM_REASONS = ("timezone_shift", "datum_shift")
"""The reasons that come from a mistake upstream of our data (a hit the mistake reproduces)."""
Box = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` in the frame's metres."""
NEAR_TRACK_M = 2_000.0
"""How far beyond the fences a map frames a track without hits (metres), unless asked for all."""
OUT_OF_WINDOW_STYLE = ("#7f7f7f", "in the fence, outside its active window")
"""Colour and legend words of a fix in a fence's area while the fence was not active."""


def _pyplot(purpose: str) -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise MissingDependencyError("matplotlib", "plot", purpose) from exc
    return plt


def _axes(ax: Any, purpose: str) -> Any:
    plt = _pyplot(purpose)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 8))
    ax.set_aspect("equal", adjustable="box")
    return ax


# -- shapes ------------------------------------------------------------------------------------


def _path(geometry: Any) -> Any:
    """A matplotlib path of a (multi)polygon, holes cut out; None for anything else."""
    from matplotlib.path import Path

    parts = [g for g in shapely.get_parts(geometry) if g.geom_type == "Polygon" and not g.is_empty]
    if not parts:
        return None
    vertices, codes = [], []
    for polygon in shapely.orient_polygons(np.array(parts, dtype=object)):
        for ring in (polygon.exterior, *polygon.interiors):
            xy = np.asarray(ring.coords)
            vertices.append(xy)
            ring_codes = np.full(xy.shape[0], Path.LINETO, dtype=np.uint8)
            ring_codes[0], ring_codes[-1] = Path.MOVETO, Path.CLOSEPOLY
            codes.append(ring_codes)
    return Path(np.concatenate(vertices), np.concatenate(codes))


def _draw_fence(ax: Any, index: FenceIndex, position: int, *, faint: bool = False) -> Any:
    """Fill one fence by kind, dash its margin; returns its grown shape (for the extent).

    The fence's id label is placed later (:func:`_place_labels`), at the first
    spot next to the fence's top right corner where it overprints nothing.
    """
    from matplotlib.patches import PathPatch

    fence_id = str(index.fences.ids[position])
    kind = str(index.fences.kinds[position])
    colour = KIND_COLOURS.get(kind, OTHER_KIND_COLOUR)
    geometry = index.geometry[position]
    polygon, grown, margin = fence_shapes(index, position)
    body = None if polygon is None else _path(polygon)
    alpha = 0.18 if faint else 0.38
    if body is None:  # a venue: a point and its margin disc, which is the fence's area
        body = _path(grown)
        ax.plot(
            *shapely.get_coordinates(geometry).T,
            marker="+",
            color=colour,
            ms=10,
            gid=f"venue:{fence_id}",
        )
    elif margin > 0:
        ax.add_patch(
            PathPatch(
                _path(grown),
                fill=False,
                ec=colour,
                ls="--",
                lw=1.0,
                gid=f"margin:{fence_id}",
                label="margin",
            )
        )
    ax.add_patch(
        PathPatch(
            body,
            fc=colour,
            ec=colour,
            alpha=alpha,
            lw=1.2,
            gid=f"fence:{fence_id}",
            label=kind.replace("_", " "),
        )
    )
    _, _, x1, y1 = shapely.bounds(grown)
    label = ax.annotate(
        fence_id,
        (x1, y1),
        xytext=(3, 3),
        textcoords="offset points",
        fontsize=8,
        color=colour,
        gid=f"label:{fence_id}",
    )
    label.spots = _FENCE_LABEL_SPOTS
    return grown


def fence_shapes(index: FenceIndex, position: int) -> tuple[Any, Any, float]:
    """A fence in the index's frame: its polygon (None for a venue), its grown shape, its margin.

    A venue (a point with a margin) has no polygon: its grown shape, the margin's
    disc, is the fence's area.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> polygon, grown, margin = fence_shapes(index, index.fences.position("F-sealed-2"))
    >>> polygon.geom_type, margin, bool(grown.area > polygon.area)
    ('Polygon', 30.0, True)
    >>> fence_shapes(index, index.fences.position("F-venue-1"))[0] is None
    True
    """
    geometry = index.geometry[position]
    grown = index.grown_geometry(np.array([position], dtype=np.int64))[0]
    margin = float(index.fences.buffer_m[position])
    polygonal = any(
        g.geom_type == "Polygon" and not g.is_empty for g in shapely.get_parts(geometry)
    )
    return (geometry if polygonal else None), grown, margin


def involved_fences(
    explanation: Explained, track: Track, extra: Sequence[str] = ()
) -> list[tuple[int, bool]]:
    """The fences a map of the explanation shows: ``(position in the index, faint)`` each.

    The fences hit (in the order of the hits), the nearest misses (faint), the
    fence an upstream mistake puts the person in, then the ids of ``extra`` that
    the index holds; each once.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> pings = fc.read_pings("data/samples/pings.csv")
    >>> [p06] = fc.explain(pings, index, person=["P06"])
    >>> [(str(index.fences.ids[k]), faint) for k, faint in involved_fences(p06, p06.track)]
    [('F-risk-3', False)]
    """
    index = track.index
    involved = list(dict.fromkeys(track.hit_fence.tolist()))
    near_ids = [m["fence_id"] for m in explanation.near_misses]
    upstream = upstream_evidence(explanation)
    extra_ids = near_ids + ([upstream["fence_id"]] if upstream else [])
    involved += [index.fences.position(f) for f in extra_ids]
    known = set(index.fences.ids.tolist())
    involved += [index.fences.position(f) for f in extra if f in known]
    return [
        (int(position), str(index.fences.ids[position]) in near_ids)
        for position in dict.fromkeys(involved)
    ]


def upstream_evidence(explanation: Explained) -> dict[str, Any] | None:
    """The evidence of the upstream mistake (a zone slip or datum mix-up), or None."""
    mistakes = [explanation.evidence[r] for r in UPSTREAM_REASONS if r in explanation.evidence]
    return mistakes[0] if mistakes else None


def mistake_shape(explanation: Explained, track: Track) -> tuple[str, Any] | None:
    """For a datum mistake, where the mistaken data put the fence or the track (in the frame).

    Returns ``("fence", geometry)`` (a venue's point grown by its margin) or
    ``("track", (x, y))``; None when there is no datum mistake.
    """
    evidence = explanation.evidence.get("datum_shift")
    if evidence is None:
        return None
    what, convert = next((w, c) for how, w, c in DATUM_MISTAKES if how == evidence["how"])
    index = track.index
    if what == "fences":
        position = index.fences.position(evidence["fence_id"])
        moved = shapely.transform(
            index.fences.geometry[position], lambda c: np.column_stack(convert(c[:, 0], c[:, 1]))
        )
        shape = index.frame.project_geometry(moved)
        if shape.geom_type == "Point":
            shape = shapely.buffer(shape, float(index.fences.buffer_m[position]))
        return "fence", shape
    lon, lat = convert(track.lon, track.lat)
    mx, my = index.frame.to_xy(lon, lat)
    return "track", (np.asarray(mx, dtype=np.float64), np.asarray(my, dtype=np.float64))


def mistaken_fix(explanation: Explained, track: Track) -> int | None:
    """Which of the track's pings an upstream mistake put in a fence (at its real time), if any."""
    decisive = explanation.decisive
    if decisive is None or decisive.get("source") != "upstream":
        return None
    when = int(np.datetime64(decisive["entry"].rstrip("Z"), "ms").astype(np.int64))
    k = np.flatnonzero(track.t == when)
    return int(k[0]) if k.shape[0] else None


def map_extent(
    explanation: Explained,
    track: Track,
    zoom: str = "fences",
    extra: Sequence[str] = (),
    boxes: Sequence[Box] = (),
) -> Box | None:
    """The square a map of the explanation shows (:func:`square_extent` of what it draws).

    It frames the fences involved (:func:`involved_fences`, with ``extra``), where
    a datum mistake put the fence, the hits and ``boxes``; with ``zoom="track"``
    the whole track too. Without a hit it frames the fixes (and, for a datum
    mistake, the mistaken fixes) within :data:`NEAR_TRACK_M` of those, never
    the far ones, so that a person who travelled far away does not shrink the
    fences to a dot; the whole track only when there is nothing else to frame.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> [p01] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P01"])
    >>> x0, y0, x1, y1 = map_extent(p01, p01.track)
    >>> bool(x1 - x0 < 2_000)
    True
    """
    index = track.index
    framed: list[Box] = list(boxes)
    for position, _ in involved_fences(explanation, track, extra):
        framed.append(_bounds(fence_shapes(index, position)[1]))
    moved = mistake_shape(explanation, track)
    if moved is not None and moved[0] == "fence":
        framed.append(_bounds(moved[1]))
    x, y = track.xy()
    if track.hit_ping.shape[0]:
        hx, hy = x[track.hit_ping], y[track.hit_ping]
        framed.append((float(hx.min()), float(hy.min()), float(hx.max()), float(hy.max())))
    anchor = list(framed)
    if moved is not None and moved[0] == "track":
        mx, my = moved[1]
        near = _near(mx, my, anchor) if anchor else np.ones(mx.shape[0], dtype=bool)
        if near.any():
            framed.append(_box_of(mx[near], my[near]))
    if x.shape[0] and zoom == "track":
        framed.append(_box_of(x, y))
    elif x.shape[0] and not track.hit_ping.shape[0]:
        near = _near(x, y, anchor) if anchor else np.ones(x.shape[0], dtype=bool)
        if near.any():
            framed.append(_box_of(x[near], y[near]))
    return square_extent(framed)


def _near(x: NDArray[np.float64], y: NDArray[np.float64], boxes: Sequence[Box]) -> NDArray[Any]:
    """Which points lie within :data:`NEAR_TRACK_M` of the box around ``boxes``."""
    b = np.array(boxes, dtype=np.float64)
    x0, y0 = np.nanmin(b[:, 0]) - NEAR_TRACK_M, np.nanmin(b[:, 1]) - NEAR_TRACK_M
    x1, y1 = np.nanmax(b[:, 2]) + NEAR_TRACK_M, np.nanmax(b[:, 3]) + NEAR_TRACK_M
    return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def _box_of(x: NDArray[np.float64], y: NDArray[np.float64]) -> Box:
    return (float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y)))


def fixes_outside(track: Track, extent: Box) -> int:
    """How many of the track's fixes lie outside a map's extent (the map says so).

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> [p01] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P01"])
    >>> fixes_outside(p01.track, (0.0, 0.0, 1.0, 1.0)) == len(p01.track)
    True
    """
    x, y = track.xy()
    x0, y0, x1, y1 = extent
    inside = (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)
    return int((~inside).sum())


def outside_window(track: Track, fences: Sequence[int]) -> NDArray[np.bool_]:
    """Which fixes lie in one of ``fences`` while none of its windows was open.

    A fence's area is its polygon (a venue's: its margin disc); a fix counts
    when the area covers it (shapely ``covers``, in the index's frame), its
    instant is in none of the fence's ``[start, end)`` windows, and it is no
    hit. Such a fix is not a hit and a map must not draw it like one.

    Parameters
    ----------
    track : Track
        The person's fixes.
    fences : sequence of int
        Positions in the track's index (the fences a map shows).

    Returns
    -------
    ndarray of bool
        One per fix of the track.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> [p01] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P01"])
    >>> outside_window(p01.track, [index.fences.position("F-sealed-1")]).any()
    np.False_
    """
    index = track.index
    out = np.zeros(len(track), dtype=bool)
    if not len(track):
        return out
    x, y = track.xy()
    points = shapely.points(x, y)
    hit = np.zeros(len(track), dtype=bool)
    hit[track.hit_ping] = True
    for position in fences:  # the few fences of one map
        polygon, grown, _ = fence_shapes(index, position)
        inside = shapely.covers(grown if polygon is None else polygon, points)
        if not inside.any():
            continue
        w = index.fences.window_fence == position
        start, end = index.fences.window_start[w], index.fences.window_end[w]
        t = track.t[:, None]
        active = ((t >= start[None, :]) & (t < end[None, :])).any(axis=1)
        out |= inside & ~active
    return out & ~hit


def degree_step(span: float, lines: int = 4) -> float:
    """The round step in degrees (1, 2 or 5 × 10^k) giving nearest ``lines`` lines over ``span``.

    Examples
    --------
    >>> degree_step(0.024), degree_step(14.0)
    (0.005, 5.0)
    """
    power = math.floor(math.log10(span / lines))
    steps = [m * 10.0**k for k in (power - 1, power, power + 1) for m in (1.0, 2.0, 5.0)]
    best = min(steps, key=lambda step: abs(math.log(span / step / lines)))
    return float(round(best, 12))


def degree_text(value: float, axis: str, step: float) -> str:
    """A longitude or latitude as a worker reads it: ``116.330°E``, ``40.070°N``.

    As many decimals as ``step`` (the spacing of the labels) needs.

    Examples
    --------
    >>> degree_text(116.33, "lon", 0.005), degree_text(40.07, "lat", 0.002)
    ('116.330°E', '40.070°N')
    >>> degree_text(-3.5, "lon", 0.5), degree_text(-33.86, "lat", 0.01)
    ('3.5°W', '33.86°S')
    """
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
    hemisphere = ("E", "W") if axis == "lon" else ("N", "S")
    return f"{abs(float(value)):.{decimals}f}°{hemisphere[int(value < 0)]}"


def graticule(
    index: FenceIndex, extent: Box, lines: int = 4
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float]:
    """The round longitudes and latitudes that cross a map's extent, and their steps.

    Returns ``(lons, lats, lon_step, lat_step)``; the map's frame is the
    index's, so a longitude is nearly a vertical line on it.

    Examples
    --------
    >>> import fencecheck as fc
    >>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
    >>> lons, lats, dlon, dlat = graticule(index, (-1000.0, -1000.0, 1000.0, 1000.0))
    >>> dlon, dlat, [degree_text(v, "lat", dlat) for v in lats]
    (0.005, 0.005, ['40.065°N', '40.070°N', '40.075°N'])
    """
    x0, y0, x1, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lon0, _ = index.frame.to_lonlat(x0, cy)
    lon1, _ = index.frame.to_lonlat(x1, cy)
    _, lat0 = index.frame.to_lonlat(cx, y0)
    _, lat1 = index.frame.to_lonlat(cx, y1)
    out: list[Any] = []
    for a, b in ((float(lon0), float(lon1)), (float(lat0), float(lat1))):
        if not b > a:  # an empty or inverted view: no line
            out += [np.zeros(0, dtype=np.float64), 1.0]
            continue
        step = degree_step(b - a, lines)
        first = math.ceil(a / step)
        values = np.round(np.arange(first, math.floor(b / step) + 1) * step, 10)
        out += [values.astype(np.float64), step]
    return out[0], out[2], out[1], out[3]


def _bounds(geometry: Any) -> Box:
    x0, y0, x1, y1 = shapely.bounds(geometry).tolist()
    return (float(x0), float(y0), float(x1), float(y1))


_FENCE_LABEL_SPOTS = [
    *(
        (dx, 3.0 + 11.0 * k, ha, "bottom")
        for k in range(5)
        for dx, ha in ((3.0, "left"), (-3.0, "right"))
    ),
    *((3.0, -3.0 - 11.0 * k, "left", "top") for k in range(3)),
]
"""Where a fence's id may go, in points from its top right corner (x, y, ha, va), best first."""
_NEAR_LABEL_SPOTS = [
    (0.0, dy, "center", "center")
    for k in range(7)
    for dy in ((0.0,) if k == 0 else (-11.0 * k, 11.0 * k))
]
"""Where a near miss's label may go, in points from the fence's centre: stacked below and above."""


_END_LABEL_SPOTS = {
    "entry": [(-12.0, 14.0, "right", "bottom"), (12.0, 14.0, "left", "bottom"),
              (-12.0, 30.0, "right", "bottom"), (12.0, 30.0, "left", "bottom"),
              (-12.0, -16.0, "right", "top"), (12.0, -16.0, "left", "top")],
    "exit": [(12.0, -16.0, "left", "top"), (-12.0, -16.0, "right", "top"),
             (12.0, -32.0, "left", "top"), (-12.0, -32.0, "right", "top"),
             (12.0, 14.0, "left", "bottom"), (-12.0, 14.0, "right", "bottom")],
    "ring": [(12.0, 16.0, "left", "bottom"), (-12.0, 16.0, "right", "bottom"),
             (12.0, -16.0, "left", "top"), (-12.0, -16.0, "right", "top"),
             (0.0, 30.0, "center", "bottom"), (0.0, -30.0, "center", "top")],
}  # fmt: skip
"""Where the decisive episode's entry and exit labels (or the mistaken fix's) may go."""
_FIRST = ("entry", "exit")
"""Labels placed before the others: they say when, and their leaders point at the fixes."""


def _place_labels(ax: Any) -> None:
    """Move each label that has ``spots`` to its first spot where it overprints no other text.

    Labels without spots (entry, exit, notes), the legend and the scale bar stay
    where they are and are avoided; a label that finds no free spot inside the
    axes takes the spot where it overlaps least. Measured with the figure's
    renderer after its layout, so what is checked is what is drawn.
    """
    movable = [t for t in ax.texts if getattr(t, "spots", None)]
    movable.sort(key=lambda t: t.get_gid() not in _FIRST)  # stable: the rest in drawing order
    if not movable:
        return
    figure = ax.figure
    figure.draw_without_rendering()  # lays out the square axes, the legend and the offsets
    renderer = figure.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    fixed = [t for t in ax.texts if t not in movable and t.get_visible()]
    fixed += [a for a in ax.artists if a.get_visible()]
    if ax.get_legend() is not None:
        fixed.append(ax.get_legend())
    placed = [a.get_window_extent(renderer) for a in fixed]

    def overlap(box: Any) -> float:
        area = 0.0
        for other in placed:
            w = min(box.x1, other.x1) - max(box.x0, other.x0)
            h = min(box.y1, other.y1) - max(box.y0, other.y0)
            area += max(w, 0.0) * max(h, 0.0)
        return area

    for text in movable:
        scored = []
        for n, (dx, dy, ha, va) in enumerate(text.spots):
            text.xyann = (dx, dy)
            text.set_horizontalalignment(ha)
            text.set_verticalalignment(va)
            box = text.get_window_extent(renderer)
            inside = (
                box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
                and box.y1 <= frame.y1
            )  # fmt: skip
            cost = overlap(box)
            if inside and cost == 0.0:
                break
            scored.append((not inside, cost, n))
        else:
            _, _, n = min(scored)
            dx, dy, ha, va = text.spots[n]
            text.xyann = (dx, dy)
            text.set_horizontalalignment(ha)
            text.set_verticalalignment(va)
            box = text.get_window_extent(renderer)
        placed.append(box)


def _degree_ticks(ax: Any, index: FenceIndex) -> None:
    """Tick the metric axes at round longitudes and latitudes (``116.330°E``), with a light grid.

    The ticks follow the view (zooming a figure moves them); the map stays in
    metres, so the scale bar stays true.
    """
    from matplotlib.ticker import FuncFormatter, Locator

    frame = index.frame

    def view() -> tuple[Box, float, float]:
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        return (x0, y0, x1, y1), (x0 + x1) / 2, (y0 + y1) / 2

    class Degrees(Locator):
        def __init__(self, axis: str) -> None:
            self.which = axis

        def __call__(self) -> Any:
            extent, cx, cy = view()
            lons, lats, _, _ = graticule(index, extent)
            lon, lat = frame.to_lonlat(cx, cy)  # the view's centre, in degrees
            if self.which == "lon":
                return np.asarray(frame.to_xy(lons, np.full(lons.shape, lat))[0])
            return np.asarray(frame.to_xy(np.full(lats.shape, lon), lats)[1])

        def tick_values(self, vmin: float, vmax: float) -> Any:
            return self()

    def label(axis: str) -> Any:
        def text(value: float, _pos: Any = None) -> str:
            extent, cx, cy = view()
            _, _, lon_step, lat_step = graticule(index, extent)
            if axis == "lon":
                return degree_text(float(frame.to_lonlat(value, cy)[0]), "lon", lon_step)
            return degree_text(float(frame.to_lonlat(cx, value)[1]), "lat", lat_step)

        return FuncFormatter(text)

    ax.xaxis.set_major_locator(Degrees("lon"))
    ax.yaxis.set_major_locator(Degrees("lat"))
    ax.xaxis.set_major_formatter(label("lon"))
    ax.yaxis.set_major_formatter(label("lat"))
    ax.tick_params(labelsize=8)
    ax.grid(True, color="#d9d9d9", lw=0.6, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel("longitude (WGS-84)")
    ax.set_ylabel("latitude (WGS-84)")


def _outside_note(ax: Any, outside: int) -> None:
    """Say in the top left corner how many fixes the map does not show."""
    if not outside:
        return
    ax.text(
        0.01,
        0.99,
        f"{outside:,} fix{'' if outside == 1 else 'es'} outside the map",
        transform=ax.transAxes,
        fontsize=8,
        ha="left",
        va="top",
        color="#444444",
        bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#bbbbbb", "alpha": 0.85},
        gid="outside",
    )


def _legend(ax: Any) -> None:
    """A legend with each label once (one entry per fence kind, not per fence)."""
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="upper right", fontsize=8, framealpha=0.85)


def _scale_bar(ax: Any) -> None:
    """A bar of a round length (1, 2 or 5 × 10^k m), about a fifth of the map's width."""
    from matplotlib.offsetbox import AnchoredOffsetbox, AuxTransformBox, TextArea, VPacker
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    length = round_length((x1 - x0) / 5.0)
    bar = AuxTransformBox(ax.transData)
    bar.add_artist(Rectangle((0, 0), length, 0, ec="black", lw=3))
    label = TextArea(f"{length:,.0f} m" if length >= 1 else f"{length:g} m")
    box = AnchoredOffsetbox(
        loc="lower left",
        child=VPacker(children=[bar, label], align="center", pad=0, sep=4),
        frameon=True,
        pad=0.4,
        borderpad=0.6,
    )
    box.set_gid(f"scale-bar:{length:g}")  # the length the bar stands for, in metres
    ax.add_artist(box)


def round_length(span: float) -> float:
    """The largest of 1, 2, 5 × 10^k not above ``span`` (at least 1 m): a scale bar's length.

    Examples
    --------
    >>> [round_length(v) for v in (0.4, 3, 740, 1_999, 12_000)]
    [1.0, 2.0, 500.0, 1000.0, 10000.0]
    """
    if span < 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(span))
    return max(step * power for step in (1.0, 2.0, 5.0) if step * power <= span)


def _set_extent(ax: Any, boxes: Sequence[Box]) -> None:
    """Frame the boxes in a square, with a margin of a fifth of their size (at least 100 m)."""
    extent = square_extent(boxes)
    if extent is None:
        return
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)  # a square view: the axes keep metres equal both ways
    ax.set_ylim(y0, y1)


def square_extent(boxes: Sequence[Box]) -> Box | None:
    """The square that frames the boxes, with a margin of a fifth of their size (at least 100 m).

    Boxes and the result are ``(x0, y0, x1, y1)`` in the frame's metres; None without a box.

    Examples
    --------
    >>> square_extent([(0, 0, 1000, 500), (200, -100, 300, 0)])
    (-200.0, -500.0, 1200.0, 900.0)
    >>> square_extent([]) is None
    True
    """
    if not boxes:
        return None
    b = np.array(boxes, dtype=np.float64)
    x0, y0 = np.nanmin(b[:, 0]), np.nanmin(b[:, 1])
    x1, y1 = np.nanmax(b[:, 2]), np.nanmax(b[:, 3])
    half = max(x1 - x0, y1 - y0) / 2 + max(0.2 * max(x1 - x0, y1 - y0), 100.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (float(cx - half), float(cy - half), float(cx + half), float(cy + half))


def _people(n: int) -> str:
    return f"{n:,} person" if n == 1 else f"{n:,} people"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _clock(iso: str, tz: str, with_date: bool) -> str:
    """A report time as explain's text shows it (``05-01 08:31``), or its clock alone."""
    return format_local(iso, tz, pattern="%m-%d %H:%M" if with_date else "%H:%M", show_zone=False)


# -- an explanation ----------------------------------------------------------------------------


def plot_explanation(explanation: Explained, ax: Any = None, *, zoom: str = "fences") -> Any:
    """Draw one person's explanation on a map in the local metric frame.

    Parameters
    ----------
    explanation : Explanation or another :class:`Explained`
        From :func:`~fencecheck.judging.explain` (it carries the person's track).
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure.
    zoom : {"fences", "track"}
        Frame the fences involved and the hits (default), or the whole track.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    MissingDependencyError
        Without matplotlib (``pip install 'fencecheck[plot]'``).
    OptionError
        For an explanation without a track (one rebuilt from JSON), or an
        unknown ``zoom``.
    """
    if zoom not in _ZOOMS:
        raise OptionError(f"zoom: {zoom!r} is not one of {', '.join(_ZOOMS)}")
    track = explanation.track
    if track is None:
        raise OptionError(
            f"{explanation.person_id}: this explanation has no track to draw "
            "(explain() attaches one; a report read back from JSON has none)"
        )
    ax = _axes(ax, "Explanation.plot")
    index = track.index
    x, y = track.xy()

    # Fences: those hit, the nearest misses, the one an upstream mistake hits.
    for position, faint in involved_fences(explanation, track):
        _draw_fence(ax, index, position, faint=faint)
    for miss in explanation.near_misses:
        grown = index.grown_geometry(np.array([index.fences.position(miss["fence_id"])]))[0]
        point = shapely.centroid(grown)
        near = ax.annotate(
            f"nearest miss {miss['distance_m']:,.0f} m",
            (point.x, point.y),
            xytext=(0, 0),
            textcoords="offset points",
            fontsize=8,
            ha="center",
            va="center",
            color="#444444",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.75},
            gid=f"near:{miss['fence_id']}",
        )
        near.spots = _NEAR_LABEL_SPOTS

    # The track, and each coarse fix's accuracy circle.
    ax.plot(x, y, color="#555555", lw=0.8, alpha=0.7, zorder=2, gid="track", label="track")
    gps = track.source == Source.GPS.code
    ax.plot(
        x[gps], y[gps], ls="none", marker=".", ms=2.5, color="#333333", zorder=2, gid="gps-fixes"
    )
    coarse = np.flatnonzero(~gps)
    if coarse.shape[0]:
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Circle

        circles = PatchCollection(
            [Circle((x[i], y[i]), float(track.accuracy_m[i])) for i in coarse.tolist()],
            facecolor="none",
            edgecolor="#3182bd",
            linewidth=0.8,
            alpha=0.8,
            zorder=2,
            gid="accuracy",
        )
        ax.add_collection(circles)
        ax.plot(
            x[coarse],
            y[coarse],
            ls="none",
            marker="s",
            ms=3,
            color="#3182bd",
            zorder=3,
            gid="coarse-fixes",
            label="cell / Wi-Fi fix (with accuracy)",
        )
    _draw_mistake(ax, explanation, track)

    # Fixes in a fence while it was not active: hollow grey, never like a hit.
    shown = [position for position, _ in involved_fences(explanation, track)]
    idle = outside_window(track, shown)
    if idle.any():
        colour, label = OUT_OF_WINDOW_STYLE
        ax.scatter(
            x[idle],
            y[idle],
            s=30,
            facecolors="none",
            edgecolors=colour,
            linewidths=1.1,
            zorder=3,
            gid="out-of-window",
            label=label,
        )

    # The hits by credibility; the decisive episode emphasised.
    hx, hy = x[track.hit_ping], y[track.hit_ping]
    kinds = {
        "credible": track.hit_credible,
        "jump": track.hit_jump,
        "grazing": ~track.hit_credible & ~track.hit_jump,
    }
    for name, mask in kinds.items():
        if mask.any():
            colour, marker, label = HIT_STYLES[name]
            ax.scatter(
                hx[mask],
                hy[mask],
                s=28,
                c=colour,
                marker=marker,
                zorder=4,
                edgecolors="white",
                linewidths=0.5,
                gid=f"hits:{name}",
                label=label,
            )
    decisive = track.hit_decisive
    if decisive.any() and explanation.decisive is not None:
        ax.scatter(
            hx[decisive],
            hy[decisive],
            s=90,
            facecolors="none",
            edgecolors="black",
            linewidths=1.2,
            zorder=5,
            gid="decisive",
            label="decisive episode",
        )
        _label_entry_exit(ax, explanation, track, hx[decisive], hy[decisive])
    elif explanation.decisive is not None and explanation.decisive.get("source") == "upstream":
        _ring_mistaken_fix(ax, explanation, track, x, y)
    extent = map_extent(explanation, track, zoom)
    _set_extent(ax, [] if extent is None else [extent])
    if extent is not None:
        _outside_note(ax, fixes_outside(track, extent))
    _scale_bar(ax)
    ax.set_title(_title(explanation), fontsize=10, loc="left")
    _degree_ticks(ax, index)
    _legend(ax)
    _place_labels(ax)
    return ax


def _label_entry_exit(
    ax: Any, explanation: Explained, track: Any, hx: NDArray[Any], hy: NDArray[Any]
) -> None:
    decisive = explanation.decisive
    assert decisive is not None
    days = explanation.lookback_s > 86_400
    times = track.t[track.hit_ping[track.hit_decisive]]
    ends = (
        ("entry", int(np.argmin(times)), (-12, 14), "right"),
        ("exit", int(np.argmax(times)), (12, -16), "left"),
    )
    for name, k, offset, align in ends:
        label = ax.annotate(
            f"{name} {_clock(decisive[name], explanation.tz, days)}",
            (hx[k], hy[k]),
            xytext=offset,
            textcoords="offset points",
            fontsize=8,
            ha=align,
            arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.6},
            gid=name,
        )
        label.spots = _END_LABEL_SPOTS[name]
    _zone_note(ax, explanation)


def _zone_note(ax: Any, explanation: Explained) -> None:
    """Say in a corner which zone the map's times are in."""
    ax.text(
        0.99,
        0.01,
        f"times in {zone_label(explanation.tz, 'en')}",
        transform=ax.transAxes,
        fontsize=7,
        ha="right",
        va="bottom",
        color="#444444",
        gid="zone",
    )


def _ring_mistake_label(explanation: Explained) -> str:
    """``fix 07:04, read as 15:04`` (a zone slip) or ``fix 09:59, fence moved 545 m east``."""
    decisive = explanation.decisive
    assert decisive is not None
    clock = _clock(decisive["entry"], explanation.tz, False)
    for reason in UPSTREAM_REASONS:
        ev = explanation.evidence.get(reason)
        if ev is None:
            continue
        if ev["unit"] == "ms":
            return f"fix {clock}, read as {_clock(ev['t'], explanation.tz, False)}"
        moved = "fence" if ev["how"].startswith("fences") else "fix"
        return f"fix {clock}, {moved} moved {ev['shift']:.0f} m {ev.get('moved_to', '')}".rstrip()
    return f"fix {clock}"


def _ring_mistaken_fix(
    ax: Any, explanation: Explained, track: Any, x: NDArray[Any], y: NDArray[Any]
) -> None:
    """Ring the fix an upstream mistake put in a fence, at its right time and place."""
    k = mistaken_fix(explanation, track)
    if k is None:
        return
    ax.scatter(
        x[k : k + 1],
        y[k : k + 1],
        s=90,
        facecolors="none",
        edgecolors="black",
        linewidths=1.2,
        zorder=5,
        gid="decisive",
        label="the fix the mistake put in the fence",
    )
    ax.annotate(
        _ring_mistake_label(explanation),
        (x[k], y[k]),
        xytext=(12, 16),
        textcoords="offset points",
        fontsize=8,
        ha="left",
        arrowprops={"arrowstyle": "-", "color": "black", "lw": 0.6},
        gid="entry",
    ).spots = _END_LABEL_SPOTS["ring"]
    _zone_note(ax, explanation)


def _draw_mistake(ax: Any, explanation: Explained, track: Any) -> None:
    """For a datum mistake, draw where the mistaken data put the fence or the track."""
    moved = mistake_shape(explanation, track)
    if moved is None:
        return
    evidence = explanation.evidence["datum_shift"]
    if moved[0] == "fence":
        from matplotlib.patches import PathPatch

        ax.add_patch(
            PathPatch(
                _path(moved[1]),
                fill=False,
                ec="black",
                ls=":",
                lw=1.4,
                gid="mistaken-fence",
                label=f"{evidence['fence_id']} where the mistake put it",
            )
        )
    else:
        mx, my = moved[1]
        ax.plot(
            mx,
            my,
            color="black",
            ls=":",
            lw=1.2,
            gid="mistaken-track",
            label="the track where the mistake put it",
        )


def _title(explanation: Explained) -> str:
    words = explanation.verdict.replace("_", " ")
    reasons = ", ".join(r.replace("_", " ") for r in explanation.reasons)
    first = f"{explanation.person_id}: {words}" + (f" ({reasons})" if reasons else "")
    d = explanation.decisive
    if d is not None and d.get("source") != "upstream":
        second = (
            f"decisive: {d['fence_id']} ({d['kind']}), {_count(d['pings'], 'ping')}, "
            f"{duration_en(d['dwell_s'])} on credible fixes, best p_inside {d['p_inside']:.2f}"
        )
        return f"{first}\n{second}"
    for reason in UPSTREAM_REASONS:
        evidence = explanation.evidence.get(reason)
        if evidence is not None:
            amount = evidence["shift"]
            shift = f"{amount / 3.6e6:+g} h" if evidence["unit"] == "ms" else f"{amount:,.0f} m"
            return f"{first}\n{evidence['how']} ({shift}) gives a hit at {evidence['fence_id']}"
    if explanation.near_misses:
        m = explanation.near_misses[0]
        return f"{first}\nnearest miss: {m['fence_id']} at {m['distance_m']:,.0f} m"
    return first


# -- one fence of a scan -----------------------------------------------------------------------


def plot_fence(
    scan: Scanned, fence_id: str, ax: Any = None, *, pings: PingTable | None = None
) -> Any:
    """Draw one fence and the hit pings of the people it triggered, by outcome.

    Each person's hits at the fence (within their lookback, as the scan judged
    them) are coloured by what the fence's trigger of them was: ``exposed``,
    ``passed_through`` or ``false_trigger`` — the counts of the scan's
    ``fences`` table. People triggered only through an upstream mistake have
    no hit of our data there; the legend counts them.

    Parameters
    ----------
    scan : Scan or another :class:`Scanned`
        From :func:`~fencecheck.judging.scan`.
    fence_id : str
        The fence.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure.
    pings : PingTable, optional
        The pings the scan judged; by default the ones ``scan()`` was given
        (a scan assembled from parts, as the command line does, has none).

    Returns
    -------
    matplotlib Axes
    """
    index = scan.index
    pings = scan.pings if pings is None else pings
    if index is None or pings is None:
        raise OptionError(
            "plot_fence needs the scan's index and pings: pass pings=..., or use a scan "
            "returned by fencecheck.scan()"
        )
    if fence_id not in set(index.fences.ids.tolist()):
        raise OptionError(f"fence {fence_id!r} is not in the scan's index")
    ax = _axes(ax, "plot_fence")
    position = index.fences.position(fence_id)
    triggers = scan.triggers
    here = triggers["fence_id"] == fence_id
    people = triggers["person_id"][here]
    outcome = triggers["outcome"][here]
    upstream = triggers["upstream"][here]
    grown = _draw_fence(ax, index, position)
    boxes = [tuple(shapely.bounds(grown))]
    outcome_of = dict(zip(people[~upstream].tolist(), outcome[~upstream].tolist(), strict=True))
    known = set(pings.persons.ids()[np.unique(pings.person)].tolist())
    wanted = [p for p in outcome_of if p in known]
    if len(wanted) != len(outcome_of):
        raise OptionError("plot_fence: these pings are not the ones the scan judged")
    codes = np.array([pings.persons.code(p) for p in wanted], dtype=np.int32)
    mine = pings.take(np.isin(pings.person, codes))
    v = judge(
        mine,
        index,
        at=scan.at,
        lookback=scan.lookback_s,
        policy=scan.policy,
        mode=scan.mode,
        evidence="verdicts",
    )
    hits = v.hits
    at_fence = hits.fence == position

    where = ping_positions(hits.ping[at_fence], mine.row)
    x, y = index.frame.to_xy(mine.lon[where], mine.lat[where])
    hit_outcome = np.array(
        [outcome_of[p] for p in hits.person_ids()[at_fence].tolist()], dtype=object
    )
    counts = {name: int((outcome == name).sum()) for name in OUTCOME_COLOURS}
    for name, colour in OUTCOME_COLOURS.items():
        mask = hit_outcome == name
        if mask.any():
            ax.scatter(
                x[mask],
                y[mask],
                s=14,
                c=colour,
                alpha=0.8,
                zorder=4,
                edgecolors="none",
                gid=f"hits:{name}",
                label=f"{name.replace('_', ' ')}: {_people(counts[name])}",
            )
    if x.shape[0]:
        boxes.append((float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y))))
    if upstream.any():
        ax.plot(
            [],
            [],
            ls="none",
            gid="upstream",
            label=f"upstream mistake: {_people(int(upstream.sum()))} (no hit drawn)",
        )
    _set_extent(ax, boxes)
    _scale_bar(ax)
    row = int(np.flatnonzero(scan.fences["fence_id"] == fence_id)[0])
    total = int(scan.fences["people"][row])
    share = float(scan.fences["false_share"][row])
    kind = str(index.fences.kinds[position])
    share_text = "" if math.isnan(share) else f", {share:.0%} false triggers"
    ax.set_title(
        f"{fence_id} ({kind}): {total} people triggered{share_text}", fontsize=10, loc="left"
    )
    _degree_ticks(ax, index)
    if total:
        _legend(ax)
    _place_labels(ax)
    return ax
