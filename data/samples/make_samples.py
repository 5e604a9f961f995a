"""Write fencecheck's bundled sample data: ``fences.geojson`` and ``pings.csv``.

Run from the repository root::

    python data/samples/make_samples.py

The output is synthetic and deterministic (seeded): seven fictional fences around one made-up
compound in a Beijing residential neighbourhood (回龙观, about 116.33 E, 40.07 N) in late April
and early May 2022, and eight fictional people, each with one story that fencecheck should tell
apart (see README.md next to this file). The names and shapes are invented; they are not real
boundaries, and the people are not real people.

Conventions, as in docs/contract.md:
- coordinates are WGS-84 longitude/latitude (fences to 7 decimals, pings to 6);
- every time is written in ISO 8601 with an explicit +08:00 offset (Beijing time);
- distances are laid out in metres in a local east/north frame and turned into degrees with
  the WGS-84 radii of curvature at that latitude (longitude scaled by cos(lat)), never by
  treating degrees as metres.

Only numpy and the standard library are needed, plus ``fencecheck.datums`` from ``src/`` for
the published WGS-84 -> GCJ-02 conversion (one person's story is a datum mix-up).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# The files ship inside the package (``fencecheck demo`` after a plain pip install);
# data/samples/fences.geojson and pings.csv are links to them.
OUT = REPO / "src" / "fencecheck" / "samples"
SEED = 20220502
rng = np.random.default_rng(SEED)

BEIJING = timezone(timedelta(hours=8))

# ---------------------------------------------------------------------------------------------
# A local metric frame: metres east and north of one origin in the neighbourhood.
# ---------------------------------------------------------------------------------------------

ORIGIN_LON = 116.330
ORIGIN_LAT = 40.070

WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_E2 = WGS84_F * (2 - WGS84_F)


def radii_of_curvature(lat_deg: float) -> tuple[float, float]:
    """Return (M, N) in metres: meridian and prime-vertical radii of curvature at lat_deg."""
    s = math.sin(math.radians(lat_deg))
    w2 = 1 - WGS84_E2 * s * s
    m = WGS84_A * (1 - WGS84_E2) / w2**1.5
    n = WGS84_A / math.sqrt(w2)
    return m, n


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """Move (lon, lat) by east_m metres east and north_m metres north."""
    m, _ = radii_of_curvature(lat)
    new_lat = lat + math.degrees(north_m / m)
    mid_lat = (lat + new_lat) / 2
    _, n = radii_of_curvature(mid_lat)
    new_lon = lon + math.degrees(east_m / (n * math.cos(math.radians(mid_lat))))
    return new_lon, new_lat


def at(east_m: float, north_m: float) -> tuple[float, float]:
    """Return the (lon, lat) of a spot east_m / north_m metres from the neighbourhood origin."""
    return offset(ORIGIN_LON, ORIGIN_LAT, east_m, north_m)


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the distance in metres between two nearby (lon, lat) points (local scale)."""
    mid_lat = (a[1] + b[1]) / 2
    m, n = radii_of_curvature(mid_lat)
    east = math.radians(b[0] - a[0]) * n * math.cos(math.radians(mid_lat))
    north = math.radians(b[1] - a[1]) * m
    return math.hypot(east, north)


def gcj02_position_of(lon: float, lat: float) -> tuple[float, float]:
    """Return the GCJ-02 coordinates of a WGS-84 point, with fencecheck's own converter."""
    sys.path.insert(0, str(REPO / "src"))
    from fencecheck.datums import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(lon, lat)
    return float(glon), float(glat)


# ---------------------------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------------------------


