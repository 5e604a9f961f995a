"""A whole-city scan against GeoPandas ``sjoin`` alone, on the same pings.

Run from the repository root::

    .venv/bin/python benchmarks/bench_scan.py --pings 1000000 --repeat 3

The synthetic city of ``bench_match.py`` (5,000 fences; 100 pings a person, so
1 M pings are 10 k people). Each method runs in a fresh process that loads the
pings as columns (not timed):

- ``scan_disc`` / ``scan_point``: :func:`fencecheck.judging.scan` (matching, episodes,
  verdicts, the upstream-mistake checks, near misses and the what-if table),
  from the columns to the four tables. The index is built and prepared
  (:meth:`~fencecheck.FenceIndex.prepare`: the moments ``p_inside`` uses, made
  once per index, their time printed apart) and one scan of the first 10,000
  pings loads the compiled kernels, all before the timing (with
  ``FENCECHECK_BENCH_COLD=1`` in the environment neither is done, and the first
  timed run pays both);
- ``geopandas_point``: GeoPandas ``sjoin`` and the time filter, from the same
  columns to the table of hits (the baseline of ``bench_match.py``).

The lookback is 60 days, so every hit counts, and then the people a point-mode
scan flags must be exactly the people ``sjoin`` finds a hit for, and a disc-mode
scan's ``point_mode`` what-if row must count the same people (plus those flagged
by an upstream mistake, whom no rule unflags): the parent checks both before it
prints medians, ratios and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    add_city_arguments,
    city_args,
    digest,
    load_city,
    machine,
    prepare_city,
    run_geopandas,
    run_workers,
    timed_runs,
)

METHODS = ("scan_point", "scan_disc", "geopandas_point")
PREPARED: dict[str, float] = {"seconds": float("nan")}
LOOKBACK = "60d"


def run_scan(fences: Any, cols: dict[str, np.ndarray], mode: str) -> Any:
    import fencecheck as fc
    from fencecheck.pings import PersonRegistry, PingTable

    index = fc.FenceIndex.build(fences)
    cold = os.environ.get("FENCECHECK_BENCH_COLD") == "1"
    if not cold:
        begin = time.perf_counter()
        index.prepare()  # the p_inside moments, made once per index (timed apart)
        PREPARED["seconds"] = time.perf_counter() - begin
    n = cols["t"].shape[0]
    registry = PersonRegistry()  # ids as text, as a reader makes them (one per person)
    ids, person = np.unique(cols.pop("person_id"), return_inverse=True)
    codes = registry.encode_distinct(ids.astype(str).astype(object))[person.reshape(-1)]
    table = PingTable(
        row=np.arange(n, dtype=np.int64),
        person=codes,
        t=cols["t"],
        lon=cols["lon"],
        lat=cols["lat"],
        accuracy_m=cols["accuracy_m"].astype(np.float32),
        source=np.where(cols.pop("source") == "cell", 2, 0).astype(np.int8),
        accuracy_filled=np.zeros(n, dtype=bool),
        persons=registry,
    )
    del ids, person, codes

    if not cold:
        # One untimed scan of a few people loads the compiled kernels from their cache.
        fc.scan(table.take(slice(0, 10_000)), index, lookback=LOOKBACK, mode=mode)

    def timed() -> Any:
        result = fc.scan(table, index, lookback=LOOKBACK, mode=mode)
        people = result.people
        # people with a hit in our data (an upstream mistake flags people without one)
        in_data = (people["verdict"] != "not_flagged") & (people["mistake"] == "")
        flagged = people["person_id"][in_data].astype(np.int64)
        rules = [str(r) for r in result.whatif["rule"]]
        point_people = int(result.whatif["flagged"][rules.index("point_mode")])
        upstream = int((people["mistake"] != "").sum())
        return flagged, point_people - upstream, result.verdict_counts()

    return timed


def run_sjoin(fences: Any, cols: dict[str, np.ndarray]) -> Any:
    hits = run_geopandas(fences, cols)

    def timed() -> Any:
        ping, _ = hits()
        people = np.unique(cols["person_id"][ping].astype(np.int64))
        return people, int(people.shape[0]), {}

    return timed


def worker(method: str, n_pings: int, n_fences: int, repeat: int, share: float) -> None:
    fences, cols = load_city(n_pings, n_fences, share)
    timed = (
        run_sjoin(fences, cols)
        if method == "geopandas_point"
        else run_scan(fences, cols, method.split("_")[1])
    )
    result, times, peak_mb = timed_runs(timed, repeat)
    people, point_people, verdicts = result
    print(
        json.dumps(
            {
                "method": method,
                "people": int(people.shape[0]),
                "digest": digest(np.sort(people.astype(np.int64))),
                "point_people": point_people,
                "verdicts": verdicts,
                "times": times,
                "peak_mb": peak_mb,
                "prepare_s": PREPARED["seconds"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_city_arguments(parser, METHODS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.pings, args.fences, args.repeat, args.in_fence_share)
        return
    prepare_city(args.pings, args.fences, args.in_fence_share)
    results = run_workers(Path(__file__), args.methods.split(","), *city_args(args))
    base = results.get("geopandas_point")
    if base:
        for method, r in results.items():
            same = r["digest"] == base["digest"] if method == "scan_point" else True
            if method == "scan_disc":
                same = r["point_people"] == base["people"]
            if not same:
                raise SystemExit(f"{method} disagrees with sjoin on who has a hit: {r} {base}")
    print(
        f"# {args.pings:,} pings, {args.fences:,} fences, lookback {LOOKBACK}, median of "
        f"{args.repeat}; {machine()}; flagged people checked against sjoin's"
    )
    print(
        f"{'method':16s} {'median s':>9s} {'share of sjoin':>15s} {'peak MB':>8s} "
        f"{'index prepare s':>16s}  verdicts"
    )
    for method, r in results.items():
        med = statistics.median(r["times"])
        share = med / statistics.median(base["times"]) if base else float("nan")
        print(
            f"{method:16s} {med:9.2f} {share:15.2f} {r['peak_mb']:8.0f} "
            f"{r['prepare_s']:16.2f}  {r['verdicts']}"
        )


if __name__ == "__main__":
    main()
