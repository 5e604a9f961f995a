"""The map of an explanation as inline SVG, for the printable page (no matplotlib needed).

:func:`render_svg` draws what :func:`~fencecheck.judging.plot.plot_explanation`
draws, from the same geometry and with the same helpers (which fences, the
square extent, margins, where a datum mistake put the fence or the track), as
one ``<svg>`` element with no reference to anything outside it: the fences
involved, filled by kind, each in a group marked ``data-fence="<id>"``, their
margins dashed; the track, each cell or Wi-Fi fix with its accuracy circle; the
hits coloured by credibility; the decisive fence outlined and its hits ringed,
entry and exit labelled in the display zone; for a companion found with a case,
the person's fixes while credibly close to it; the reported itinerary's places;
fixes in a fence while it was not active, as hollow grey rings; a light
graticule at round longitudes and latitudes labelled on the top and left edges;
a scale bar of a round length, a north arrow, a note of the fixes outside the
map and a legend, in Chinese or English.

The map is drawn in the index's metric frame (metres east and north of its
centre), y flipped for SVG, so that a circle of accuracy is a circle and the
scale bar is true everywhere on it. Every piece of text is escaped.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> [p01] = fc.explain(fc.read_pings("data/samples/pings.csv"), index, person=["P01"])
>>> svg = render_svg(p01, "en")
>>> svg.startswith("<svg") and svg.endswith("</svg>")
True
>>> 'data-fence="F-sealed-1"' in svg, "//" in svg
(True, False)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Protocol

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from fencecheck.datums import to_wgs84
from fencecheck.errors import OptionError
from fencecheck.judging.plot import (
    HIT_STYLES,
    KIND_COLOURS,
    OTHER_KIND_COLOUR,
    OUT_OF_WINDOW_STYLE,
    Box,
    Explained,
    degree_text,
    fence_shapes,
    fixes_outside,
    graticule,
    involved_fences,
    map_extent,
    mistake_shape,
    mistaken_fix,
    outside_window,
    round_length,
    upstream_evidence,
)
from fencecheck.judging.track import Track
from fencecheck.judging.wording import KIND_WORDS
from fencecheck.options import Source
from fencecheck.times import format_local, parse_time, zone_label

__all__ = ["Mapped", "render_svg"]

SIZE = 1000.0
"""The map's side in SVG units (the map is square; the legend goes below it)."""
_FONT = 22.0
_PLACE_COLOUR = "#1a9850"
_TRACK_COLOUR = "#555555"
_COARSE_COLOUR = "#3182bd"
_DECISIVE_STROKE = "#111111"
_GRID_COLOUR = "#cfcfcf"
_GRID_FONT = 16.0

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{person} 的地图",
        "margin": "围栏外扩范围（虚线）",
        "track": "轨迹",
        "gps": "GPS 定位",
        "coarse": "基站 / Wi-Fi 定位及精度圆",
        "credible": "可信命中",
        "grazing": "命中但不可信（边界）",
        "jump": "定位漂移上的命中",
        "decisive": "决定性记录（圈出）",
        "mistaken-fence": "错误坐标系下的围栏位置（点线）",
        "mistaken-track": "错误坐标系下的轨迹位置（点线）",
        "mistaken-fix": "上游错误使其落入围栏的定位（圈出）",
        "case": "与病例 {case} 可信相距 {close} 米内的定位（圈出）",
        "place": "申报行程地点（半径）",
        "near": "最近未命中 {distance} 米",
        "entry": "进入 {when}",
        "exit": "离开 {when}",
        "fix-slip": "定位 {when}，被读作 {read}",
        "fix-moved": "定位 {when}，{what}偏移 {shift} 米",
        "fence": "围栏",
        "fix": "定位",
        "fix-at": "定位 {when}",
        "zone": "时间为{zone}",
        "north": "北",
        "case-label": "与病例 {case} {start}–{end}",
        "out-of-window": "在围栏内，但不在其生效时段",
        "outside": "{n} 个定位在地图范围外",
    },
    "en": {
        "title": "Map of {person}",
        "margin": "fence margin (dashed)",
        "track": "track",
        "gps": "GPS fix",
        "coarse": "cell / Wi-Fi fix, accuracy circle",
        "credible": "credible hit",
        "grazing": "hit, not credible (boundary)",
        "jump": "hit on a location jump",
        "decisive": "decisive finding (ringed)",
        "mistaken-fence": "the fence where the mistake put it (dotted)",
        "mistaken-track": "the track where the mistake put it (dotted)",
        "mistaken-fix": "the fix the mistake put in the fence (ringed)",
        "case": "fixes within {close} m of case {case} (ringed)",
        "place": "reported place (radius)",
        "near": "nearest miss {distance} m",
        "entry": "entry {when}",
        "exit": "exit {when}",
        "fix-slip": "fix {when}, read as {read}",
        "fix-moved": "fix {when}, {what} moved {shift} m",
        "fence": "fence",
        "fix": "fix",
        "fix-at": "fix {when}",
        "zone": "times in {zone}",
        "north": "N",
        "case-label": "with case {case} {start}–{end}",
        "out-of-window": OUT_OF_WINDOW_STYLE[1],
        "outside": "{n} fixes outside the map",
        "outside-1": "1 fix outside the map",
    },
}