def bj(text: str) -> datetime:
    """Parse a Beijing wall-clock time such as "2022-05-01 08:00" into an aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def iso(t: datetime) -> str:
    """Write an aware datetime as ISO 8601 with its +08:00 offset, to the second."""
    return t.astimezone(BEIJING).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------------------------
# Trajectory builders
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fix:
    """One location record, before it gets a person id."""

    t: datetime
    lon: float
    lat: float
    accuracy_m: float
    source: str


Accuracy = float | tuple[float, float]


def _draw_accuracy(accuracy: Accuracy) -> float:
    """Return a fixed accuracy, or a whole number of metres drawn from a (low, high) range."""
    if isinstance(accuracy, tuple):
        return float(round(rng.uniform(*accuracy)))
    return float(accuracy)


def _noisy_fix(t: datetime, lon: float, lat: float, accuracy: Accuracy, source: str) -> Fix:
    """Return a fix near (lon, lat), off by a small random error in metres.

    The error is drawn with a standard deviation of a third of the stated accuracy per axis,
    smaller than a real receiver's (accuracy is the 68 % radius), so the stories stay clean.
    """
    acc = _draw_accuracy(accuracy)
    east, north = rng.normal(0.0, acc / 3, size=2)
    lon2, lat2 = offset(lon, lat, float(east), float(north))
    return Fix(t, lon2, lat2, acc, source)


def _next_time(t: datetime, every_s: float) -> datetime:
    """Return t plus every_s seconds, give or take up to 10 % (whole seconds)."""
    step = every_s * rng.uniform(0.9, 1.1)
    return t + timedelta(seconds=round(step))


def stay_at(
    lon: float,
    lat: float,
    start: datetime,
    minutes: float,
    every_s: float,
    accuracy: Accuracy,
    source: str = "gps",
    wander_m: float = 0.0,
) -> list[Fix]:
    """Fixes of someone who stays at one place from start for the given minutes.

    wander_m is how far (standard deviation, metres) the person moves around the place, e.g.
    inside a flat or along the aisles of a shop. The last fix is no later than start+minutes.
    """
    end = start + timedelta(minutes=minutes)
    fixes = []
    t = start
    while t <= end:
        east, north = rng.normal(0.0, wander_m, size=2) if wander_m else (0.0, 0.0)
        here = offset(lon, lat, float(east), float(north))
        fixes.append(_noisy_fix(t, *here, accuracy, source))
        t = _next_time(t, every_s)
    return fixes


def travel_along(
    points: Sequence[tuple[float, float]],
    start: datetime,
    speed_kmh: float,
    every_s: float,
    accuracy: Accuracy,
    source: str = "gps",
) -> list[Fix]:
    """Fixes of someone moving along a polyline of (lon, lat) points at a steady speed.

    The first fix is at the first point at start, the last one at the last point on arrival.
    """
    legs = [metres_between(a, b) for a, b in itertools.pairwise(points)]
    total_m = sum(legs)
    speed_ms = speed_kmh / 3.6
    arrival = start + timedelta(seconds=round(total_m / speed_ms))

    def position(done_m: float) -> tuple[float, float]:
        for (a, b), leg in zip(itertools.pairwise(points), legs, strict=True):
            if done_m <= leg:
                f = done_m / leg if leg else 0.0
                return a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])
            done_m -= leg
        return points[-1]

    fixes = []
    t = start
    while t < arrival:
        done_m = (t - start).total_seconds() * speed_ms
        fixes.append(_noisy_fix(t, *position(done_m), accuracy, source))
        t = _next_time(t, every_s)
    fixes.append(_noisy_fix(arrival, *points[-1], accuracy, source))
    return fixes


def drive_along(
    points: Sequence[tuple[float, float]],
    start: datetime,
    speed_kmh: float,
    every_s: float,
    accuracy: Accuracy = (5, 12),
) -> list[Fix]:
    """GPS fixes of a car driven along the points at speed_kmh."""
    return travel_along(points, start, speed_kmh, every_s, accuracy, "gps")


def walk_along(
    points: Sequence[tuple[float, float]],
    start: datetime,
    every_s: float,
    accuracy: Accuracy = (6, 15),
    speed_kmh: float = 4.8,
) -> list[Fix]:
    """GPS fixes of a walk along the points (4.8 km/h unless told)."""
    return travel_along(points, start, speed_kmh, every_s, accuracy, "gps")


def jog_loops(
    centre: tuple[float, float],
    radius_m: float,
    start: datetime,
    minutes: float,
    every_s: float,
    speed_kmh: float = 10.0,
    accuracy: Accuracy = (5, 10),
) -> list[Fix]:
    """GPS fixes of a run round a circular path of radius_m metres around centre."""
    speed_ms = speed_kmh / 3.6
    end = start + timedelta(minutes=minutes)
    fixes = []
    t = start
    while t <= end:
        angle = (t - start).total_seconds() * speed_ms / radius_m
        here = offset(*centre, radius_m * math.cos(angle), radius_m * math.sin(angle))
        fixes.append(_noisy_fix(t, *here, accuracy, "gps"))
        t = _next_time(t, every_s)
    return fixes


def single_fix(lon: float, lat: float, t: datetime, accuracy: float, source: str) -> Fix:
    """One fix exactly where it is put (a cell-tower fix, a mislocated Wi-Fi fix, ...)."""
    return Fix(t, lon, lat, float(accuracy), source)


def last_time(fixes: list[Fix]) -> datetime:
    """Return the time of the last fix of a trajectory piece."""
    return fixes[-1].t


# ---------------------------------------------------------------------------------------------
# Fence builders
# ---------------------------------------------------------------------------------------------

Ring = list[list[float]]


def _ring(points_m: Sequence[tuple[float, float]], clockwise: bool) -> Ring:
    """A closed lon/lat ring (7 decimals) from metre offsets, in the orientation asked for."""
    coords = [[round(c, 7) for c in at(east, north)] for east, north in points_m]
    # Shoelace sum: positive for a counter-clockwise ring (lon east, lat north).
    area2 = sum(
        x1 * y2 - x2 * y1
        for (x1, y1), (x2, y2) in zip(coords, coords[1:] + coords[:1], strict=True)
    )
    if (area2 < 0) != clockwise:
        coords.reverse()
    return [*coords, coords[0]]


def polygon_rings(
    exterior_m: Sequence[tuple[float, float]],
    holes_m: Sequence[Sequence[tuple[float, float]]] = (),
) -> list[Ring]:
    """RFC 7946 polygon coordinates: exterior counter-clockwise, holes clockwise."""
    return [_ring(exterior_m, clockwise=False)] + [_ring(h, clockwise=True) for h in holes_m]


def fence(
    fence_id: str,
    name: str,
    kind: str,
    geometry: dict[str, object],
    *,
    window: tuple[str, str | None] | None = None,
    windows: list[tuple[str, str]] | None = None,
    buffer_m: float | None = None,
) -> dict[str, object]:
    """A GeoJSON Feature with fencecheck's fence properties."""
    props: dict[str, object] = {"id": fence_id, "name": name, "kind": kind}
    if window is not None:
        props["start"], props["end"] = window
    if windows is not None:
        props["windows"] = [list(w) for w in windows]
    if buffer_m is not None:
        props["buffer_m"] = buffer_m
    return {"type": "Feature", "properties": props, "geometry": geometry}


