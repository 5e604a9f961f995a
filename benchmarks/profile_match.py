"""Where point-mode matching spends its time: each part of ``FenceIndex.match`` timed alone.

Run from the repository root (after ``bench_match.py`` has written the city)::

    .venv/bin/python benchmarks/profile_match.py --pings 1000000 --repeat 7

On the city of ``bench_match.py``, with the index built and prepared and the
kernels compiled first, the parts are timed in rounds, one run of each part per
round, so that a slow minute of a shared machine falls on every part alike:

- the projection of the pings into the index's frame;
- the hits without ``p_inside`` (candidate pairs found in the grid and decided
  on the fences' edges), on every thread and on one;
- ``p_inside`` of the hits that are not surely inside, on every thread, and on
  one thread for the GPS fixes and the cell fixes apart;
- the whole ``match``.

It prints the median of each part and the counts behind it. The answers are
not compared with anything here (``bench_match.py`` does that); the parts'
times add up to roughly the whole, less what the threads overlap.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import city_paths, load_city, ping_table


def rounds(parts: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """The median seconds of each part, run once per round for ``repeat`` rounds."""
    times: dict[str, list[float]] = {name: [] for name in parts}
    for _ in range(repeat):
        for name, part in parts.items():
            begin = time.perf_counter()
            part()
            times[name].append(time.perf_counter() - begin)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pings", type=int, default=1_000_000)
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--share", type=float, default=0.2, help="pings placed in fences")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    if not city_paths(args.pings, args.fences, args.share)[1].exists():
        raise SystemExit("no such city yet: run bench_match.py with the same sizes first")

    import fencecheck as fc
    from fencecheck.matching import match_xy, p_inside_bound, p_inside_of
    from fencecheck.options import Source

    fences, cols = load_city(args.pings, args.fences, args.share)
    index = fc.FenceIndex.build(fences).prepare()
    table = ping_table(cols)
    index.match(table.take(slice(0, 10_000)))  # compiles (or loads) the kernels

    x, y = index.frame.to_xy(table.lon, table.lat)
    ping, _, fence, _, depth, _ = match_xy(index, x, y, table.t, table.accuracy_m, evidence=False)
    accuracy = table.accuracy_m[ping].astype(np.float64)
    sure, _ = p_inside_bound(index, fence, accuracy, depth)
    todo = ~sure
    cell = todo & (table.source[ping] == Source.CELL.code)
    gps = todo & (table.source[ping] == Source.GPS.code)
    hx, hy = x[ping], y[ping]

    def p_inside(which: np.ndarray, threads: int | None = None) -> Any:
        return p_inside_of(
            index, fence[which], hx[which], hy[which], accuracy[which], depth[which], threads
        )

    def hits(threads: int | None = None) -> Any:
        return match_xy(index, x, y, table.t, table.accuracy_m, evidence=False, threads=threads)

    medians = rounds(
        {
            "projection": lambda: index.frame.to_xy(table.lon, table.lat),
            "hits without p_inside": hits,
            "hits without p_inside, one thread": lambda: hits(1),
            "p_inside of the hits not surely inside": lambda: p_inside(todo),
            "  the GPS fixes, one thread": lambda: p_inside(gps, 1),
            "  the cell fixes, one thread": lambda: p_inside(cell, 1),
            "whole match": lambda: index.match(table),
        },
        args.repeat,
    )
    print(
        f"{len(table):,} pings, {len(fences):,} fences; {ping.shape[0]:,} hits, "
        f"{int(todo.sum()):,} not surely inside ({int(gps.sum()):,} GPS, "
        f"{int(cell.sum()):,} cell); medians of {args.repeat} rounds"
    )
    for name, seconds in medians.items():
        print(f"{name:<42} {seconds:8.3f} s")


if __name__ == "__main__":
    main()