class Mapped(Explained, Protocol):
    """What the SVG map reads of an explanation (:class:`fencecheck.Explanation` has it all)."""

    @property
    def itinerary(self) -> list[dict[str, Any]] | None:
        """The reported places and their findings, or None without an itinerary."""


@dataclass(frozen=True)
class _View:
    """From the frame's metres to SVG units: a square ``extent`` onto ``SIZE``, y down."""

    x0: float
    y1: float
    k: float

    @classmethod
    def of(cls, extent: Box) -> _View:
        x0, _, x1, y1 = extent
        return cls(x0, y1, SIZE / (x1 - x0))

    def x(self, x: ArrayLike) -> NDArray[np.float64]:
        return (np.asarray(x, dtype=np.float64) - self.x0) * self.k

    def y(self, y: ArrayLike) -> NDArray[np.float64]:
        return (self.y1 - np.asarray(y, dtype=np.float64)) * self.k

    def at(self, x: float, y: float) -> tuple[float, float]:
        return float(self.x(x)), float(self.y(y))


def render_svg(explanation: Mapped, lang: str = "zh") -> str:
    """Draw one person's explanation as a self-contained ``<svg>`` element.

    Parameters
    ----------
    explanation : Explanation or another :class:`Mapped`
        From :func:`~fencecheck.judging.explain` (it carries the person's track).
    lang : {"zh", "en"}
        The language of the labels and the legend.

    Returns
    -------
    str
        The ``<svg>`` element, scaled to its container's width.

    Raises
    ------
    OptionError
        For an explanation without a track (one rebuilt from JSON, or from
        ``explain(..., track=False)``), or an unknown language.
    """
    if lang not in _WORDS:
        raise OptionError(f"lang: {lang!r} is not one of zh, en")
    track = explanation.track
    if track is None:
        raise OptionError(f"{explanation.person_id}: this explanation has no track to draw")
    return _Map(explanation, track, lang).render()