# ---------------------------------------------------------------------------------------------
# The fences (metres east / north of the origin; all names and shapes are invented)
# ---------------------------------------------------------------------------------------------

# Compound 1: the sealed compound, about 170 m x 125 m around the origin.
SEALED_1_M = [(-80, -60), (80, -60), (85, 40), (60, 65), (-75, 65), (-85, 20)]
# The controlled area: a 400 m x 325 m block around compound 1, with compound 1 cut out.
CONTROLLED_1_OUTER_M = [(-200, -165), (205, -160), (200, 165), (-195, 160)]
# The precaution area: the block east of the controlled area, across a street.
PRECAUTION_1_M = [(265, -185), (640, -200), (665, 195), (420, 215), (270, 190)]
# Two sealed residential buildings, 100 m x 35 m each, 75 m apart, north-west.
BUILDING_3_M = [(-770, 412), (-670, 412), (-670, 447), (-770, 447)]
BUILDING_7_M = [(-740, 522), (-640, 522), (-640, 557), (-740, 557)]
# Compound 5, south-west; its fence was drawn 30 m wider than the compound.
SEALED_2_M = [(-700, -630), (-500, -640), (-490, -500), (-600, -470), (-705, -490)]
# The supermarket a confirmed case visited, known only by its address: a point.
VENUE_M = (250, -520)
# An office building declared a risk area twice.
RISK_3_M = [(-240, 590), (-60, 595), (-55, 705), (-245, 710)]
RISK_3_INSIDE_M = (-150, 650)  # a spot well inside it

VENUE_WINDOW = ("2022-05-01T14:00:00+08:00", "2022-05-01T17:00:00+08:00")

