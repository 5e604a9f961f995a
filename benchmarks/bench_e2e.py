"""End to end: ``fencecheck match`` on a Parquet file against the scripts a user would write.

Run from the repository root::

    .venv/bin/python benchmarks/bench_e2e.py --pings 10000000 --repeat 3
    .venv/bin/python benchmarks/bench_e2e.py --pings 10000000 --repeat 3 --plain

The synthetic city of ``bench_match.py`` (5,000 fences; people moving between
their places, 70 % GPS and 30 % cell pings) is written once as a Parquet file
(``t`` a UTC timestamp); ``--plain`` uses the plain city (the same fences with
every margin 0) and files of its own. Each method then runs as a whole process,
timed by the wall clock from start to a hits file on disk, so start-up, imports,
reading, projecting, matching and writing all count:

- ``fencecheck``: ``fencecheck match --fences F --pings P.parquet --out H.parquet
  --mode point --boundary covers`` (every docs/contract.md column, evidence
  included);
- ``fencecheck-hits``: the same with ``--evidence hits`` (the same rows and
  columns, ``depth_m`` and ``p_inside`` null: what the scripts compute);
- ``strtree``: ``pyarrow.parquet.read_table``, pyproj projects, one shapely
  ``STRtree.query`` (``dwithin`` at the largest margin, or ``intersects`` when
  every margin is 0), each pair kept within its own fence's margin
  (``shapely.distance``), a numpy time mask, ``pyarrow.parquet.write_table`` of
  ``(ping, fence_id)``;
- ``geopandas``: ``read_table``, ``points_from_xy``, ``to_crs``, one ``sjoin``
  and the same margin filter, a merge with the windows and a time mask,
  ``to_parquet``.

The joins are ``baselines.py``'s. The scripts read the fences (ids, margins,
windows, frame) with fencecheck, so that everyone works in the same frame on the
same windows; that part (reading the GeoJSON, about a second) is the same in
every method. The parent checks that the hit sets are
identical ((ping, fence_id) pairs, by digest) and that fencecheck's file has
every contract column before it prints medians, ratios and each method's peak
memory (the largest of its runs, read by ``/usr/bin/time``; not shown without it).

Every process runs with its Python bytecode cached, as an installed package has
it: the children get ``PYTHONPYCACHEPREFIX=<out>/pycache`` (and no
``PYTHONDONTWRITEBYTECODE``), and fencecheck and these scripts are compiled there
before the first run. Without that, each process would first compile fencecheck's
own source (about half a second on this machine, for every method alike). The
libraries every method imports are imported once there too, so that their
bytecode is in that cache before the timing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baselines import sjoin_once, strtree_once
from common import OUT, city_fences_path, machine, write_city_fences

METHODS = ("fencecheck", "fencecheck-hits", "strtree", "geopandas")


def _paths(n_pings: int, n_fences: int, plain: bool = False) -> tuple[Path, Path]:
    name = f"city_pings_{'plain_' if plain else ''}{n_pings}_{n_fences}.parquet"
    return city_fences_path(n_fences, plain=plain), OUT / name


def prepare(n_pings: int, n_fences: int, plain: bool = False) -> None:
    """Write the synthetic city's fences and pings once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from synth_city import make_pings

    records = write_city_fences(n_fences, plain=plain)
    pings_path = _paths(n_pings, n_fences, plain)[1]
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


def _time_mask(
    ping: np.ndarray,
    fence: np.ndarray,
    t: np.ndarray,
    window_fence: np.ndarray,
    window_start: np.ndarray,
    window_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose ping falls in one of its fence's windows (pairs times windows)."""
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
    pair = pair[(window_start[window] <= tt) & (tt < window_end[window])]
    return ping[pair], fence[pair]


def script_strtree(fences_path: str, pings_path: str, out_path: str) -> None:
    """The obvious shapely script: read, project, one ``STRtree.query``, mask, write."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import pyproj
    import shapely

    fences, window_fence, window_start, window_end = _fence_tables(fences_path)
    frame = fences.frame()  # type: ignore[attr-defined]
    geoms = frame.project_geometry(fences.geometry)  # type: ignore[attr-defined]
    margins = fences.buffer_m  # type: ignore[attr-defined]
    pings = pq.read_table(pings_path, columns=["t", "lon", "lat"])
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", frame.proj, always_xy=True)
    x, y = to_xy.transform(pings["lon"].to_numpy(), pings["lat"].to_numpy())
    t = pings["t"].to_numpy().astype("datetime64[ms]").astype(np.int64)
    tree = shapely.STRtree(geoms)
    ping, fence = strtree_once(tree, shapely.points(x, y), margins)
    ping, fence = _time_mask(ping, fence, t, window_fence, window_start, window_end)
    ids = fences.ids[fence]  # type: ignore[attr-defined]
    pq.write_table(pa.table({"ping": ping.astype(np.int64), "fence_id": ids}), out_path)


def script_geopandas(fences_path: str, pings_path: str, out_path: str) -> None:
    """The obvious GeoPandas script: read, ``to_crs``, one ``sjoin``, merge, mask, write."""
    import geopandas as gpd
    import pandas as pd
    import pyarrow.parquet as pq

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
    pings = pq.read_table(pings_path, columns=["t", "lon", "lat"])
    points = gpd.GeoDataFrame(
        {"t": pings["t"].to_numpy().astype("datetime64[ms]").astype(np.int64)},
        geometry=gpd.points_from_xy(pings["lon"].to_numpy(), pings["lat"].to_numpy()),
        crs="EPSG:4326",
    ).to_crs(frame.proj)
    del pings
    pairs = sjoin_once(points, polys, "fence_id").merge(windows, on="fence_id")
    pairs = pairs[(pairs["start"] <= pairs["t"]) & (pairs["t"] < pairs["end"])]
    pairs[["ping", "fence_id"]].to_parquet(out_path, index=False)


def _digest(out_path: Path) -> tuple[int, str]:
    """How many ``(ping, fence_id)`` pairs a hits file has, and a digest of the sorted pairs."""
    import pyarrow.parquet as pq

    hits = pq.read_table(out_path, columns=["ping", "fence_id"])
    hits = hits.sort_by([("ping", "ascending"), ("fence_id", "ascending")])
    digest = hashlib.sha256(hits["ping"].to_numpy().astype(np.int64).tobytes())
    digest.update("\n".join(hits["fence_id"].to_pylist()).encode())
    return hits.num_rows, digest.hexdigest()[:16]


def _check_contract(out_path: Path) -> None:
    """Exit unless fencecheck's hits file has docs/contract.md's columns, in order."""
    import pyarrow.parquet as pq

    from fencecheck.io.hits import HIT_FILE_COLUMNS, hits_schema

    schema = pq.read_schema(out_path)
    if tuple(schema.names) != HIT_FILE_COLUMNS or not schema.equals(hits_schema()):
        raise SystemExit(f"{out_path}: not the contract's hits columns: {schema}")


def _environment() -> dict[str, str]:
    """The children's environment: bytecode cached under ``OUT/pycache``, compiled now."""
    import fencecheck

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(OUT / "pycache")
    folders = [str(Path(fencecheck.__file__).parent), str(Path(__file__).parent)]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], env=env, check=True)
    warm = (
        "import contextlib, importlib\n"
        "for name in ('fencecheck.cli', 'fencecheck.judging', 'pyarrow.parquet', 'pyproj',"
        " 'shapely', 'pandas', 'geopandas'):\n"
        "    with contextlib.suppress(ImportError):\n"
        "        importlib.import_module(name)\n"
    )
    subprocess.run([sys.executable, "-c", warm], env=env, check=True)
    return env