class _Map:
    """One map being drawn: the layers, the labels and the legend, as SVG text."""

    def __init__(self, explanation: Mapped, track: Track, lang: str) -> None:
        self.e = explanation
        self.track = track
        self.index = track.index
        self.lang = lang
        self.words = _WORDS[lang]
        self.uid = "fc" + hashlib.sha1(explanation.person_id.encode("utf-8")).hexdigest()[:10]
        d = explanation.decisive
        self.decisive = d
        self.source = None if d is None else d.get("source")
        self.decisive_fence = d.get("fence_id") if d is not None and self.source != "case" else None
        self.places = self._places()
        extra = [str(self.decisive_fence)] if self.decisive_fence else []
        for place in explanation.itinerary or []:
            extra += [str(f["fence_id"]) for f in place.get("fences", [])]
        self.fences = involved_fences(explanation, track, extra)
        boxes = [p["box"] for p in self.places if p["decisive"]]
        self.close = self._close_to_case()
        if self.close.shape[0]:  # the fixes close to the deciding case are on the map
            cx, cy = track.xy()
            cx, cy = cx[self.close], cy[self.close]
            boxes.append((float(cx.min()), float(cy.min()), float(cx.max()), float(cy.max())))
        extent = map_extent(explanation, track, extra=extra, boxes=boxes)
        if extent is None:  # nothing at all to frame: a square kilometre around the centre
            extent = (-500.0, -500.0, 500.0, 500.0)
        self.extent = extent
        self.view = _View.of(extent)
        self.x, self.y = track.xy()
        self.legend: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        # What labels must not cover: the scale bar, the north arrow, the zone note.
        self.obstacles: list[Box] = [
            (0.0, SIZE - 80.0, 330.0, SIZE),
            (SIZE - 70.0, 0.0, SIZE, 95.0),
            (SIZE - 260.0, SIZE - 36.0, SIZE, SIZE),
        ]
        self.outside = fixes_outside(track, extent)
        if self.outside:
            self.obstacles.append((0.0, 0.0, 24.0 + _text_width(self._outside_text()), 46.0))

    # -- the whole -------------------------------------------------------------------------

    def render(self) -> str:
        body = [
            self._graticule(),
            self._fences(),
            self._mistake(),
            self._places_drawn(),
            self._track(),
            self._out_of_window(),
            self._hits(),
            self._decisive(),
        ]
        frame = [
            f'<rect x="0" y="0" width="{SIZE:g}" height="{SIZE:g}" fill="#ffffff"/>',
            f'<g clip-path="url(#{self.uid}-clip)">{"".join(body)}{self._place_labels()}</g>',
            self._scale_bar(),
            self._north(),
            self._zone(),
            self._outside_note(),
            f'<rect x="0.5" y="0.5" width="{SIZE - 1:g}" height="{SIZE - 1:g}" fill="none" '
            'stroke="#999999" stroke-width="1"/>',
        ]
        legend, height = self._legend()
        total = SIZE + height
        title = escape(self.words["title"].format(person=self.e.person_id))
        return (
            f'<svg viewBox="0 0 {SIZE:g} {total:g}" '
            f'width="100%" role="img" aria-labelledby="{self.uid}-title" class="map" '
            f'font-family="inherit" font-size="{_FONT:g}" data-extent="{self._extent_text()}">'
            f'<title id="{self.uid}-title">{title}</title>'
            f'<defs><clipPath id="{self.uid}-clip"><rect x="0" y="0" width="{SIZE:g}" '
            f'height="{SIZE:g}"/></clipPath></defs>'
            f"{''.join(frame)}{legend}</svg>"
        )

    def _extent_text(self) -> str:
        return " ".join(f"{v:.1f}" for v in self.extent)

    # -- layers ----------------------------------------------------------------------------

    def _graticule(self) -> str:
        """Light lines at round longitudes and latitudes, labelled on the top and left edges.

        A label that would cover the north arrow, the scale bar or a note is left
        out (its line stays); the labels drawn are obstacles for the others.
        """
        x0, y0, x1, y1 = self.extent
        lons, lats, lon_step, lat_step = graticule(self.index, self.extent)
        _, south = self.index.frame.to_lonlat((x0 + x1) / 2, y0 - (y1 - y0))
        _, north = self.index.frame.to_lonlat((x0 + x1) / 2, y1 + (y1 - y0))
        west, _ = self.index.frame.to_lonlat(x0 - (x1 - x0), (y0 + y1) / 2)
        east, _ = self.index.frame.to_lonlat(x1 + (x1 - x0), (y0 + y1) / 2)
        lines, labels = [], []
        scale = _GRID_FONT / _FONT
        for lon in lons.tolist():
            ax, ay = self.index.frame.to_xy(np.array([lon, lon]), np.array([south, north]))
            (pa, pb), (qa, qb) = self.view.x(ax), self.view.y(ay)
            lines.append(f"M{pa:.1f},{qa:.1f}L{pb:.1f},{qb:.1f}")
            # where the meridian crosses the top edge
            top = pa + (pb - pa) * (0.0 - qa) / (qb - qa) if qb != qa else pa
            text = degree_text(lon, "lon", lon_step)
            box = (top + 2, 2.0, top + 8 + _text_width(text) * scale, 28.0)
            labels.append((text, top + 5, 21.0, "lon", box))
        for lat in lats.tolist():
            ax, ay = self.index.frame.to_xy(np.array([west, east]), np.array([lat, lat]))
            (pa, pb), (qa, qb) = self.view.x(ax), self.view.y(ay)
            lines.append(f"M{pa:.1f},{qa:.1f}L{pb:.1f},{qb:.1f}")
            left = qa + (qb - qa) * (0.0 - pa) / (pb - pa) if pb != pa else qa
            text = degree_text(lat, "lat", lat_step)
            box = (2.0, left - 24, 12 + _text_width(text) * scale, left - 1)
            labels.append((text, 7.0, left - 6, "lat", box))
        drawn = []
        for text, x, y, axis, box in labels:
            if not _inside(box) or any(_overlap(box, other) for other in self.obstacles):
                continue
            self.obstacles.append(box)
            drawn.append(
                f'<text x="{x:.1f}" y="{y:.1f}" data-axis="{axis}" paint-order="stroke" '
                f'stroke="#ffffff" stroke-width="4">{escape(text)}</text>'
            )
        return (
            f'<g class="graticule"><path d="{"".join(lines)}" fill="none" '
            f'stroke="{_GRID_COLOUR}" stroke-width="1.2"/>'
            f'<g class="graticule-labels" font-size="{_GRID_FONT:g}" fill="#555555">'
            f"{''.join(drawn)}</g></g>"
        )

    def _out_of_window(self) -> str:
        """The fixes in a fence while it was not active: hollow grey rings, never like a hit."""
        idle = outside_window(self.track, [position for position, _ in self.fences])
        if not idle.any():
            return ""
        colour = OUT_OF_WINDOW_STYLE[0]
        px, py = self.view.x(self.x[idle]), self.view.y(self.y[idle])
        rings = "".join(
            f'<circle cx="{a:.1f}" cy="{b:.1f}" r="7"/>' for a, b in zip(px, py, strict=True)
        )
        self.legend["out-of-window"] = (
            f'<circle cx="14" cy="0" r="7" fill="#ffffff" stroke="{colour}" stroke-width="2.4"/>'
            + self._legend_text(self.words["out-of-window"])
        )
        return (
            f'<g class="out-of-window" fill="#ffffff" fill-opacity="0.6" stroke="{colour}" '
            f'stroke-width="2.4">{rings}</g>'
        )

    def _fences(self) -> str:
        parts = []
        kinds_seen: list[str] = []
        near = {m["fence_id"]: m for m in self.e.near_misses}
        for position, faint in self.fences:
            fence_id = str(self.index.fences.ids[position])
            kind = str(self.index.fences.kinds[position])
            colour = KIND_COLOURS.get(kind, OTHER_KIND_COLOUR)
            polygon, grown, margin = fence_shapes(self.index, position)
            decisive = fence_id == self.decisive_fence
            inner = []
            if polygon is not None and margin > 0:
                inner.append(
                    f'<path d="{self._d(grown)}" fill="none" stroke="{colour}" '
                    'stroke-width="2" stroke-dasharray="9 6" fill-rule="evenodd" '
                    'class="margin"/>'
                )
                self.legend.setdefault("margin", self._swatch_margin())
            body = grown if polygon is None else polygon
            stroke = _DECISIVE_STROKE if decisive else colour
            width = 4 if decisive else 2
            inner.append(
                f'<path d="{self._d(body)}" fill="{colour}" '
                f'fill-opacity="{0.18 if faint else 0.38}" stroke="{stroke}" '
                f'stroke-width="{width}" fill-rule="evenodd" class="body"/>'
            )
            if polygon is None:  # a venue: its point, and the margin disc is the fence
                px, py = self.view.at(*shapely.get_coordinates(self.index.geometry[position])[0])
                inner.append(
                    f'<path d="M{px - 9:.1f},{py:.1f}H{px + 9:.1f}M{px:.1f},{py - 9:.1f}'
                    f'V{py + 9:.1f}" stroke="{colour}" stroke-width="3" class="venue"/>'
                )
            name = self.index.fences.names[position]
            tip = f"{name} ({fence_id})" if name not in (None, "") and name == name else fence_id
            classes = "fence" + (" decisive" if decisive else "") + (" faint" if faint else "")
            parts.append(
                f'<g class="{classes}" data-fence="{escape(fence_id)}" '
                f'data-kind="{escape(kind)}"><title>{escape(str(tip))}</title>'
                f"{''.join(inner)}</g>"
            )
            if kind not in kinds_seen:
                kinds_seen.append(kind)
            x0, y0, x1, y1 = shapely.bounds(grown).tolist()
            left, top = self.view.at(x0, y1)
            right, bottom = self.view.at(x1, y0)
            middle = (top + bottom) / 2 + 8
            spots = [
                (right + 4, top - 6, "start"),
                (left, top - 8, "start"),
                (right, top - 8, "end"),
                (right + 8, middle, "start"),
                (left - 8, middle, "end"),
                (left, bottom + 26, "start"),
                (right, bottom + 26, "end"),
                (right - 8, top + 28, "end"),
            ]
            self._label(
                fence_id,
                spots,
                priority=1,
                colour=_darker(colour),
                weight=decisive,
                data=fence_id,
                cls="fence-label",
            )
            if fence_id in near:
                cx, cy = self.view.at(*shapely.centroid(grown).coords[0])
                distance = f"{near[fence_id]['distance_m']:,.0f}"
                text = self.words["near"].format(distance=distance)
                spots = [(cx, cy, "middle")]
                for k in range(1, 7):  # stacked below and above the fence's centre
                    spots += [(cx, cy + 32.0 * k, "middle"), (cx, cy - 32.0 * k, "middle")]
                self._label(text, spots, priority=2, colour="#444444", cls="near", data=fence_id)
        for kind in kinds_seen:
            colour = KIND_COLOURS.get(kind, OTHER_KIND_COLOUR)
            en, zh = KIND_WORDS.get(kind, (kind.replace("_", " "), kind))
            text = zh if self.lang == "zh" else en.removeprefix("a ").removeprefix("an ")
            self.legend[f"kind:{kind}"] = self._swatch_fill(colour, text)
        return "".join(parts)

    def _mistake(self) -> str:
        moved = mistake_shape(self.e, self.track)
        if moved is None:
            return ""
        if moved[0] == "fence":
            self.legend["mistaken"] = self._swatch_line(
                "#000000", self.words["mistaken-fence"], dash="3 5"
            )
            return (
                f'<path d="{self._d(moved[1])}" fill="none" stroke="#000000" stroke-width="2.5" '
                'stroke-dasharray="3 5" fill-rule="evenodd" class="mistaken-fence"/>'
            )
        mx, my = moved[1]
        self.legend["mistaken"] = self._swatch_line(
            "#000000", self.words["mistaken-track"], dash="3 5"
        )
        return (
            f'<polyline points="{self._points(mx, my)}" fill="none" stroke="#000000" '
            'stroke-width="2" stroke-dasharray="3 5" class="mistaken-track"/>'
        )

    def _places(self) -> list[dict[str, Any]]:
        """The itinerary's places in the frame, with their boxes and whether one decides."""
        out: list[dict[str, Any]] = []
        d = self.decisive
        for place in self.e.itinerary or []:
            try:
                lon, lat = to_wgs84(
                    float(place["lon"]), float(place["lat"]), place.get("datum") or "wgs84"
                )
            except (KeyError, TypeError, ValueError):
                continue
            if not (math.isfinite(lon) and math.isfinite(lat)):
                continue
            x, y = self.index.frame.to_xy(np.array([lon]), np.array([lat]))
            px, py = float(x[0]), float(y[0])
            radius = float(place.get("radius_m") or 0.0)
            decisive = (
                d is not None
                and d.get("source") == "itinerary"
                and d.get("row") == place.get("row")
            )
            out.append(
                {
                    "x": px,
                    "y": py,
                    "radius": radius,
                    "name": str(place.get("place", "")),
                    "row": place.get("row"),
                    "decisive": decisive,
                    "box": (px - radius, py - radius, px + radius, py + radius),
                }
            )
        return out

    def _places_drawn(self) -> str:
        if not self.places:
            return ""
        parts = []
        for p in self.places:
            cx, cy = self.view.at(p["x"], p["y"])
            r = max(self.view.k * p["radius"], 5.0)
            width = 4 if p["decisive"] else 2
            stroke = _DECISIVE_STROKE if p["decisive"] else _PLACE_COLOUR
            parts.append(
                f'<g class="place{" decisive" if p["decisive"] else ""}" '
                f'data-place-row="{escape(str(p["row"]))}">'
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{_PLACE_COLOUR}" '
                f'fill-opacity="0.12" stroke="{stroke}" stroke-width="{width}" '
                'stroke-dasharray="12 5"/></g>'
            )
            if not (0 <= cx <= SIZE and 0 <= cy <= SIZE):
                continue  # off the map: no label
            name = p["name"] if len(p["name"]) <= 14 else p["name"][:13] + "…"
            spots = [
                (cx, cy - r - 8, "middle"),
                (cx, cy + r + 26, "middle"),
                (cx, cy + 8, "middle"),
            ]
            self._label(name, spots, priority=3, colour=_darker(_PLACE_COLOUR), cls="place")
        self.legend["place"] = (
            f'<circle cx="14" cy="0" r="10" fill="{_PLACE_COLOUR}" fill-opacity="0.12" '
            f'stroke="{_PLACE_COLOUR}" stroke-width="2" stroke-dasharray="6 3"/>'
            + self._legend_text(self.words["place"])
        )
        return "".join(parts)

    def _track(self) -> str:
        t = self.track
        if not len(t):
            return ""
        px, py = self.view.x(self.x), self.view.y(self.y)
        parts = []
        coarse = np.flatnonzero(t.source != Source.GPS.code)
        if coarse.shape[0]:
            radii = np.asarray(t.accuracy_m, dtype=np.float64)[coarse] * self.view.k
            circles = "".join(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{r:.1f}"/>'
                for a, b, r in zip(px[coarse], py[coarse], radii, strict=True)
            )
            parts.append(
                f'<g class="accuracy" fill="{_COARSE_COLOUR}" fill-opacity="0.04" '
                f'stroke="{_COARSE_COLOUR}" stroke-width="1.2" stroke-opacity="0.75">'
                f"{circles}</g>"
            )
        parts.append(
            f'<polyline points="{self._points(self.x, self.y)}" fill="none" '
            f'stroke="{_TRACK_COLOUR}" stroke-width="1.6" stroke-opacity="0.8" '
            'stroke-linejoin="round" class="track"/>'
        )
        self.legend["track"] = self._swatch_line(_TRACK_COLOUR, self.words["track"])
        gps = np.flatnonzero(t.source == Source.GPS.code)
        if gps.shape[0]:
            dots = "".join(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6"/>'
                for a, b in zip(px[gps], py[gps], strict=True)
            )
            parts.append(f'<g class="gps" fill="#333333">{dots}</g>')
            self.legend["gps"] = '<circle cx="14" cy="0" r="3.5" fill="#333333"/>' + (
                self._legend_text(self.words["gps"])
            )
        if coarse.shape[0]:
            squares = "".join(
                f'<rect x="{a - 4:.1f}" y="{b - 4:.1f}" width="8" height="8"/>'
                for a, b in zip(px[coarse], py[coarse], strict=True)
            )
            parts.append(f'<g class="coarse" fill="{_COARSE_COLOUR}">{squares}</g>')
            self.legend["coarse"] = (
                f'<circle cx="14" cy="0" r="11" fill="none" stroke="{_COARSE_COLOUR}" '
                f'stroke-width="1.2"/><rect x="10" y="-4" width="8" height="8" '
                f'fill="{_COARSE_COLOUR}"/>' + self._legend_text(self.words["coarse"])
            )
        return "".join(parts)

    def _hits(self) -> str:
        t = self.track
        if not t.hit_ping.shape[0]:
            return ""
        hx, hy = self.view.x(self.x[t.hit_ping]), self.view.y(self.y[t.hit_ping])
        kinds = {
            "credible": t.hit_credible,
            "jump": t.hit_jump,
            "grazing": ~t.hit_credible & ~t.hit_jump,
        }
        parts = []
        for name, mask in kinds.items():
            if not mask.any():
                continue
            colour = HIT_STYLES[name][0]
            marks = "".join(_hit_mark(name, a, b) for a, b in zip(hx[mask], hy[mask], strict=True))
            parts.append(
                f'<g class="hits hits-{name}" fill="{colour}" stroke="#ffffff" '
                f'stroke-width="1.2">{marks}</g>'
            )
            self.legend[f"hits:{name}"] = (
                f'<g fill="{colour}" stroke="#ffffff" stroke-width="1.2">'
                f"{_hit_mark(name, 14, 0)}</g>" + self._legend_text(self.words[name])
            )
        return "".join(parts)

    def _decisive(self) -> str:
        """Ring the decisive hits (or the mistaken fix, or the fixes close to the case)."""
        t, d = self.track, self.decisive
        if d is None:
            return ""
        if self.source == "case":
            return self._case()
        if self.source == "upstream":
            k = mistaken_fix(self.e, t)
            if k is None:
                return ""
            cx, cy = self.view.at(self.x[k], self.y[k])
            self.legend["decisive"] = _ring(14, 0) + self._legend_text(self.words["mistaken-fix"])
            self.obstacles.append((cx - 14, cy - 14, cx + 14, cy + 14))
            self._label(
                self._mistake_label(), _around(cx - 14, cy - 14, cx + 14, cy + 14, "entry"),
                priority=0, leader=(cx, cy), cls="entry",
            )  # fmt: skip
            return f'<g class="decisive-hits">{_ring(cx, cy)}</g>'
        mask = t.hit_decisive
        if not mask.any():
            return ""
        rows = t.hit_ping[mask]
        px, py = self.view.x(self.x[rows]), self.view.y(self.y[rows])
        rings = "".join(_ring(a, b) for a, b in zip(px, py, strict=True))
        self.legend["decisive"] = _ring(14, 0) + self._legend_text(self.words["decisive"])
        times = t.t[rows]
        box = (
            float(px.min()) - 14,
            float(py.min()) - 14,
            float(px.max()) + 14,
            float(py.max()) + 14,
        )
        self.obstacles.append(box)
        single = d.get("entry") == d.get("exit")  # one fix: one label
        for end in ("entry",) if single else ("entry", "exit"):
            when = _ms(d.get(end))
            match = np.flatnonzero(times == when) if when is not None else np.zeros(0, np.int64)
            if match.shape[0]:
                k = int(match[0] if end == "entry" else match[-1])
            else:
                k = int(np.argmin(times) if end == "entry" else np.argmax(times))
            text = self.words["fix-at" if single else end].format(when=self._clock(d.get(end)))
            self._label(
                text, _around(*box, end), priority=0, leader=(float(px[k]), float(py[k])), cls=end
            )
        return f'<g class="decisive-hits">{rings}</g>'

    def _close_span(self) -> tuple[int, int] | None:
        """When the person was credibly close to the deciding case (else in one grid cell)."""
        d = self.decisive
        if d is None or self.source != "case":
            return None
        start, end = _ms(d.get("first_close")), _ms(d.get("last_close"))
        if start is None or end is None:
            start, end = _ms(d.get("first_together")), _ms(d.get("last_together"))
        return None if start is None or end is None else (start, end)

    def _close_to_case(self) -> NDArray[np.int64]:
        """The track's fixes in that time."""
        span = self._close_span()
        if span is None:
            return np.zeros(0, dtype=np.int64)
        t = self.track.t
        return np.flatnonzero((t >= span[0]) & (t <= span[1])).astype(np.int64)

    def _case(self) -> str:
        """Ring the person's fixes while credibly close to the deciding case."""
        d = self.decisive
        span = self._close_span()
        k = self.close
        if d is None or span is None or not k.shape[0]:
            return ""
        start, end = span
        px, py = self.view.x(self.x[k]), self.view.y(self.y[k])
        rings = "".join(_ring(a, b) for a, b in zip(px, py, strict=True))
        close = f"{float(d.get('close_m', getattr(self.e, 'close_m', 100.0))):g}"
        case = str(d.get("case_id", ""))
        self.legend["decisive"] = _ring(14, 0) + self._legend_text(
            self.words["case"].format(case=case, close=close)
        )
        label = self.words["case-label"].format(
            case=case, start=self._clock(start), end=self._clock(end, False)
        )
        box = (
            float(px.min()) - 14,
            float(py.min()) - 14,
            float(px.max()) + 14,
            float(py.max()) + 14,
        )
        self.obstacles.append(box)
        leader = (float(px[0]), float(py[0]))
        self._label(label, _around(*box, "entry"), priority=0, leader=leader, cls="entry")
        return f'<g class="decisive-hits case">{rings}</g>'

    def _mistake_label(self) -> str:
        d = self.decisive
        assert d is not None
        when = self._clock(d["entry"], False)
        ev = upstream_evidence(self.e)
        if ev is None:
            return f"{self.words['fix']} {when}"
        if ev.get("unit") == "ms":
            return self.words["fix-slip"].format(when=when, read=self._clock(ev["t"], False))
        what = self.words["fence" if str(ev.get("how", "")).startswith("fences") else "fix"]
        label = self.words["fix-moved"].format(when=when, what=what, shift=f"{ev['shift']:.0f}")
        moved_to = ev.get("moved_to")
        if moved_to:
            label += (" " + str(moved_to)) if self.lang == "en" else ""
        return label

    # -- furniture ---------------------------------------------------------------------------

    def _scale_bar(self) -> str:
        length = round_length((self.extent[2] - self.extent[0]) / 5.0)
        width = length * self.view.k
        text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
        x, y = 24.0, SIZE - 30.0
        return (
            f'<g class="scale-bar" data-length-m="{length:g}">'
            f'<rect x="{x - 12:g}" y="{y - 40:g}" width="{width + 24:.1f}" height="58" '
            'fill="#ffffff" fill-opacity="0.85" stroke="#bbbbbb"/>'
            f'<path d="M{x:g},{y - 8:g}V{y:g}H{x + width:.1f}V{y - 8:g}" fill="none" '
            'stroke="#000000" stroke-width="3"/>'
            f'<text x="{x + width / 2:.1f}" y="{y - 14:g}" text-anchor="middle">{text}</text></g>'
        )

    def _north(self) -> str:
        x, y = SIZE - 40.0, 24.0
        return (
            f'<g class="north"><path d="M{x:g},{y:g}L{x + 10:g},{y + 30:g}L{x:g},{y + 23:g}'
            f'L{x - 10:g},{y + 30:g}Z" fill="#333333"/>'
            f'<text x="{x:g}" y="{y + 56:g}" text-anchor="middle" font-weight="bold">'
            f"{self.words['north']}</text></g>"
        )

    def _outside_text(self) -> str:
        if self.outside == 1 and "outside-1" in self.words:
            return self.words["outside-1"]
        return self.words["outside"].format(n=f"{self.outside:,}")

    def _outside_note(self) -> str:
        """Say in the top left corner how many fixes the map does not show."""
        if not self.outside:
            return ""
        text = escape(self._outside_text())
        width = _text_width(self._outside_text()) + 16
        return (
            f'<g class="outside" data-fixes="{self.outside}">'
            f'<rect x="4" y="4" width="{width:.1f}" height="36" fill="#ffffff" '
            'fill-opacity="0.9" stroke="#bbbbbb"/>'
            f'<text x="12" y="30" fill="#444444">{text}</text></g>'
        )

    def _zone(self) -> str:
        zone = zone_label(self.e.tz, self.lang)
        text = escape(self.words["zone"].format(zone=zone))
        return (
            f'<text x="{SIZE - 12:g}" y="{SIZE - 12:g}" text-anchor="end" font-size="18" '
            f'fill="#444444" class="zone" paint-order="stroke" stroke="#ffffff" '
            f'stroke-width="5">{text}</text>'
        )

    def _legend(self) -> tuple[str, float]:
        order = [k for k in self.legend if k.startswith("kind:")]
        order += [
            k
            for k in (
                "margin",
                "place",
                "track",
                "gps",
                "coarse",
                "hits:credible",
                "hits:grazing",
                "hits:jump",
                "out-of-window",
                "decisive",
                "mistaken",
            )
            if k in self.legend
        ]
        columns, row_h, top = 2, 34.0, SIZE + 30.0
        items = []
        for n, key in enumerate(order):
            col, row = n % columns, n // columns
            x, y = 12.0 + col * SIZE / columns, top + row * row_h
            items.append(f'<g transform="translate({x:g},{y:g})">{self.legend[key]}</g>')
        rows = math.ceil(len(order) / columns)
        height = 30.0 + rows * row_h
        return f'<g class="legend" font-size="19">{"".join(items)}</g>', height

    # -- helpers -----------------------------------------------------------------------------

    def _label(
        self,
        text: str,
        spots: Sequence[tuple[float, float, str]],
        *,
        priority: int,
        colour: str = "#111111",
        leader: tuple[float, float] | None = None,
        weight: bool = False,
        cls: str = "label",
        data: str | None = None,
    ) -> None:
        """Ask for a label at the first of ``spots`` (x, y, anchor) where it overlaps nothing."""
        self.requests.append(
            {
                "text": text,
                "spots": list(spots),
                "priority": priority,
                "colour": colour,
                "leader": leader,
                "weight": weight,
                "cls": cls,
                "data": data,
            }
        )

    def _place_labels(self) -> str:
        """Place the labels asked for, most important first, each where it overlaps nothing.

        A label goes to the first of its spots that stays inside the map and
        overlaps no label placed before it and no obstacle (the decisive fixes,
        the scale bar, the north arrow, the zone note); when every spot is taken,
        to its first spot, nudged inside the map.
        """
        placed: list[Box] = list(self.obstacles)
        out = []
        for req in sorted(self.requests, key=lambda r: r["priority"]):
            text = req["text"]
            width = _text_width(text)
            boxes = [(spot, _label_box(spot, width)) for spot in req["spots"]]
            free = [
                (spot, box)
                for spot, box in boxes
                if _inside(box) and not any(_overlap(box, other) for other in placed)
            ]
            spot, box = free[0] if free else boxes[0]
            x, y, anchor = spot
            if not free:  # nudge it inside the map
                x += max(0.0, 6.0 - box[0]) - max(0.0, box[2] - (SIZE - 6.0))
                y += max(0.0, 24.0 - y) - max(0.0, y - (SIZE - 8.0))
                box = _label_box((x, y, anchor), width)
            placed.append(box)
            line = ""
            if req["leader"] is not None:
                lx, ly = req["leader"]
                tx = min(max(lx, box[0]), box[2])
                ty = box[3] if ly > box[3] else box[1] if ly < box[1] else (box[1] + box[3]) / 2
                line = (
                    f'<line x1="{lx:.1f}" y1="{ly:.1f}" x2="{tx:.1f}" y2="{ty:.1f}" '
                    'stroke="#111111" stroke-width="1.2"/>'
                )
            data = req["data"]
            extra = f' data-label-for="{escape(data)}"' if data is not None else ""
            bold = ' font-weight="bold"' if req["weight"] else ""
            out.append(
                f'<g class="{req["cls"]}"{extra}>{line}<text x="{x:.1f}" y="{y:.1f}" '
                f'text-anchor="{anchor}" fill="{req["colour"]}"{bold} paint-order="stroke" '
                'stroke="#ffffff" stroke-width="5" stroke-linejoin="round">'
                f"{escape(text)}</text></g>"
            )
        return "".join(out)

    def _d(self, geometry: Any) -> str:
        """An SVG path of a (multi)polygon's rings (holes by the even-odd rule)."""
        rings = []
        for part in shapely.get_parts(geometry):
            if part.geom_type != "Polygon" or part.is_empty:
                continue
            for ring in (part.exterior, *part.interiors):
                xy = np.asarray(ring.coords)
                rings.append("M" + self._points(xy[:, 0], xy[:, 1]) + "Z")
        return "".join(rings)

    def _points(self, x: ArrayLike, y: ArrayLike) -> str:
        px, py = self.view.x(x), self.view.y(y)
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px.tolist(), py.tolist(), strict=True))

    def _clock(self, when: Any, with_date: bool | None = None) -> str:
        days = self.e.lookback_s > 86_400 if with_date is None else with_date
        if when is None:
            return "?"
        pattern = "%m-%d %H:%M" if days else "%H:%M"
        try:
            return format_local(when, self.e.tz, pattern=pattern, show_zone=False)
        except (OptionError, ValueError):
            return "?"

    def _legend_text(self, text: str) -> str:
        return f'<text x="36" y="7">{escape(text)}</text>'

    def _swatch_fill(self, colour: str, text: str) -> str:
        return (
            f'<rect x="2" y="-10" width="24" height="20" fill="{colour}" fill-opacity="0.38" '
            f'stroke="{colour}" stroke-width="2"/>' + self._legend_text(text)
        )

    def _swatch_margin(self) -> str:
        return (
            '<rect x="2" y="-10" width="24" height="20" fill="none" stroke="#666666" '
            'stroke-width="2" stroke-dasharray="5 3"/>' + self._legend_text(self.words["margin"])
        )

    def _swatch_line(self, colour: str, text: str, dash: str | None = None) -> str:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        return (
            f'<path d="M0,0H28" stroke="{colour}" stroke-width="2.5"{dashed}/>'
            + self._legend_text(text)
        )