FENCES = [
    fence(
        "F-sealed-1",
        "景和嘉园1号院",  # sealed compound
        "sealed",
        {"type": "Polygon", "coordinates": polygon_rings(SEALED_1_M)},
        window=("2022-04-29T18:00:00+08:00", "2022-05-07"),
    ),
    fence(
        "F-controlled-1",
        "景和嘉园1号院周边",  # controlled area around compound 1
        "controlled",
        {
            "type": "Polygon",
            "coordinates": polygon_rings(CONTROLLED_1_OUTER_M, holes_m=[SEALED_1_M]),
        },
        window=("2022-04-29T18:00:00+08:00", None),
    ),
    fence(
        "F-precaution-1",
        "景和东区",  # precaution area, east block
        "precaution",
        {"type": "Polygon", "coordinates": polygon_rings(PRECAUTION_1_M)},
        window=("2022-04-30", "2022-05-07T00:00:00+08:00"),
    ),
    fence(
        "F-buildings-2",
        "安泽园3号楼、7号楼",  # two sealed buildings
        "sealed",
        {
            "type": "MultiPolygon",
            "coordinates": [polygon_rings(BUILDING_3_M), polygon_rings(BUILDING_7_M)],
        },
        window=("2022-05-01T12:00:00+08:00", "2022-05-08T12:00:00+08:00"),
    ),
    fence(
        "F-sealed-2",
        "和乐苑5区",  # sealed compound, fence drawn 30 m wider
        "sealed",
        {"type": "Polygon", "coordinates": polygon_rings(SEALED_2_M)},
        window=("2022-05-02T08:00:00+08:00", "2022-05-09T08:00:00+08:00"),
        buffer_m=30,
    ),
    fence(
        "F-venue-1",
        "惠家超市",  # risk venue: supermarket visited by a confirmed case
        "risk_venue",
        {"type": "Point", "coordinates": [round(c, 7) for c in at(*VENUE_M)]},
        window=VENUE_WINDOW,
        buffer_m=50,
    ),
    fence(
        "F-risk-3",
        "东晟大厦",  # office building, risk area on two separate periods
        "risk_area",
        {"type": "Polygon", "coordinates": polygon_rings(RISK_3_M)},
        windows=[
            ("2022-04-30T08:00:00+08:00", "2022-04-30T22:00:00+08:00"),
            ("2022-05-03", "2022-05-05"),
        ],
    ),
]


# ---------------------------------------------------------------------------------------------
# The people: one story each (README.md gives the expected verdicts and the numbers)
# ---------------------------------------------------------------------------------------------


def p01_resident_of_sealed_compound() -> list[Fix]:
    """Stays at home inside F-sealed-1 for six hours on 1 May, GPS every ~5 min: exposed."""
    home = at(-10, 0)  # 60 m or more from every edge of the compound
    return stay_at(
        *home, bj("2022-05-01 08:00"), minutes=6 * 60, every_s=300, accuracy=(8, 20), wander_m=8
    )


def p02_driver_through_controlled_and_precaution() -> list[Fix]:
    """Drives east along the street through F-controlled-1 and F-precaution-1: passed_through."""
    road_y = 112  # between compound 1's north edge (y <= 65) and the block's (y >= 160)
    route = [at(-1500, road_y), at(1000, road_y), at(1000, 900)]
    return drive_along(route, bj("2022-05-01 08:30"), speed_kmh=40, every_s=10)


def p03_cell_fixes_near_precaution_area() -> list[Fix]:
    """At home ~810 m from F-precaution-1; three cell fixes graze it: false_trigger."""
    home = at(1450, -260)
    fixes = stay_at(
        *home,
        bj("2022-05-02 10:00"),
        minutes=10 * 60,
        every_s=1200,
        accuracy=(25, 40),
        source="wifi",
        wander_m=5,
    )
    # Wi-Fi off in the underground garage for a while: the phone falls back to the cell
    # network, which places it at the serving tower, ~760 m from the precaution area.
    tower = at(1400, -150)
    for clock, acc in [("14:05:12", 900), ("14:21:40", 1000), ("14:38:05", 950)]:
        fixes.append(single_fix(*tower, bj(f"2022-05-02 {clock}"), acc, "cell"))
    return fixes