def run(
    method: str, fences_path: Path, pings_path: Path, out_path: Path, env: dict[str, str]
) -> tuple[float, float]:
    """One whole process: its wall-clock seconds and its peak resident memory in MB."""
    if method.startswith("fencecheck"):
        argv = [
            sys.executable, "-m", "fencecheck", "match",
            "--fences", str(fences_path), "--pings", str(pings_path), "--out", str(out_path),
            "--mode", "point", "--boundary", "covers",
        ]  # fmt: skip
        if method == "fencecheck-hits":
            argv += ["--evidence", "hits"]
    else:
        argv = [
            sys.executable, __file__, "--worker", method,
            str(fences_path), str(pings_path), str(out_path),
        ]  # fmt: skip
    gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "time.txt"
        if gnu_time:  # a small parent: the child's peak is its own, not inherited from ours
            argv = [gnu_time, "-o", str(report), "-f", "%M", *argv]
        begin = time.perf_counter()
        proc = subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, check=False
        )
        elapsed = time.perf_counter() - begin
        if proc.returncode:
            raise SystemExit(f"{method} failed:\n{proc.stderr.decode()[-3000:]}")
        peak_mb = float(report.read_text().split()[-1]) / 1024 if gnu_time else float("nan")
    return elapsed, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pings", type=int, default=10_000_000)
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--plain",
        action="store_true",
        help="the plain city: the same fences with every margin 0 (venues as 32-gons)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        {"strtree": script_strtree, "geopandas": script_geopandas}[args.worker](*args.paths)
        return
    prepare(args.pings, args.fences, args.plain)
    fences_path, pings_path = _paths(args.pings, args.fences, args.plain)
    env = _environment()
    results = {}
    for method in args.methods.split(","):
        out_path = OUT / f"e2e_hits_{'plain_' if args.plain else ''}{method}.parquet"
        runs = [run(method, fences_path, pings_path, out_path, env) for _ in range(args.repeat)]
        if method.startswith("fencecheck"):
            _check_contract(out_path)
        results[method] = (runs, *_digest(out_path))
    if len({digest for _, _, digest in results.values()}) > 1:
        for method, (_, hits, digest) in results.items():
            print(f"{method:12s} hits {hits} digest {digest}", file=sys.stderr)
        raise SystemExit("methods disagree, no timings printed")
    hits, digest = next(iter(results.values()))[1:]
    city = "plain city (every margin 0)" if args.plain else "synthetic city"
    print(
        f"# end to end, {args.pings:,} pings in Parquet ({hits:,} hits, digest {digest}), "
        f"{args.fences:,} fences, {city}, point mode, wall clock per whole process, median of "
        f"{args.repeat}; {machine()}; hit sets identical"
    )
    print(
        f"{'method':16s} {'median s':>9s} {'M pings/s':>9s} {'fencecheck faster by':>20s} "
        f"{'peak MB':>8s}  runs s"
    )
    medians = {
        method: statistics.median(elapsed for elapsed, _ in runs)
        for method, (runs, _, _) in results.items()
    }
    ours = [medians[m] for m in ("fencecheck", "fencecheck-hits") if m in medians]
    for method, (runs, _, _) in results.items():
        med = medians[method]
        peak = max(peak_mb for _, peak_mb in runs)
        label = (
            ""
            if method.startswith("fencecheck")
            else " / ".join(f"{med / mine:.2f}x" for mine in ours)
        )
        each = ", ".join(f"{elapsed:.2f}" for elapsed, _ in runs)
        print(
            f"{method:16s} {med:9.2f} {args.pings / med / 1e6:9.2f} {label:>20s} {peak:8.0f}  "
            f"{each}"
        )


if __name__ == "__main__":
    main()