def _hit_mark(kind: str, x: float, y: float) -> str:
    """A hit's marker: a dot, or a cross for a hit on a location jump."""
    if kind == "jump":
        r = 7.0
        return (
            f'<path d="M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}'
            f'L{x + r:.1f},{y - r:.1f}" stroke="{HIT_STYLES["jump"][0]}" stroke-width="4"/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6.5"/>'


def _ring(x: float, y: float) -> str:
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="12" fill="none" stroke="{_DECISIVE_STROKE}" '
        'stroke-width="2.2"/>'
    )


def _around(x0: float, y0: float, x1: float, y1: float, end: str) -> list[tuple[float, float, str]]:
    """Spots for a label next to a box of fixes: entries above it first, exits below."""
    above = [(x0 - 4, y0 - 10, "end"), (x0, y0 - 10, "start"), (x1 + 4, y0 - 10, "start")]
    above.append((x0, y0 - 44, "start"))
    below = [(x1 + 4, y1 + 28, "start"), (x1, y1 + 28, "end"), (x0 - 4, y1 + 28, "end")]
    below.append((x1, y1 + 60, "end"))
    sides = [(x0 - 10, (y0 + y1) / 2 + 8, "end"), (x1 + 10, (y0 + y1) / 2 + 8, "start")]
    far = [(x0, y0 - 80, "start"), (x1, y1 + 96, "end")]
    return above + below + sides + far if end == "entry" else below + above + sides[::-1] + far


