"""A city scan on Dask against the same scan in one process, from a partitioned Parquet dataset.

Run from the repository root::

    .venv/bin/python benchmarks/bench_dask.py --pings 10000000 --repeat 3

The synthetic city of ``bench_scan.py`` (5,000 fences; 100 pings a person, so
10 M pings are 100 k people), written once as a Parquet dataset of 16 files
(``person_id`` as text, ``t`` in epoch milliseconds). Each method runs in a fresh
process:

- ``single``: what a user does on one machine: ``pyarrow.parquet.read_table`` of
  the folder, ``fc.read_pings`` of it (every check), ``fc.scan``;
- ``dask``: ``fencecheck.dask.scan`` of ``folder/*.parquet`` on a
  ``LocalCluster`` of 2 worker processes (1 thread each; the kernels still use
  both cores) started before the timing (its start-up is printed apart).
  Dask's task stream gives the share of task time spent reading, checking and
  splitting the partitions by person (the shuffle) against judging; each
  worker's peak RSS is read from the worker itself.

The parent checks that both give the same ``people`` table (a digest of it
sorted by person) before it prints medians, the ratio and the per-core rate
(pings per second per core, for the README's city extrapolation).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import OUT, machine, run_worker, write_city_fences

N_FENCES = 5_000
FILES = 16


def dataset(n_pings: int) -> Path:
    """The city's pings as a Parquet dataset (written once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synth_city import make_pings

    folder = OUT / f"city_parquet_{n_pings}"
    if (folder / "_done").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    records = write_city_fences(N_FENCES)
    cols = make_pings(n_pings, max(1, n_pings // 100), records)
    bounds = np.linspace(0, n_pings, FILES + 1).astype(np.int64)
    for k in range(FILES):
        lo, hi = bounds[k], bounds[k + 1]
        table = pa.table(
            {
                "person_id": pa.array([f"u{p:07d}" for p in cols["person_id"][lo:hi]]),
                "t": pa.array(cols["t"][lo:hi].astype(np.int64)),
                "lon": pa.array(cols["lon"][lo:hi]),
                "lat": pa.array(cols["lat"][lo:hi]),
                "accuracy_m": pa.array(cols["accuracy_m"][lo:hi]),
                "source": pa.array(cols["source"][lo:hi].tolist()),
            }
        )
        pq.write_table(table, folder / f"part-{k:03d}.parquet", row_group_size=1_000_000)
    (folder / "_done").write_text("ok", encoding="utf-8")
    return folder


def people_digest(result: Any) -> str:
    people = result.people.to_pandas().sort_values("person_id").reset_index(drop=True)
    text = people.to_csv(index=False, float_format="%.9g")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def run_single(folder: Path, repeat: int) -> dict[str, Any]:
    import pyarrow.parquet as pq

    import fencecheck as fc
    from common import city_fences_path

    index = fc.FenceIndex.build(fc.read_fences(city_fences_path(N_FENCES)))
    index.prepare()
    times, result = [], None
    for _ in range(repeat):
        result = None
        begin = time.perf_counter()
        frame = pq.read_table(folder).to_pandas()
        pings = fc.read_pings(frame, epoch_unit="ms")
        del frame
        result = fc.scan(pings, index, lookback="60d")
        times.append(time.perf_counter() - begin)
        del pings
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"times": times, "peak_mb": peak, "digest": people_digest(result)}


def run_dask(folder: Path, repeat: int) -> dict[str, Any]:
    import distributed

    import fencecheck as fc
    import fencecheck.dask as fcd
    from common import city_fences_path

    index = fc.FenceIndex.build(fc.read_fences(city_fences_path(N_FENCES)))
    begin = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        startup = time.perf_counter() - begin
        times, shares, result = [], [], None
        for _ in range(repeat):
            result = None
            with distributed.get_task_stream() as stream:
                begin = time.perf_counter()
                result = fcd.scan(str(folder / "*.parquet"), index, lookback="60d", epoch_unit="ms")
                times.append(time.perf_counter() - begin)
            spent: dict[str, float] = {}
            for task in stream.data:
                name = task["key"][0] if isinstance(task["key"], tuple) else task["key"]
                prefix = str(name).rsplit("-", 1)[0]
                for part in task["startstops"]:
                    if part["action"] == "compute":
                        spent[prefix] = spent.get(prefix, 0.0) + part["stop"] - part["start"]
            total = sum(spent.values())
            split = sum(v for k, v in spent.items() if "check_and_split" in k or "read" in k)
            shares.append(split / total if total else float("nan"))
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {
        "times": times,
        "startup_s": startup,
        "shuffle_share": statistics.median(shares),
        "worker_peak_mb": sorted(peaks.values()),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "digest": people_digest(result),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pings", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    folder = dataset(args.pings)
    if args.worker:
        run = run_single if args.worker == "single" else run_dask
        print(json.dumps(run(folder, args.repeat)))
        return
    argv = ["--pings", str(args.pings), "--repeat", str(args.repeat)]
    single = run_worker(__file__, "single", *argv)
    spread = run_worker(__file__, "dask", *argv)
    if single["digest"] != spread["digest"]:
        raise SystemExit(f"the people tables differ: {single['digest']} != {spread['digest']}")
    one = statistics.median(single["times"])
    two = statistics.median(spread["times"])
    print(f"# {machine()}; {args.pings:,} pings in {FILES} Parquet files, {N_FENCES:,} fences")
    print(f"people tables identical (digest {single['digest']})")
    print("| method | median s | runs | peak RSS MB |")
    print("| --- | ---: | --- | ---: |")
    runs = ", ".join(f"{t:.1f}" for t in single["times"])
    print(f"| read + fc.scan, one process | {one:.1f} | {runs} | {single['peak_mb']:,.0f} |")
    runs = ", ".join(f"{t:.1f}" for t in spread["times"])
    workers = " / ".join(f"{m:,.0f}" for m in spread["worker_peak_mb"])
    print(
        f"| fencecheck.dask.scan, local:2 | {two:.1f} | {runs} | client "
        f"{spread['peak_mb']:,.0f}; workers {workers} |"
    )
    print(f"ratio dask / single: {two / one:.2f} (target 1.3)")
    print(f"cluster start-up (not timed): {spread['startup_s']:.1f} s")
    share = spread["shuffle_share"]
    print(f"shuffle share of task time (read, check, split by person): {share:.0%}")
    print(f"per-core rate, one process on 2 cores: {args.pings / one / 2:,.0f} pings/s/core")


if __name__ == "__main__":
    main()