def p04_jogger_with_one_wifi_jump() -> list[Fix]:
    """Runs laps in a park; a single Wi-Fi fix jumps into F-sealed-2 and back: false_trigger."""
    park = at(-600, -1180)  # the loop is >= 400 m from F-sealed-2 and its 30 m margin
    fixes = jog_loops(park, radius_m=110, start=bj("2022-05-03 06:30"), minutes=20, every_s=10)
    # A Wi-Fi access point that moved house: its fix puts the runner in compound 5.
    previous = [f for f in fixes if f.t <= bj("2022-05-03 06:41:00")][-1]
    jump_t = previous.t + timedelta(seconds=4)
    fixes.append(single_fix(*at(-595, -555), jump_t, 30, "wifi"))
    return fixes


def p05_early_shopper_timezone() -> list[Fix]:
    """Shops at the risk venue 07:05-07:30, 8 h before the case's visit: false_trigger."""
    home = at(720, -880)
    shop = at(245, -515)
    way_there = [home, at(600, -700), at(300, -560), shop]
    fixes = stay_at(
        *home,
        bj("2022-05-01 06:30"),
        minutes=20,
        every_s=300,
        accuracy=(20, 40),
        source="wifi",
        wander_m=4,
    )
    fixes += walk_along(way_there, bj("2022-05-01 06:57"), every_s=30)
    assert last_time(fixes) < bj("2022-05-01 07:05")
    fixes += stay_at(
        *shop,
        bj("2022-05-01 07:05"),
        minutes=25,
        every_s=120,
        accuracy=(20, 25),
        source="wifi",
        wander_m=6,
    )
    fixes += walk_along(way_there[::-1], bj("2022-05-01 07:31"), every_s=30)
    fixes += stay_at(
        *home,
        last_time(fixes) + timedelta(minutes=3),
        minutes=20,
        every_s=300,
        accuracy=(20, 40),
        source="wifi",
        wander_m=4,
    )
    return fixes


def p06_office_east_of_risk_area_datum() -> list[Fix]:
    """Works ~440 m east of F-risk-3: where its GCJ-02 coordinates would point: false_trigger.

    The office sits where the GCJ-02 coordinates of a spot inside F-risk-3 lie when read as
    WGS-84. A fence drawn on a GCJ-02 map and used as WGS-84 lands on her office; so do her
    own pings when they are wrongly "converted" from GCJ-02 to WGS-84.
    """
    office = gcj02_position_of(*at(*RISK_3_INSIDE_M))
    return stay_at(
        *office,
        bj("2022-05-03 09:00"),
        minutes=3 * 60,
        every_s=600,
        accuracy=(20, 35),
        source="wifi",
        wander_m=6,
    )


def p07_shopper_during_case_visit() -> list[Fix]:
    """Shops at the risk venue 15:05-15:25 on 1 May, while it is active: exposed."""
    home = at(-150, -950)
    shop = at(255, -522)
    way_there = [home, at(0, -800), at(200, -560), shop]
    fixes = walk_along(way_there, bj("2022-05-01 14:57"), every_s=30)
    assert last_time(fixes) < bj("2022-05-01 15:05")
    fixes += stay_at(
        *shop,
        bj("2022-05-01 15:05"),
        minutes=20,
        every_s=120,
        accuracy=(20, 25),
        source="wifi",
        wander_m=6,
    )
    fixes += walk_along(way_there[::-1], bj("2022-05-01 15:26"), every_s=30)
    return fixes


def p008_neighbour_without_any_hit() -> list[Fix]:
    """Lives in the south-east of the neighbourhood, nowhere near a fence: no hit."""
    home = at(1150, -1050)
    bakery = at(1300, -800)
    fixes = stay_at(
        *home,
        bj("2022-05-02 07:30"),
        minutes=90,
        every_s=900,
        accuracy=(20, 40),
        source="wifi",
        wander_m=4,
    )
    fixes += walk_along([home, at(1250, -1000), bakery], bj("2022-05-02 09:05"), every_s=60)
    fixes += stay_at(
        *bakery,
        last_time(fixes) + timedelta(minutes=1),
        minutes=10,
        every_s=300,
        accuracy=(20, 30),
        source="wifi",
        wander_m=4,
    )
    fixes += walk_along(
        [bakery, at(1250, -1000), home], last_time(fixes) + timedelta(minutes=1), every_s=60
    )
    fixes += stay_at(
        *home,
        last_time(fixes) + timedelta(minutes=5),
        minutes=90,
        every_s=900,
        accuracy=(20, 40),
        source="wifi",
        wander_m=4,
    )
    return fixes