def _label_box(spot: tuple[float, float, str], width: float) -> Box:
    """The box a label's text takes at a spot (x, baseline y, anchor), with a little air."""
    x, y, anchor = spot
    left = x if anchor == "start" else x - width if anchor == "end" else x - width / 2
    return (left - 3, y - _FONT * 0.85 - 3, left + width + 3, y + _FONT * 0.25 + 3)


def _inside(box: Box) -> bool:
    return box[0] >= 2 and box[1] >= 2 and box[2] <= SIZE - 2 and box[3] <= SIZE - 2


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _darker(colour: str, keep: float = 0.62) -> str:
    """A colour darkened towards black, for text that must read on white.

    Examples
    --------
    >>> _darker("#f4d03f")
    '#978127'
    """
    r, g, b = (int(colour[k : k + 2], 16) for k in (1, 3, 5))
    return "#" + "".join(f"{round(c * keep):02x}" for c in (r, g, b))


def _text_width(text: str) -> float:
    """A rough width of a label in SVG units (wide characters count double)."""
    return sum(_FONT * (1.0 if ord(c) > 0x2E80 else 0.53) for c in text)


def _ms(when: Any) -> int | None:
    """UTC milliseconds of an ISO time (or of milliseconds); None for a missing one."""
    if when is None or (isinstance(when, float) and math.isnan(when)):
        return None
    if isinstance(when, (int, np.integer)):
        return int(when)
    text = str(when)
    if text in ("", "NaT", "None"):
        return None
    try:
        return int(parse_time(text, tz="UTC"))
    except (OptionError, ValueError):
        return None
