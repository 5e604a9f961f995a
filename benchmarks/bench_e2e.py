"""End to end: ``fencecheck match`` on a Parquet file against the scripts a user would write.

Run from the repository root::

    .venv/bin/python benchmarks/bench_e2e.py --pings 10000000 --repeat 3

The synthetic city of ``bench_match.py`` (5,000 fences; people moving between
their places, 70 % GPS and 30 % cell pings) is written once as a Parquet file
(``t`` a UTC timestamp). Each method then runs as a whole process, timed by the
wall clock from start to a hits file on disk, so reading, parsing, projecting,
matching and writing all count:

- ``fencecheck``: ``fencecheck match --fences F --pings P.parquet --out H.parquet``
  (point mode; every docs/contract.md column, evidence included);
- ``strtree``: pandas reads the file, pyproj projects, a shapely ``STRtree.query``
  with a predicate per margin, a numpy time filter, pandas writes ``(ping, fence)``;
- ``geopandas``: ``read_parquet``, ``points_from_xy``, ``to_crs``, ``sjoin`` per
  margin, a merge with the windows and a filter, ``to_parquet``.

The scripts read the fences (ids, margins, windows, frame) with fencecheck, so
that everyone works in the same frame on the same windows; that part is tiny.
The parent checks that the three hit sets are identical before it prints
medians and ratios.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import sjoin_by_margin, strtree_by_margin
from common import OUT, city_fences_path, machine, write_city_fences

METHODS = ("fencecheck", "strtree", "geopandas")


def _paths(n_pings: int, n_fences: int) -> tuple[Path, Path]:
    return city_fences_path(n_fences), OUT / f"city_pings_{n_pings}_{n_fences}.parquet"


def prepare(n_pings: int, n_fences: int) -> None:
    """Write the synthetic city's fences and pings once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synth_city import make_pings

    records = write_city_fences(n_fences)
    pings_path = _paths(n_pings, n_fences)[1]
    if pings_path.exists():
        return
    cols = make_pings(n_pings, max(1, n_pings // 100), records)
    table = pa.table(
        {
            "person_id": pa.array(np.char.zfill(cols["person_id"].astype(str), 7), pa.string()),
            "t": pa.array(cols["t"].astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC")),
            "lon": cols["lon"],
            "lat": cols["lat"],
            "accuracy_m": cols["accuracy_m"],
            "source": pa.array(cols["source"].astype(object), pa.string()),
        }
    )
    pq.write_table(table, pings_path, row_group_size=1_000_000)


def _fence_tables(fences_path: str) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
    import fencecheck as fc

    fences = fc.read_fences(fences_path)
    return fences, fences.window_fence, fences.window_start, fences.window_end


def script_strtree(fences_path: str, pings_path: str, out_path: str) -> None:
    """The obvious shapely script."""
    import pandas as pd
    import pyproj
    import shapely

    fences, window_fence, window_start, window_end = _fence_tables(fences_path)
    frame = fences.frame()  # type: ignore[attr-defined]
    geoms = frame.project_geometry(fences.geometry)  # type: ignore[attr-defined]
    margins = fences.buffer_m  # type: ignore[attr-defined]
    pings = pd.read_parquet(pings_path, columns=["t", "lon", "lat"])
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", frame.proj, always_xy=True)
    x, y = to_xy.transform(pings["lon"].to_numpy(), pings["lat"].to_numpy())
    t = pings["t"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    tree = shapely.STRtree(geoms)
    points = shapely.points(x, y)
    ping, fence = strtree_by_margin(tree, points, margins)
    # the time filter: join the pairs with every window of their fence
    order = np.argsort(window_fence, kind="stable")
    first = np.searchsorted(window_fence[order], fence, side="left")
    last = np.searchsorted(window_fence[order], fence, side="right")
    count = last - first
    pair = np.repeat(np.arange(ping.shape[0]), count)
    window = order[
        np.repeat(first, count)
        + np.arange(count.sum())
        - np.repeat(np.cumsum(count) - count, count)
    ]
    tt = t[ping[pair]]
    timely = (window_start[window] <= tt) & (tt < window_end[window])
    pair = pair[timely]
    pd.DataFrame(
        {"ping": ping[pair], "fence_id": fences.ids[fence[pair]]}  # type: ignore[attr-defined]
    ).to_parquet(out_path)


def script_geopandas(fences_path: str, pings_path: str, out_path: str) -> None:
    """The obvious GeoPandas script."""
    import geopandas as gpd
    import pandas as pd

    fences, window_fence, window_start, window_end = _fence_tables(fences_path)
    frame = fences.frame()  # type: ignore[attr-defined]
    polys = gpd.GeoDataFrame(
        {"fence_id": fences.ids, "margin": fences.buffer_m},  # type: ignore[attr-defined]
        geometry=list(fences.geometry),  # type: ignore[attr-defined]
        crs="EPSG:4326",
    ).to_crs(frame.proj)
    windows = pd.DataFrame(
        {
            "fence_id": fences.ids[window_fence],  # type: ignore[attr-defined]
            "start": window_start,
            "end": window_end,
        }
    )
    pings = pd.read_parquet(pings_path, columns=["t", "lon", "lat"])
    pings["t"] = pings["t"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    points = gpd.GeoDataFrame(
        {"t": pings["t"]},
        geometry=gpd.points_from_xy(pings["lon"], pings["lat"]),
        crs="EPSG:4326",
    ).to_crs(frame.proj)
    pairs = sjoin_by_margin(points, polys, "fence_id").merge(windows, on="fence_id")
    pairs = pairs[(pairs["start"] <= pairs["t"]) & (pairs["t"] < pairs["end"])]
    pairs[["ping", "fence_id"]].to_parquet(out_path)


def _digest(out_path: Path) -> tuple[int, str]:
    import pandas as pd

    hits = pd.read_parquet(out_path, columns=["ping", "fence_id"])
    pairs = sorted(zip(hits["ping"].tolist(), hits["fence_id"].tolist(), strict=True))
    return len(pairs), hashlib.sha256(repr(pairs).encode()).hexdigest()[:16]


def run(method: str, fences_path: Path, pings_path: Path, out_path: Path) -> float:
    """One whole process, timed by the wall clock."""
    if method == "fencecheck":
        argv = [
            sys.executable, "-m", "fencecheck", "match",
            "--fences", str(fences_path), "--pings", str(pings_path), "--out", str(out_path),
        ]  # fmt: skip
    else:
        argv = [
            sys.executable, __file__, "--worker", method,
            str(fences_path), str(pings_path), str(out_path),
        ]  # fmt: skip
    begin = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - begin
    if proc.returncode:
        raise SystemExit(f"{method} failed:\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pings", type=int, default=10_000_000)
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        {"strtree": script_strtree, "geopandas": script_geopandas}[args.worker](*args.paths)
        return
    prepare(args.pings, args.fences)
    fences_path, pings_path = _paths(args.pings, args.fences)
    results = {}
    for method in args.methods.split(","):
        out_path = OUT / f"e2e_hits_{method}.parquet"
        times = [run(method, fences_path, pings_path, out_path) for _ in range(args.repeat)]
        results[method] = (times, *_digest(out_path))
    if len({digest for _, _, digest in results.values()}) > 1:
        for method, (_, hits, digest) in results.items():
            print(f"{method:12s} hits {hits} digest {digest}", file=sys.stderr)
        raise SystemExit("methods disagree, no timings printed")
    hits = next(iter(results.values()))[1]
    print(
        f"# end to end, {args.pings:,} pings in Parquet ({hits:,} hits), {args.fences:,} fences, "
        f"point mode, wall clock per whole process, median of {args.repeat}; "
        f"{machine()}; hit sets identical"
    )
    print(f"{'method':12s} {'median s':>9s} {'M pings/s':>9s} {'fencecheck is':>14s}")
    ours = statistics.median(results["fencecheck"][0]) if "fencecheck" in results else None
    for method, (times, _, _) in results.items():
        med = statistics.median(times)
        label = "" if method == "fencecheck" or ours is None else f"{med / ours:.2f}x faster"
        print(f"{method:12s} {med:9.2f} {args.pings / med / 1e6:9.2f} {label:>14s}")


if __name__ == "__main__":
    main()