# ---------------------------------------------------------------------------------------------
# Confirmed cases (cases.csv): phones that are moving fences, for the companion rule
# ---------------------------------------------------------------------------------------------


def c01_baker() -> list[Fix]:
    """Works at the bakery on 2 May, 08:30-10:30: 008 buys bread beside her: exposed."""
    return stay_at(
        *at(1300, -800),
        bj("2022-05-02 08:30"),
        minutes=120,
        every_s=120,
        accuracy=(6, 12),
        source="gps",
        wander_m=3,
    )


def c02_office_worker() -> list[Fix]:
    """Sits all morning 3 May in an office ~700 m from P06, in the same 800 m grid cell."""
    return stay_at(
        *at(60, 140),
        bj("2022-05-03 08:45"),
        minutes=200,
        every_s=120,
        accuracy=(8, 15),
        source="gps",
        wander_m=3,
    )


def c03_dog_walker() -> list[Fix]:
    """Crosses the park on 3 May, 06:34-06:52, passing P04 at its loop once: passed_through."""
    return walk_along(
        [at(-1100, -1290), at(-600, -1290), at(-100, -1290)], bj("2022-05-03 06:34"), every_s=60
    )


CASES = {"C01": c01_baker, "C02": c02_office_worker, "C03": c03_dog_walker}


PEOPLE = {
    "P01": p01_resident_of_sealed_compound,
    "P02": p02_driver_through_controlled_and_precaution,
    "P03": p03_cell_fixes_near_precaution_area,
    "P04": p04_jogger_with_one_wifi_jump,
    "P05": p05_early_shopper_timezone,
    "P06": p06_office_east_of_risk_area_datum,
    "P07": p07_shopper_during_case_visit,
    "008": p008_neighbour_without_any_hit,  # a leading zero: ids are strings
}


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def write_fences(path: Path) -> None:
    """Write the fences as an RFC 7946 FeatureCollection, one property/geometry line each."""
    parts = []
    for feature in FENCES:
        props = json.dumps(feature["properties"], ensure_ascii=False)
        geometry = json.dumps(feature["geometry"])
        parts.append(
            f'  {{"type": "Feature",\n   "properties": {props},\n   "geometry": {geometry}}}'
        )
    text = '{"type": "FeatureCollection",\n "features": [\n' + ",\n".join(parts) + "\n ]}\n"
    json.loads(text)  # it must stay valid JSON
    path.write_text(text, encoding="utf-8")


def write_pings(path: Path, people: dict[str, list[Fix]]) -> int:
    """Write the pings as UTF-8 CSV sorted by person then time; return the number of rows."""
    rows = [(pid, fix) for pid, fixes in people.items() for fix in fixes]
    rows.sort(key=lambda row: (row[0], row[1].t))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["person_id", "t", "lon", "lat", "accuracy_m", "source"])
        for pid, fix in rows:
            writer.writerow(
                [
                    pid,
                    iso(fix.t),
                    f"{fix.lon:.6f}",
                    f"{fix.lat:.6f}",
                    f"{fix.accuracy_m:g}",
                    fix.source,
                ]
            )
    return len(rows)


def main() -> None:
    """Rebuild fences.geojson, pings.csv and cases.csv in the package's samples folder."""
    people = {pid: story() for pid, story in PEOPLE.items()}
    write_fences(OUT / "fences.geojson")
    n = write_pings(OUT / "pings.csv", people)
    cases = {cid: story() for cid, story in CASES.items()}
    m = write_pings(OUT / "cases.csv", cases)
    print(f"wrote {OUT / 'fences.geojson'} ({len(FENCES)} fences)")
    print(f"wrote {OUT / 'pings.csv'} ({n} pings)")
    print(f"wrote {OUT / 'cases.csv'} ({m} pings of {len(cases)} confirmed cases)")
    for pid, fixes in people.items():
        first, last = min(f.t for f in fixes), max(f.t for f in fixes)
        print(f"  {pid}: {len(fixes):4d} pings, {iso(first)} .. {iso(last)}")


if __name__ == "__main__":
    main()
