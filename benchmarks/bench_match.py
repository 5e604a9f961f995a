"""Matching pings against fences: fencecheck against what a user would write.

Run from the repository root::

    .venv/bin/python benchmarks/bench_match.py --pings 1000000 --fences 5000 --repeat 3

The synthetic city (``synth_city.py``: 5,000 irregular fences with holes, parts,
venues and margins, windows of 1-14 days in May 2022; people moving between
their places, 70 % GPS and 30 % cell pings) is written once to
``benchmarks/out``. Each method then runs in a fresh process that loads the
pings as columns (not timed) and is timed from those columns to its table of
hits: fencecheck's ``match`` (evidence columns included; its index built and
prepared, and its compiled kernels loaded by matching 10,000 pings, before the
timing, as a service keeping its index would have them); the same without
``p_inside`` (``fencecheck-hits_point``: the hits, relation and depth — what the
baselines give, and more); GeoPandas ``sjoin`` then the time filter; a shapely
``STRtree.query`` with a predicate then the time filter. Margins are exact
everywhere (``dwithin``, not polygonal buffers). The parent checks that every
method found the same (ping, fence) hits before it prints medians, pings per
second, ratios and peak memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baselines import sjoin_by_margin, strtree_by_margin  # noqa: E402

METHODS = (
    "fencecheck_point",
    "fencecheck-hits_point",
    "geopandas_point",
    "strtree_point",
    "fencecheck_disc",
    "strtree_disc",
)


def _paths(n_pings: int, n_fences: int, share: float) -> tuple[Path, Path]:
    out = HERE / "out"
    return (
        out / f"city_fences_{n_fences}.geojson",
        out / f"city_pings_{n_pings}_{n_fences}_{share:g}.npz",
    )


def prepare(n_pings: int, n_fences: int, share: float) -> None:
    """Write the synthetic city once."""
    import fencecheck as fc
    from synth_city import make_fence_records, make_pings

    fences_path, pings_path = _paths(n_pings, n_fences, share)
    fences_path.parent.mkdir(exist_ok=True)
    records = make_fence_records(n_fences)
    if not fences_path.exists():
        fc.write_fences(fc.FenceSet.from_records(records, invalid="repair"), fences_path)
    if not pings_path.exists():
        columns = make_pings(n_pings, max(1, n_pings // 100), records, in_fence_share=share)
        np.savez(pings_path, **columns)


def _load(n_pings: int, n_fences: int, share: float) -> tuple[Any, dict[str, np.ndarray]]:
    import fencecheck as fc

    fences_path, pings_path = _paths(n_pings, n_fences, share)
    fences = fc.read_fences(fences_path)
    data = np.load(pings_path)
    return fences, {name: data[name] for name in data.files}


def _windows_table(fences: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per fence, its windows padded to the most any fence has (for a vectorized filter)."""
    k = np.bincount(fences.window_fence, minlength=len(fences)).max()
    start = np.full((len(fences), k), np.iinfo(np.int64).max)
    end = np.full((len(fences), k), np.iinfo(np.int64).min)
    slot = np.zeros(len(fences), dtype=np.int64)
    for w, f in enumerate(fences.window_fence.tolist()):
        start[f, slot[f]] = fences.window_start[w]
        end[f, slot[f]] = fences.window_end[w]
        slot[f] += 1
    return start, end


