"""Explaining one person: 14 days of one-minute pings against the 5,000-fence city.

Run from the repository root::

    .venv/bin/python benchmarks/bench_explain.py --repeat 7

Two people of the synthetic city (``synth_city.py``), each with 20,160 GPS
pings (a fix a minute for 14 days, home at night, work 09:00-18:00, 8 m
jitter): one whose home is inside a fence (``exposed``: no upstream check
runs), and one who lives and works where no fence comes within 400 m, so that
the data has no hit and every upstream check runs: the six re-matches of
time-zone and datum mix-ups (in this city a datum mix-up of about 500 m then
reproduces a hit, so the verdict is a false trigger). Timed from the ping table in memory
and a built index to the list of explanations; medians of ``--repeat`` runs,
after one untimed run that compiles the kernels and builds the index's caches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from functools import partial
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, timed_runs


def one_person(index: object, home: np.ndarray, work: np.ndarray, seed: int) -> object:
    """20,160 one-minute pings over 14 days from May 1 2022 (Beijing time)."""
    from fencecheck.pings import build_pings

    rng = np.random.default_rng(seed)
    start = 1_651_334_400_000  # 2022-05-01T00:00+08:00
    n = 14 * 24 * 60
    t = start + np.arange(n, dtype=np.int64) * 60_000
    hour = ((t - start) // 3_600_000) % 24
    at_work = (hour >= 9) & (hour < 18)
    xy = np.where(at_work[:, None], work, home) + rng.normal(0.0, 8.0, (n, 2))
    lon, lat = index.frame.to_lonlat(xy[:, 0], xy[:, 1])  # type: ignore[attr-defined]
    return build_pings(
        {
            "person_id": np.array(["X"] * n, dtype=object),
            "t": t,
            "lon": lon,
            "lat": lat,
            "accuracy_m": np.full(n, 12.0),
            "source": np.array(["gps"] * n, dtype=object),
        },
        epoch_unit="ms",
    )


def quiet_places(index: object, clearance_m: float = 400.0) -> tuple[np.ndarray, np.ndarray]:
    """Two places at least ``clearance_m`` from every fence (margins under 100 m), apart."""
    tree = shapely.STRtree(index.geometry)  # type: ignore[attr-defined]
    grid = np.arange(-19_000.0, 19_001.0, 250.0)
    xs, ys = np.meshgrid(grid, grid)
    points = shapely.points(xs.ravel(), ys.ravel())
    near = tree.query(points, predicate="dwithin", distance=clearance_m)[0]
    free = np.setdiff1d(np.arange(points.shape[0]), near)
    if free.shape[0] < 2:
        raise SystemExit("no place in the city is clear of fences; lower the clearance")
    coords = shapely.get_coordinates(points[free])
    far = np.hypot(*(coords - coords[0]).T) >= 2000.0
    return coords[0], coords[np.flatnonzero(far)[0]] if far.any() else coords[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    import fencecheck as fc
    from synth_city import make_fence_records

    fences = fc.FenceSet.from_records(make_fence_records(args.fences), invalid="repair")
    index = fc.FenceIndex.build(fences)
    inside = shapely.get_coordinates(shapely.point_on_surface(index.geometry[0]))[0]
    home_q, work_q = quiet_places(index)
    people = {
        "exposed (home in a fence)": one_person(index, inside, inside + np.array([3000.0, 0.0]), 1),
        "no hit in the data (every upstream check)": one_person(index, home_q, work_q, 2),
    }
    print(
        f"# one person, 20,160 pings (14 days, a fix a minute), {args.fences:,} fences; "
        f"median of {args.repeat} after a warm-up; {machine()}"
    )
    for name, pings in people.items():
        [first] = fc.explain(pings, index)
        _, times, _ = timed_runs(partial(fc.explain, pings, index), args.repeat)
        median_ms = statistics.median(times) * 1000
        print(
            f"{name:42s} verdict {first.verdict:14s} median {median_ms:6.1f} ms"
            f"  (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}; target < 100 ms)"
        )


if __name__ == "__main__":
    main()
