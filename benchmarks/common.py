"""What the benchmark scripts share: paths, the seeded city, timing and worker processes.

Every script imports from here, never from another script. The synthetic city
(``synth_city.py``) is written once under :data:`OUT` (``benchmarks/out``, which
git ignores; set ``FENCECHECK_BENCH_OUT`` in the environment to put it
elsewhere), and the scripts that compare methods run each one in a fresh
process (``script --worker METHOD ...``) that prints one JSON line. The *plain*
city (``--plain``: the same city with every margin 0) has files of its own,
named ``city_*_plain_*``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from baselines import sjoin_once

HERE = Path(__file__).resolve().parent
OUT = Path(os.environ.get("FENCECHECK_BENCH_OUT") or HERE / "out")


# ---------------------------------------------------------------- reporting


def machine() -> str:
    """The machine and Python a run was on, for the header line of a report."""
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"


def digest(array: np.ndarray) -> str:
    """A short digest of an array's bytes, to compare answers across processes."""
    return hashlib.sha256(array.tobytes()).hexdigest()[:16]


# ------------------------------------------------------------------- timing


def timed_runs(timed: Callable[[], Any], repeat: int) -> tuple[Any, list[float], float]:
    """Run ``timed`` ``repeat`` times: its last result, each run's seconds, peak RSS in MB.

    The peak is read right after the runs, before the caller does anything with
    the result, so it is the runs' own peak (with what the process held before).
    """
    times = []
    result = None
    for _ in range(repeat):
        result = None  # let the previous result go before the next run
        begin = time.perf_counter()
        result = timed()
        times.append(time.perf_counter() - begin)
    return result, times, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------- worker processes


def run_worker(script: Path | str, method: str, *argv: str) -> dict[str, Any]:
    """``method`` in a fresh process of ``script --worker METHOD *argv``: its last JSON line."""
    proc = subprocess.run(
        [sys.executable, str(script), "--worker", method, *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{method} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_workers(script: Path | str, methods: Iterable[str], *argv: str) -> dict[str, Any]:
    """Each of ``methods`` in its own fresh process (:func:`run_worker`), in order."""
    return {method: run_worker(script, method, *argv) for method in methods}


# ------------------------------------------------------------ the seeded city


def add_city_arguments(
    parser: argparse.ArgumentParser, methods: Iterable[str], *, plain: bool = False
) -> None:
    """The flags of a benchmark on the city: sizes, repeats, methods, and the hidden worker.

    With ``plain=True`` the script also takes ``--plain`` (the city with every margin 0).
    """
    parser.add_argument("--pings", type=int, default=1_000_000)
    parser.add_argument("--fences", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--methods", default=",".join(methods))
    parser.add_argument(
        "--in-fence-share",
        type=float,
        default=0.2,
        help="share of people with one of their five places inside a fence (default 0.2)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    if plain:
        parser.add_argument(
            "--plain",
            action="store_true",
            help="the plain city: the same fences with every margin 0 (venues as 32-gons)",
        )


def city_args(args: argparse.Namespace) -> list[str]:
    """The flags of :func:`add_city_arguments` to hand on to a worker process."""
    return [
        "--pings", str(args.pings), "--fences", str(args.fences), "--repeat", str(args.repeat),
        "--in-fence-share", str(args.in_fence_share),
        *(["--plain"] if getattr(args, "plain", False) else []),
    ]  # fmt: skip


def _plain(plain: bool) -> str:
    return "plain_" if plain else ""


def city_fences_path(n_fences: int, *, plain: bool = False) -> Path:
    """The city's fences as GeoJSON (``plain``: every margin 0)."""
    return OUT / f"city_fences_{_plain(plain)}{n_fences}.geojson"


def city_paths(
    n_pings: int, n_fences: int, share: float, *, plain: bool = False
) -> tuple[Path, Path]:
    """The city's fences (GeoJSON) and its pings as numpy columns (``.npz``)."""
    name = f"city_pings_{_plain(plain)}{n_pings}_{n_fences}_{share:g}.npz"
    return city_fences_path(n_fences, plain=plain), OUT / name


def write_city_fences(n_fences: int, *, plain: bool = False) -> list[dict[str, Any]]:
    """The city's fence records, written as GeoJSON once (invalid ones repaired)."""
    import fencecheck as fc
    from synth_city import make_fence_records

    path = city_fences_path(n_fences, plain=plain)
    path.parent.mkdir(parents=True, exist_ok=True)
    records = make_fence_records(n_fences, plain=plain)
    if not path.exists():
        fc.write_fences(fc.FenceSet.from_records(records, invalid="repair"), path)
    return records


def prepare_city(n_pings: int, n_fences: int, share: float, *, plain: bool = False) -> None:
    """Write the synthetic city (fences and ping columns) once."""
    from synth_city import make_pings

    records = write_city_fences(n_fences, plain=plain)
    pings_path = city_paths(n_pings, n_fences, share, plain=plain)[1]
    if not pings_path.exists():
        columns = make_pings(n_pings, max(1, n_pings // 100), records, in_fence_share=share)
        np.savez(pings_path, **columns)


def load_city(
    n_pings: int, n_fences: int, share: float, *, plain: bool = False
) -> tuple[Any, dict[str, np.ndarray]]:
    """The city's fences (a ``FenceSet``) and its pings as numpy columns."""
    import fencecheck as fc

    fences_file, pings_file = city_paths(n_pings, n_fences, share, plain=plain)
    fences = fc.read_fences(fences_file)
    data = np.load(pings_file)
    return fences, {name: data[name] for name in data.files}


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


# ------------------------------------------------------------- the baseline


def run_geopandas(fences: Any, cols: dict[str, np.ndarray]) -> Callable[[], Any]:
    """One GeoPandas ``sjoin``, each pair's margin, then the time filter: the timed part.

    The join is :func:`baselines.sjoin_once` (one ``sjoin`` at the largest margin,
    then each pair kept when it is within its own fence's margin).

    The fences' table and windows are made here, untimed; the closure goes from
    the ping columns to the ``(ping, fence)`` hits.
    """
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
        pairs = sjoin_once(points, polys, "fence").merge(windows, on="fence")
        pairs = pairs[(pairs["start"] <= pairs["t"]) & (pairs["t"] < pairs["end"])]
        return pairs["ping"].to_numpy(), pairs["fence"].to_numpy()

    return timed
