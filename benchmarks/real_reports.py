"""Reports on real GeoLife days: stays, passages with grazing cell fixes, and what the text says.

A labelled set from real trajectories (``../shared/data/geolife``, users 001 and 005):
every day with at least 500 fixes in Beijing gives two people, each moved to a date of
its own in May-August 2022 (times of day kept):

- ``<day>/stay``: a sealed 200 m square around the 100 m cell where the day spent the
  most time (at least 20 minutes): labelled ``exposed``;
- ``<day>/drive``: a sealed 150 m square around the middle of the day's longest run of
  fixes at 10-30 m/s (at a place the day spent under 3 minutes near), plus four simulated
  cell fixes (850-1,200 m accuracy, 500-900 m from the fence, 7 and 4 minutes before and
  after the drive fix), the seed's driver on a ring road: labelled ``passed_through``;
- ``<day>/graze``: the same four cell fixes around a 150 m square that none of the day's
  GPS fixes comes within 1.5 km of: labelled ``false_trigger``.

It prints, in disc mode: how each label was judged, how many passers-by were told they
stayed, and how many reports name their fence (by id) in both languages. The same script
runs on an older checkout (``PYTHONPATH=<old>/src``) for before/after figures.

    .venv/bin/python benchmarks/real_reports.py
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import shapely

import fencecheck as fc

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "geolife"
DAY_MS = 86_400_000
FIRST_DAY = 1_651_363_200_000  # 2022-05-01T00:00Z
NAMES = {"stay": "住宅", "drive": "路段", "graze": "小区"}


def _columns(path: Path) -> dict[str, Any]:
    pings = fc.read_pings(path, columns={"user_id": "person_id"}, tz="UTC")
    return {
        "person": pings.person_ids(),
        "t": pings.t,
        "lon": pings.lon,
        "lat": pings.lat,
    }


def _longest_stay(t: Any, x: Any, y: Any) -> tuple[float, float, float]:
    key = np.floor(x / 100.0) * 1e6 + np.floor(y / 100.0)
    dt = np.minimum(np.diff(t, append=t[-1]), 300_000)
    _, inverse = np.unique(key, return_inverse=True)
    time_in = np.bincount(inverse, weights=dt)
    best = int(np.argmax(time_in))
    inside = inverse == best
    return float(np.median(x[inside])), float(np.median(y[inside])), float(time_in[best])


def _drive(t: Any, x: Any, y: Any) -> int | None:
    """The middle fix of the longest run at 10-30 m/s whose place the day spent < 3 min near."""
    speed = np.hypot(np.diff(x), np.diff(y)) / np.maximum(np.diff(t) / 1000, 1)
    fast = np.concatenate([[False], (speed > 10) & (speed < 30), [False]])
    runs = np.flatnonzero(np.diff(fast.astype(np.int8))).reshape(-1, 2)
    dt = np.minimum(np.diff(t, append=t[-1]), 300_000)
    for k in np.argsort(runs[:, 0] - runs[:, 1], kind="stable"):  # longest first
        lo, hi = runs[k]
        if hi - lo < 10:
            return None
        mid = int(lo + (hi - lo) // 2)
        near = np.hypot(x - x[mid], y - y[mid]) < 150.0
        if dt[near].sum() < 3 * 60_000:
            return mid
    return None


def _far_spot(x: Any, y: Any, sx: float, sy: float) -> tuple[float, float]:
    """A spot 2-6 km from the stay that none of the day's fixes comes within 1.5 km of."""
    for distance in (2000.0, 3000.0, 4000.0, 6000.0):
        for angle in np.linspace(0, 2 * np.pi, 16, endpoint=False):
            px, py = sx + distance * np.cos(angle), sy + distance * np.sin(angle)
            if np.min(np.hypot(x - px, y - py)) > 1500.0:
                return float(px), float(py)
    return sx + 20_000.0, sy


