"""Reading pings: fencecheck's readers against the pandas code a user would write.

Run from the repository root::

    .venv/bin/python benchmarks/bench_read.py --rows 1000000 --repeat 5

For each reader a fresh process reads the same file ``--repeat`` times; it reports
the median time, rows per second, the ratio to the pandas baseline, the median
processor time of the process (all its threads; on a busy machine it varies less
than the wall clock) and the process's peak resident memory. The modules a reader
needs are imported before the first run, so no run pays for an import. Before any
time is printed, the parent checks that every reader produced the same person ids,
instants (UTC milliseconds), coordinates and accuracies, by comparing digests of
the arrays.

The pandas baseline is what a careful user writes::

    frame = pd.read_csv(path, dtype={"person_id": str})
    frame["t"] = pd.to_datetime(frame["t"], utc=True, format="ISO8601")

(it checks nothing: no ranges, no swapped coordinates, no rejected rows).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, machine, run_worker, timed_runs

READERS = ("fencecheck_csv", "pandas_csv", "fencecheck_parquet", "pandas_parquet")


def _digest(
    person: np.ndarray, t_ms: np.ndarray, lon: np.ndarray, lat: np.ndarray, acc: np.ndarray
) -> str:
    h = hashlib.sha256()
    h.update("\n".join(map(str, person.tolist())).encode())
    for arr, dtype in ((t_ms, np.int64), (lon, np.float64), (lat, np.float64), (acc, np.float32)):
        h.update(np.ascontiguousarray(arr, dtype=dtype).tobytes())
    return h.hexdigest()[:16]


def _read(reader: str, path: Path) -> Any:
    if reader.startswith("fencecheck"):
        import fencecheck

        return fencecheck.read_pings(path)
    import pandas as pd

    if reader == "pandas_csv":
        frame = pd.read_csv(path, dtype={"person_id": str})
        frame["t"] = pd.to_datetime(frame["t"], utc=True, format="ISO8601")
        return frame
    return pd.read_parquet(path)


def _result_digest(reader: str, result: Any) -> tuple[int, str]:
    if reader.startswith("fencecheck"):
        return len(result), _digest(
            result.person_ids(), result.t, result.lon, result.lat, result.accuracy_m
        )
    t_ms = result["t"].to_numpy(dtype="datetime64[ms]").view(np.int64)
    return len(result), _digest(
        result["person_id"].to_numpy(),
        t_ms,
        result["lon"].to_numpy(),
        result["lat"].to_numpy(),
        result["accuracy_m"].to_numpy(),
    )


def worker(reader: str, path: Path, repeat: int) -> None:
    """Time one reader in this process and print one JSON line.

    Peak memory is read right after the reads, before the digest of the last
    result is computed, so it is the reader's own peak.
    """
    import pandas  # noqa: F401  (imported here, not in the first timed run)
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    if reader.startswith("fencecheck"):
        import fencecheck  # noqa: F401
    cpu: list[float] = []

    def run() -> Any:
        begin = time.process_time()
        out = _read(reader, path)
        cpu.append(time.process_time() - begin)
        return out

    result, times, peak_mb = timed_runs(run, repeat)
    rows, digest = _result_digest(reader, result)
    print(
        json.dumps(
            {
                "reader": reader,
                "rows": rows,
                "digest": digest,
                "times": times,
                "cpu": cpu,
                "peak_mb": peak_mb,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--readers", default=",".join(READERS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, Path(args.path), args.repeat)
        return

    from synth_pings import make_columns, write_csv, write_parquet

    OUT.mkdir(parents=True, exist_ok=True)
    csv_path = OUT / f"pings_{args.rows}.csv"
    parquet_path = OUT / f"pings_{args.rows}.parquet"
    if not csv_path.exists() or not parquet_path.exists():
        columns = make_columns(args.rows)
        write_csv(columns, csv_path)
        write_parquet(columns, parquet_path)
    results = []
    for reader in args.readers.split(","):
        path = csv_path if reader.endswith("csv") else parquet_path
        results.append(
            run_worker(__file__, reader, "--path", str(path), "--repeat", str(args.repeat))
        )
    digests = {r["digest"] for r in results}
    if len(digests) != 1 or {r["rows"] for r in results} != {args.rows}:
        for r in results:
            print(f"{r['reader']:20s} rows {r['rows']} digest {r['digest']}", file=sys.stderr)
        raise SystemExit("readers disagree: no timings printed")
    print(
        f"# {args.rows:,} pings, {args.repeat} runs each, median; "
        f"{machine()}; answers identical (digest {digests.pop()})"
    )
    baseline = {
        r["reader"].split("_")[1]: statistics.median(r["times"])
        for r in results
        if r["reader"].startswith("pandas")
    }
    print(
        f"{'reader':20s} {'median s':>9s} {'M rows/s':>9s} {'vs pandas':>9s} {'cpu s':>7s} "
        f"{'peak MB':>8s}"
    )
    for r in results:
        med = statistics.median(r["times"])
        kind = r["reader"].split("_")[1]
        ratio = baseline.get(kind, float("nan")) / med
        print(
            f"{r['reader']:20s} {med:9.3f} {args.rows / med / 1e6:9.2f} {ratio:8.2f}x "
            f"{statistics.median(r['cpu']):7.2f} {r['peak_mb']:8.0f}"
        )


if __name__ == "__main__":
    main()
