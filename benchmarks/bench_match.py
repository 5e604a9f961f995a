"""Matching pings against fences: fencecheck against what a user would write.

Run from the repository root::

    .venv/bin/python benchmarks/bench_match.py --pings 1000000 --fences 5000 --repeat 3

(``--plain`` for the plain city: the same fences with every margin 0.)

The synthetic city (``synth_city.py``: 5,000 irregular fences with holes, parts,
venues and margins, windows of 1-14 days in May 2022; people moving between
their places, 70 % GPS and 30 % cell pings) is written once to
``benchmarks/out``. Each method then runs in a fresh process that loads the
pings as columns (not timed) and is timed from those columns to its table of
hits:

- ``fencecheck_{point,disc}``: ``FenceIndex.match``, every evidence column (its
  index built and prepared, and its compiled kernels loaded by matching 10,000
  pings, before the timing, as a service keeping its index would have them);
- ``fencecheck-depth_point``: the same with ``evidence=False`` (relation and
  ``depth_m``, no ``p_inside``);
- ``fencecheck-hits_point``: the same with ``evidence="hits"`` (the pairs, their
  window and relation; ``depth_m`` and ``p_inside`` NaN): what the baselines give;
- ``geopandas_point``: one GeoPandas ``sjoin`` at the largest margin, each pair
  kept within its own fence's margin (``shapely.distance``), then the time filter;
- ``strtree_{point,disc}``: one shapely ``STRtree.query`` with ``dwithin`` at the
  largest margin (plus each ping's accuracy in disc mode), the same margin filter,
  then the time filter (``baselines.py``).

Margins are exact everywhere (distances, not polygonal buffers). The parent
checks that every method found the same (ping, fence) hits before it prints
medians, pings per second, ratios and peak memory; a method that fails (say,
an evidence level the library does not have yet) is reported and left out.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import strtree_once
from common import (
    add_city_arguments,
    city_args,
    digest,
    load_city,
    machine,
    ping_table,
    prepare_city,
    run_geopandas,
    run_worker,
    timed_runs,
)

METHODS = (
    "fencecheck_point",
    "fencecheck-depth_point",
    "fencecheck-hits_point",
    "geopandas_point",
    "strtree_point",
    "fencecheck_disc",
    "strtree_disc",
)


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


def run_fencecheck(
    fences: Any, cols: dict[str, np.ndarray], mode: str, evidence: bool | str = True
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
        ping, fence = strtree_once(tree, points, fences.buffer_m, reach)
        keep = _time_filter(ping, fence, cols["t"], start, end)
        return ping[keep], fence[keep]

    return timed


EVIDENCE: dict[str, bool | str] = {"fencecheck": True, "fencecheck-depth": False}
"""The ``evidence`` argument of each fencecheck method (by its name before ``_mode``)."""


def worker(
    method: str, n_pings: int, n_fences: int, repeat: int, share: float, plain: bool
) -> None:
    fences, cols = load_city(n_pings, n_fences, share, plain=plain)
    if method.startswith("fencecheck"):
        name, mode = method.split("_")
        timed = run_fencecheck(fences, cols, mode, EVIDENCE.get(name, "hits"))
    elif method == "geopandas_point":
        timed = run_geopandas(fences, cols)
    else:
        timed = run_strtree(fences, cols, disc=method.endswith("disc"))
    result, times, peak_mb = timed_runs(timed, repeat)
    ping, fence = result
    order = np.lexsort((fence, ping))
    pairs = np.column_stack([ping[order], fence[order]]).astype(np.int64)
    print(
        json.dumps(
            {
                "method": method,
                "hits": int(pairs.shape[0]),
                "digest": digest(pairs),
                "times": times,
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_city_arguments(parser, METHODS, plain=True)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.pings, args.fences, args.repeat, args.in_fence_share, args.plain)
        return
    prepare_city(args.pings, args.fences, args.in_fence_share, plain=args.plain)
    results = {}
    for method in args.methods.split(","):
        try:
            results[method] = run_worker(Path(__file__), method, *city_args(args))
        except SystemExit as exc:  # reported, and left out of the comparison
            print(f"# {method} left out: {str(exc).strip().splitlines()[-1]}", file=sys.stderr)
    for mode in ("point", "disc"):
        digests = {r["digest"] for m, r in results.items() if m.endswith(mode)}
        if len(digests) > 1:
            for m, r in results.items():
                print(f"{m:20s} hits {r['hits']} digest {r['digest']}", file=sys.stderr)
            raise SystemExit(f"{mode} mode: methods disagree, no timings printed")
    if not results:
        raise SystemExit("no method ran")
    hits = next(iter(results.values()))["hits"]
    print(
        f"# {args.pings:,} pings ({hits / args.pings:.1%} hits in the first mode), "
        f"{args.fences:,} fences{' (plain city: every margin 0)' if args.plain else ''}, "
        f"in-fence share {args.in_fence_share:g}, median of {args.repeat}; "
        f"{machine()}; hit sets identical within each mode"
    )
    print(
        f"{'method':22s} {'hits':>9s} {'median s':>9s} {'M pings/s':>9s}"
        f" {'fencecheck is':>14s} {'-depth is':>14s} {'-hits is':>14s} {'peak MB':>8s}"
    )
    for method, r in results.items():
        med = statistics.median(r["times"])
        mode = method.split("_")[1]
        labels = []
        for ours in (f"fencecheck_{mode}", f"fencecheck-depth_{mode}", f"fencecheck-hits_{mode}"):
            if method.startswith("fencecheck") or ours not in results:
                labels.append("")
                continue
            labels.append(f"{med / statistics.median(results[ours]['times']):.2f}x faster")
        print(
            f"{method:22s} {r['hits']:9d} {med:9.3f} {args.pings / med / 1e6:9.2f} "
            f"{labels[0]:>14s} {labels[1]:>14s} {labels[2]:>14s} {r['peak_mb']:8.0f}"
        )


if __name__ == "__main__":
    main()
