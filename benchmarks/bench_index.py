"""Building and changing the fence index.

Run from the repository root::

    .venv/bin/python benchmarks/bench_index.py --fences 5000 --repeat 5

Reports the median time to build a FenceIndex for the synthetic city (issue
target: under 2 s for 5,000 fences), and the median time to add and to remove one
fence in an index of that size (target: under 10 ms per fence). Before the
times, it checks that the changed index answers queries exactly as a fresh build
of the same fences does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine, timed_runs
from fencecheck import FenceIndex, FenceSet
from synth_city import make_fence_records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--changes", type=int, default=200)
    args = parser.parse_args()

    records = make_fence_records(args.fences + args.changes)
    base = FenceSet.from_records(records[: args.fences])
    extra = FenceSet.from_records(records[args.fences :])
    frame = base.frame()

    index, builds, _ = timed_runs(lambda: FenceIndex.build(base, frame), args.repeat)

    adds, removes = [], []
    for i in range(len(extra)):
        one = extra.take([i])
        start = time.perf_counter()
        index.add(one)
        adds.append(time.perf_counter() - start)
    for fid in extra.ids.tolist()[::2]:
        start = time.perf_counter()
        index.remove([fid])
        removes.append(time.perf_counter() - start)

    final = FenceSet.concat([base, extra.take(np.arange(1, len(extra), 2))])
    fresh = FenceIndex.build(final, frame)
    rng = np.random.default_rng(1)
    for _ in range(300):
        lon, lat = 116.40 + rng.uniform(-0.25, 0.25), 39.90 + rng.uniform(-0.2, 0.2)
        box = (lon, lat, lon + 0.01, lat + 0.01)
        t0 = 1_651_334_400 + int(rng.integers(0, 40 * 86_400))
        a = sorted(index.query(box, t0, t0 + 86_400).tolist())
        b = sorted(fresh.query(box, t0, t0 + 86_400).tolist())
        if a != b:
            raise SystemExit(f"changed index and fresh build disagree at {box}: {a} != {b}")

    print(
        f"# {args.fences:,} fences (+{args.changes} added one by one, half removed); "
        f"{machine()}; 300 queries identical to a fresh build"
    )
    print(
        f"build           median {statistics.median(builds):.3f} s over {args.repeat} runs "
        f"(target < 2 s)"
    )
    print(
        f"add one fence   median {statistics.median(adds) * 1e3:.2f} ms, "
        f"max {max(adds) * 1e3:.2f} ms (target < 10 ms)"
    )
    print(
        f"remove one      median {statistics.median(removes) * 1e3:.2f} ms, "
        f"max {max(removes) * 1e3:.2f} ms"
    )


if __name__ == "__main__":
    main()