def build() -> tuple[fc.PingTable, fc.FenceIndex, dict[str, tuple[str, str]]]:
    """The labelled people, their fences, and per person (label, fence id)."""
    raw = _columns(DATA / "geolife_sample_skmob_users001_005.csv")
    inside = (raw["lon"] > 115.4) & (raw["lon"] < 117.5) & (raw["lat"] > 39.4) & (raw["lat"] < 41.1)
    frame = fc.MetricFrame(116.35, 39.98)
    rng = np.random.default_rng(20221206)
    rows: dict[str, list[Any]] = {k: [] for k in ("person_id", "t", "lon", "lat", "accuracy_m",
                                                 "source")}  # fmt: skip
    records, labels = [], {}
    date = 0
    day_of = raw["t"] // DAY_MS
    for user in ("001", "005"):
        mine = (raw["person"] == user) & inside
        for day in np.unique(day_of[mine]):
            sel = np.flatnonzero(mine & (day_of == day))
            if sel.shape[0] < 500:
                continue
            t = raw["t"][sel]
            x, y = frame.to_xy(raw["lon"][sel], raw["lat"][sel])
            name = f"{user}-{int(day)}"
            sx, sy, stayed_ms = _longest_stay(t, x, y)
            drive = _drive(t, x, y)
            if stayed_ms < 20 * 60_000 or drive is None:
                continue
            away_from_all = _far_spot(x, y, sx, sy)
            for role in ("stay", "drive", "graze"):
                shift = FIRST_DAY + date * DAY_MS - int(day) * DAY_MS
                start, end = FIRST_DAY + date * DAY_MS, FIRST_DAY + (date + 1) * DAY_MS
                pid = f"{name}/{role}"
                n = sel.shape[0]
                rows["person_id"] += [pid] * n
                rows["t"] += (t + shift).tolist()
                rows["lon"] += raw["lon"][sel].tolist()
                rows["lat"] += raw["lat"][sel].tolist()
                rows["accuracy_m"] += [20.0] * n
                rows["source"] += ["gps"] * n
                cx, cy, half = {
                    "stay": (sx, sy, 100.0),
                    "drive": (x[drive], y[drive], 75.0),
                    "graze": (*away_from_all, 75.0),
                }[role]
                if role != "stay":
                    for minutes in (-7, -4, 4, 7):
                        angle, away = rng.uniform(0, 2 * np.pi), rng.uniform(500, 900)
                        lon, lat = frame.to_lonlat(
                            np.array([cx + away * np.cos(angle)]),
                            np.array([cy + away * np.sin(angle)]),
                        )
                        rows["person_id"].append(pid)
                        rows["t"].append(int(t[drive] + shift + minutes * 60_000 + 1))
                        rows["lon"].append(float(lon[0]))
                        rows["lat"].append(float(lat[0]))
                        rows["accuracy_m"].append(float(rng.uniform(850, 1200)))
                        rows["source"].append("cell")
                box = shapely.box(cx - half, cy - half, cx + half, cy + half)
                fid = f"{role}-{name}"
                records.append({
                    "id": fid,
                    "name": NAMES[role] + f"{date:03d}",
                    "kind": "sealed",
                    "geometry": shapely.transform(
                        box, lambda c: np.column_stack(frame.to_lonlat(c[:, 0], c[:, 1]))
                    ),
                    "windows": [[start, end]],
                })  # fmt: skip
                labels[pid] = (
                    {"stay": "exposed", "drive": "passed_through", "graze": "false_trigger"}[role],
                    fid,
                )
                date += 1
    order = np.lexsort((np.array(rows["t"]), np.array(rows["person_id"])))
    columns = {k: np.array(v, dtype=object if k in ("person_id", "source") else None)[order]
               for k, v in rows.items()}  # fmt: skip
    pings = fc.read_pings(_frame(columns), epoch_unit="ms")
    fences = fc.FenceSet.from_records(
        [{**r, "windows": [[_iso(a), _iso(b)] for a, b in r["windows"]]} for r in records]
    )
    return pings, fc.FenceIndex(fences, frame), labels


def _frame(columns: dict[str, Any]) -> Any:
    import pandas as pd

    return pd.DataFrame(columns)


def _iso(ms: int) -> str:
    return str(np.datetime64(int(ms), "ms")) + "Z"


def main() -> int:
    if not DATA.exists():
        print(f"skipped: {DATA} is not there", file=sys.stderr)
        return 0
    pings, index, labels = build()
    started = time.perf_counter()
    explanations = fc.explain(pings, index, mode="disc", track=False)
    seconds = time.perf_counter() - started
    by_label: Counter[tuple[str, str]] = Counter()
    named = {"zh": 0, "en": 0}
    wrong_words = 0
    reasons: Counter[str] = Counter()
    for e in explanations:
        reasons.update(e.reasons)
        label, fid = labels[e.person_id]
        by_label[(label, e.verdict)] += 1
        for lang in named:
            named[lang] += fid in e.to_text(lang)
        text = e.to_text("en")
        wrong_words += ("at least 0 minutes" in text) or ("at least 1 minutes" in text)
    people = len(explanations)
    print(f"fencecheck {fc.__version__} from {Path(fc.__file__).parent}")
    print(f"{people} labelled people ({pings.rows_read:,} pings), {len(index)} fences; "
          f"explain in {seconds:.1f} s")  # fmt: skip
    for (label, verdict), n in sorted(by_label.items()):
        print(f"  labelled {label:<15} judged {verdict:<15} {n}")
    for reason, n in sorted(reasons.items()):
        print(f"  reason {reason}: {n}")
    passers = sum(n for (label, _), n in by_label.items() if label == "passed_through")
    told_to_stay = by_label[("passed_through", "exposed")]
    print(f"passers-by judged exposed: {told_to_stay} of {passers}")
    correct = sum(n for (label, verdict), n in by_label.items() if label == verdict)
    print(f"verdicts equal to the label: {correct} of {people}")
    print(f"reports naming their fence: zh {named['zh']} of {people}, en {named['en']} of {people}")
    for label in ("exposed", "passed_through", "false_trigger"):
        mine = [e for e in explanations if labels[e.person_id][0] == label]
        hit = sum(labels[e.person_id][1] in e.to_text("en") for e in mine)
        print(f"  labelled {label}: {hit} of {len(mine)} name their fence")
    print(f"reports saying 'at least 0/1 minutes': {wrong_words}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