def _time_filter(
    ping: np.ndarray, fence: np.ndarray, t: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    tt = t[ping][:, None]
    return ((start[fence] <= tt) & (tt < end[fence])).any(axis=1)


def ping_table(cols: dict[str, np.ndarray]) -> Any:
    """The city's pings as a fencecheck ping table.

    The table takes its own copies of the person, accuracy and source columns,
    which are popped from ``cols`` and let go, so that the process holds what a
    fencecheck user holds (the ping table).
    """
    from fencecheck.options import Source
    from fencecheck.pings import PersonRegistry, PingTable

    source = np.where(cols.pop("source") == "cell", Source.CELL.code, Source.GPS.code)
    return PingTable(
        row=np.arange(cols["t"].shape[0], dtype=np.int64),
        person=cols.pop("person_id").astype(np.int32),
        t=cols["t"],
        lon=cols["lon"],
        lat=cols["lat"],
        accuracy_m=cols.pop("accuracy_m").astype(np.float32),
        source=source.astype(np.int8),
        accuracy_filled=np.zeros(cols["t"].shape[0], dtype=bool),
        persons=PersonRegistry(),
    )


def run_fencecheck(
    fences: Any, cols: dict[str, np.ndarray], mode: str, evidence: bool = True
) -> Any:
    import fencecheck as fc

    index = fc.FenceIndex.build(fences)
    table = ping_table(cols)

    index.prepare()  # the p_inside moments, made once per index
    index.match(table.take(slice(0, 10_000)), mode=mode)  # loads the compiled kernels

    def timed() -> Any:
        hits = index.match(table, mode=mode, evidence=evidence)
        return hits.ping, hits.fence

    return timed


def run_geopandas(fences: Any, cols: dict[str, np.ndarray]) -> Any:
    import geopandas as gpd
    import pandas as pd

    frame = fences.frame()
    polys = gpd.GeoDataFrame(
        {"fence": np.arange(len(fences)), "margin": fences.buffer_m},
        geometry=list(fences.geometry),
        crs="EPSG:4326",
    ).to_crs(frame.proj)
    windows = pd.DataFrame(
        {"fence": fences.window_fence, "start": fences.window_start, "end": fences.window_end}
    )

    def timed() -> Any:
        points = gpd.GeoDataFrame(
            {"t": cols["t"]},
            geometry=gpd.points_from_xy(cols["lon"], cols["lat"]),
            crs="EPSG:4326",
        ).to_crs(frame.proj)
        pairs = sjoin_by_margin(points, polys, "fence").merge(windows, on="fence")
        pairs = pairs[(pairs["start"] <= pairs["t"]) & (pairs["t"] < pairs["end"])]
        return pairs["ping"].to_numpy(), pairs["fence"].to_numpy()

    return timed


def run_strtree(fences: Any, cols: dict[str, np.ndarray], disc: bool) -> Any:
    import shapely

    frame = fences.frame()
    geoms = frame.project_geometry(fences.geometry)
    tree = shapely.STRtree(geoms)
    start, end = _windows_table(fences)

    def timed() -> Any:
        x, y = frame.to_xy(cols["lon"], cols["lat"])
        points = shapely.points(x, y)
        reach = cols["accuracy_m"] if disc else None
        ping, fence = strtree_by_margin(tree, points, fences.buffer_m, reach)
        keep = _time_filter(ping, fence, cols["t"], start, end)
        return ping[keep], fence[keep]

    return timed


def timed_runs(timed: Any, repeat: int) -> tuple[Any, list[float], float]:
    """Run ``timed`` ``repeat`` times: its last result, each run's seconds, peak RSS in MB."""
    times = []
    result = None
    for _ in range(repeat):
        result = None  # let the previous result go before the next run
        begin = time.perf_counter()
        result = timed()
        times.append(time.perf_counter() - begin)
    return result, times, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_workers(script: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Each of ``args.methods`` in a fresh process of ``script --worker``: its JSON line."""
    results = {}
    for method in args.methods.split(","):
        proc = subprocess.run(
            [sys.executable, str(script), "--worker", method, "--pings", str(args.pings),
             "--fences", str(args.fences), "--repeat", str(args.repeat),
             "--in-fence-share", str(args.in_fence_share)],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if proc.returncode:
            raise SystemExit(f"{method} failed:\n{proc.stderr}")
        results[method] = json.loads(proc.stdout.strip().splitlines()[-1])
    return results


def worker(method: str, n_pings: int, n_fences: int, repeat: int, share: float) -> None:
    fences, cols = _load(n_pings, n_fences, share)
    if method.startswith("fencecheck"):
        evidence = not method.startswith("fencecheck-hits")
        timed = run_fencecheck(fences, cols, method.split("_")[1], evidence)
    elif method == "geopandas_point":
        timed = run_geopandas(fences, cols)
    else:
        timed = run_strtree(fences, cols, disc=method.endswith("disc"))
    result, times, peak_mb = timed_runs(timed, repeat)
    ping, fence = result
    order = np.lexsort((fence, ping))
    pairs = np.column_stack([ping[order], fence[order]]).astype(np.int64)
    digest = hashlib.sha256(pairs.tobytes()).hexdigest()[:16]
    print(
        json.dumps(
            {
                "method": method,
                "hits": int(pairs.shape[0]),
                "digest": digest,
                "times": times,
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pings", type=int, default=1_000_000)
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--in-fence-share",
        type=float,
        default=0.2,
        help="share of people with one of their five places inside a fence (default 0.2)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.pings, args.fences, args.repeat, args.in_fence_share)
        return
    prepare(args.pings, args.fences, args.in_fence_share)
    results = run_workers(Path(__file__), args)
    for mode in ("point", "disc"):
        digests = {r["digest"] for m, r in results.items() if m.endswith(mode)}
        if len(digests) > 1:
            for m, r in results.items():
                print(f"{m:20s} hits {r['hits']} digest {r['digest']}", file=sys.stderr)
            raise SystemExit(f"{mode} mode: methods disagree, no timings printed")
    hits = next(iter(results.values()))["hits"]
    print(
        f"# {args.pings:,} pings ({hits / args.pings:.1%} hits in the first mode), "
        f"{args.fences:,} fences, in-fence share {args.in_fence_share:g}, median of {args.repeat}; "
        f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}; "
        "hit sets identical within each mode"
    )
    print(
        f"{'method':22s} {'hits':>9s} {'median s':>9s} {'M pings/s':>9s} {'fencecheck is':>14s}"
        f" {'without p_inside':>16s} {'peak MB':>8s}"
    )
    for method, r in results.items():
        med = statistics.median(r["times"])
        mode = method.split("_")[1]
        labels = []
        for ours in (f"fencecheck_{mode}", f"fencecheck-hits_{mode}"):
            if method.startswith("fencecheck") or ours not in results:
                labels.append("")
                continue
            labels.append(f"{med / statistics.median(results[ours]['times']):.2f}x faster")
        print(
            f"{method:22s} {r['hits']:9d} {med:9.3f} {args.pings / med / 1e6:9.2f} "
            f"{labels[0]:>14s} {labels[1]:>16s} {r['peak_mb']:8.0f}"
        )


if __name__ == "__main__":
    main()
