"""Risk persons: ``fc.companions`` against the pandas script a user would write.

Run from the repository root::

    .venv/bin/python benchmarks/bench_companions.py --repeat 3

Seeded synthetic data (numpy only, written once to ``benchmarks/out``): people
moving between home, work and two other places in a 40 km x 40 km area around
116.40 E, 39.90 N over 14 days from 2022-05-01 (Beijing time), their pings in
bursts (sessions of about four fixes 20 s to 5 min apart, 100 pings a person
on average, a few repeated times), 80 % GPS fixes (5-50 m) and 20 % cell fixes
(300-1,500 m), each displaced by its own error; and ``--cases`` cases with a
fix every 2 minutes for the 14 days (10,080 pings each), moving the same way.
About 1 % of the people live in a case's building, 4 % work in a case's and 2 %
share a case's favourite other place, so that there are real close contacts.

Each method runs in its own process on the baseline size (``--baseline-pings``
pings of as many people as keep 100 pings a person, and the same cases):

- ``fencecheck``: ``fc.companions(people, cases, grid_origin=(116.40, 39.90))``
  from two ping tables in memory (built by ``build_pings`` before the timing,
  which is reported apart), after an untimed warm-up that loads the compiled
  kernels and fits the frame's projection; the cases' slot positions, which
  fencecheck keeps per cases table, are dropped before each timed run, so that
  each run pays for them as the pandas script does (the median with them kept
  is printed too);
- ``pandas``: the script a competent pandas user writes, from two DataFrames
  of the same columns: every track expanded into its per-slot positions with
  numpy (the same rule: slot ends in ``(t_a, min(t_a + hold, t_b)]``,
  interpolated or held), pyproj's Transverse Mercator at the grid origin, each
  person position also keyed to the neighbouring cells it is within 100 m of,
  one ``merge`` with the cases' positions on (slot, cell x, cell y), then a
  ``groupby`` per (person, case); and for the pairs found, a second ``merge``
  on (case, slot) for the smallest distance over every common slot.

Compared, before any time is printed: the pairs (``person_id``, ``case_id``),
``grid_minutes``, ``close_minutes``, ``credible_minutes``, ``first_together``
and ``last_together`` exactly, ``min_distance_m`` within 1e-6 m (not compared:
``grid_robust``, ``max_p_close``). Then ``fencecheck-full`` runs fencecheck
alone on the full ``--pings`` of ``--people``. Peak RSS is the process's peak
(data, ping tables and all) and the peak over the timed runs alone (reset just
before them), next to what the process held before. Both are Linux's ``VmHWM``
(``/proc/self/status``), not ``ru_maxrss``: a worker's ``ru_maxrss`` starts at
its parent's peak, carried through fork and exec, and the parent generated the data.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT, digest, machine, run_worker, timed_runs

METHODS = ("fencecheck", "pandas", "fencecheck-full")
START_MS = 1_651_334_400_000  # 2022-05-01T00:00+08:00, a Sunday
DAYS = 14
DAY_MS = 86_400_000
LON0, LAT0 = 116.40, 39.90
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
SIGMA_PER_ACCURACY = 1.5096
# The rule's numbers, fencecheck's Policy defaults.
SLOT_MS = 60_000
HOLD_MS = 900_000
CELL_M = 800.0
CLOSE_M = 100.0
CREDIBLE_P = 0.9
TMERC = "+proj=tmerc +lat_0=39.9 +lon_0=116.4 +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
COMPARED = (
    "person_id",
    "case_id",
    "grid_minutes",
    "close_minutes",
    "credible_minutes",
    "first_together",
    "last_together",
    "min_distance_m",
)
DISTANCE_TOLERANCE_M = 1e-6


# ------------------------------------------------------------------- the data


def _places(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` places (metres east and north of the centre), denser towards the centre."""
    return np.clip(rng.normal(0.0, 7000.0, (n, 2)), -19_500.0, 19_500.0)


def _positions(t: np.ndarray, owner: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Where each owner is at each time: ``places`` is (owners, 4, 2), home, work, two others.

    Home at night, work 9:00-18:00 on weekdays with an hour's commute either
    side along the straight line, else home or one of the two other places,
    changing every four hours.
    """
    ms = t - START_MS
    day = ms // DAY_MS
    minute = (ms // 60_000) % 1440
    hour = minute // 60
    weekday = (day + 6) % 7 < 5  # day 0 is a Sunday
    home, work = places[owner, 0], places[owner, 1]
    pick = (day * 3 + hour // 4 + owner) % 3  # 0 home, 1 and 2 the other places
    other = places[owner, np.where(pick == 0, 0, pick + 1)]
    out = np.where(((hour < 8) | (hour >= 21))[:, None], home, other)
    out = np.where((weekday & (hour >= 9) & (hour < 18))[:, None], work, out)
    frac = ((minute % 60) / 60.0)[:, None]
    out = np.where((weekday & (hour == 8))[:, None], home + frac * (work - home), out)
    return np.where((weekday & (hour == 18))[:, None], work + frac * (home - work), out)


def _fixes(rng: np.random.Generator, xy: np.ndarray) -> dict[str, np.ndarray]:
    """GPS (80 %, 5-50 m) and cell (20 %, 300-1,500 m) fixes of true positions ``xy``."""
    n = xy.shape[0]
    cell = rng.random(n) < 0.2
    gps_acc = np.round(5.0 + 45.0 * rng.random(n) ** 2)
    accuracy = np.where(cell, rng.integers(300, 1501, n), gps_acc).astype(np.float64)
    xy = xy + rng.normal(0.0, 1.0, (n, 2)) * (accuracy / SIGMA_PER_ACCURACY)[:, None]
    return {
        "lon": LON0 + xy[:, 0] / M_PER_DEG_LON,
        "lat": LAT0 + xy[:, 1] / M_PER_DEG_LAT,
        "accuracy_m": accuracy,  # whole metres: the same in float32 (fencecheck) and float64
    }


def case_places(n_cases: int, seed: int) -> np.ndarray:
    """Each case's home, work and two other places, (cases, 4, 2) metres."""
    rng = np.random.default_rng([seed, 1])
    return _places(rng, n_cases * 4).reshape(n_cases, 4, 2)


def make_cases(n_cases: int, seed: int) -> dict[str, np.ndarray]:
    """A fix every 2 minutes (up to 3 s late) for 14 days per case, by case then time."""
    rng = np.random.default_rng([seed, 2])
    per = DAYS * DAY_MS // 120_000
    owner = np.repeat(np.arange(n_cases, dtype=np.int32), per)
    t = START_MS + np.tile(np.arange(per, dtype=np.int64) * 120_000, n_cases)
    t += rng.integers(0, 3000, t.shape[0])
    xy = _positions(t, owner, case_places(n_cases, seed))
    return {"owner": owner, "t": t, **_fixes(rng, xy)}


def make_people(n_people: int, n_pings: int, n_cases: int, seed: int) -> dict[str, np.ndarray]:
    """``n_pings`` pings of ``n_people`` people, in time order (as a log is)."""
    rng = np.random.default_rng([seed, 3, n_people, n_pings])
    places = _places(rng, n_people * 4).reshape(n_people, 4, 2)
    cases = case_places(n_cases, seed)
    for slot, share, spread in ((0, 0.01, 30.0), (1, 0.04, 40.0), (2, 0.02, 40.0)):
        who = np.flatnonzero(rng.random(n_people) < share)
        case = rng.integers(0, n_cases, who.shape[0])
        places[who, slot] = cases[case, slot] + rng.normal(0.0, spread, (who.shape[0], 2))
    # Sessions of 1 + geometric pings, owned by people of lognormal activity.
    weight = rng.lognormal(0.0, 0.7, n_people)
    n_sessions = n_pings // 3 + 16
    length = rng.geometric(0.25, n_sessions)
    keep = np.searchsorted(np.cumsum(length), n_pings) + 1
    length = length[:keep]
    length[-1] -= int(length.sum()) - n_pings
    owner = rng.choice(n_people, size=keep, p=weight / weight.sum()).astype(np.int32)
    start = START_MS + rng.integers(0, DAYS * DAY_MS - 3_600_000, keep)
    session = np.repeat(np.arange(keep), length)
    step = rng.integers(20_000, 300_001, n_pings)
    step[rng.random(n_pings) < 0.001] = 0  # a few repeated times: the last row counts
    first = np.cumsum(length) - length
    step[first] = 0
    offset = np.cumsum(step)
    offset -= offset[first][session]
    t = start[session] + offset
    owner = owner[session]
    order = np.argsort(t, kind="stable")
    t, owner = t[order], owner[order]
    xy = _positions(t, owner, places)
    return {"owner": owner, "t": t, **_fixes(rng, xy)}


def ids(prefix: str, n: int) -> np.ndarray:
    width = max(4 if prefix == "C" else 6, len(str(n)))
    return np.array([f"{prefix}{i + 1:0{width}d}" for i in range(n)], dtype=object)


def data_path(kind: str, *sizes: int) -> Path:
    return OUT / f"companions_{kind}_{'_'.join(map(str, sizes))}.npz"


def prepare(args: argparse.Namespace, sizes: list[tuple[int, int]]) -> None:
    """Write the cases and each people set once."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = data_path("cases", args.cases, args.seed)
    if not path.exists():
        np.savez(path, **make_cases(args.cases, args.seed))
    for n_people, n_pings in sizes:
        path = data_path("people", n_people, n_pings, args.cases, args.seed)
        if not path.exists():
            begin = time.perf_counter()
            np.savez(path, **make_people(n_people, n_pings, args.cases, args.seed))
            print(
                f"# wrote {n_pings:,} pings of {n_people:,} people in "
                f"{time.perf_counter() - begin:.1f} s: {path}",
                file=sys.stderr,
            )
            gc.collect()


def load(kind: str, prefix: str, *sizes: int) -> dict[str, np.ndarray]:
    """The columns of a data file, ids as text (an object array, as a reader gives)."""
    data = np.load(data_path(kind, *sizes))
    owner = data["owner"]
    names = ids(prefix, int(owner.max()) + 1)
    return {
        "person_id": names[owner],
        "t": data["t"],
        "lon": data["lon"],
        "lat": data["lat"],
        "accuracy_m": data["accuracy_m"],
    }


# ------------------------------------------------------------------ fencecheck


def fencecheck_result(pairs: Any) -> Any:
    """The compared columns of fencecheck's pair table, as a DataFrame by (person, case)."""
    import pandas as pd

    frame = pd.DataFrame({name: pairs.table[name] for name in COMPARED})  # times in UTC ms
    return frame.sort_values(["person_id", "case_id"], ignore_index=True)


# ---------------------------------------------------------------------- pandas


def pandas_companions(people: Any, cases: Any) -> Any:
    """The companion rule in pandas and numpy, as a user would write it."""
    import pandas as pd
    import pyproj
    from scipy.stats import rice

    to_xy = pyproj.Transformer.from_crs("EPSG:4326", TMERC, always_xy=True)

    def slot_positions(pings: Any) -> tuple[Any, Any]:
        """Every known (track, slot end) position, and the tracks' ids."""
        code, names = pd.factorize(pings["person_id"])
        df = pd.DataFrame(
            {
                "who": code,
                "t": pings["t"].to_numpy(),
                "lon": pings["lon"].to_numpy(),
                "lat": pings["lat"].to_numpy(),
                "acc": pings["accuracy_m"].to_numpy(),
            }
        )
        df = df.sort_values(["who", "t"], kind="stable").drop_duplicates(["who", "t"], keep="last")
        who, t, acc = df["who"].to_numpy(), df["t"].to_numpy(), df["acc"].to_numpy()
        x, y = to_xy.transform(df["lon"].to_numpy(), df["lat"].to_numpy())
        has_next = np.append(who[1:] == who[:-1], False)
        t_next = np.append(t[1:], 0)
        # Slot ends e in (t_a, min(t_a + hold, t_b)]: interpolated when t_b - t_a <= hold.
        end = np.where(has_next, np.minimum(t + HOLD_MS, t_next), t + HOLD_MS)
        first = (t // SLOT_MS + 1) * SLOT_MS
        n = np.where(end >= first, (end - first) // SLOT_MS + 1, 0)
        i = np.repeat(np.arange(t.shape[0]), n)
        e = first[i] + SLOT_MS * (np.arange(i.shape[0]) - np.repeat(np.cumsum(n) - n, n))
        j = np.minimum(i + 1, t.shape[0] - 1)
        interp = (has_next & (t_next - t <= HOLD_MS))[i]
        pos = pd.DataFrame({"who": who[i], "e": e})
        with np.errstate(divide="ignore", invalid="ignore"):  # f is unused where held
            f = (e - t[i]) / (t[j] - t[i])
            for name, v in (("x", x), ("y", y), ("acc", acc)):
                pos[name] = np.where(interp, v[i] + f * (v[j] - v[i]), v[i])
        pos["cx"] = np.floor(pos["x"] / CELL_M).astype(np.int64)
        pos["cy"] = np.floor(pos["y"] / CELL_M).astype(np.int64)
        return pos, names

    p_pos, p_names = slot_positions(people)
    c_pos, c_names = slot_positions(cases)

    # A person's position is keyed to its own cell and to each neighbouring cell
    # it is within 100 m of (a case there may be close across the edge).
    fx = p_pos["x"].to_numpy() - p_pos["cx"].to_numpy() * CELL_M
    fy = p_pos["y"].to_numpy() - p_pos["cy"].to_numpy() * CELL_M
    near = {-1: (fx <= CLOSE_M, fy <= CLOSE_M), 1: (CELL_M - fx <= CLOSE_M, CELL_M - fy <= CLOSE_M)}
    keyed = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            mask = np.ones(fx.shape[0], dtype=bool)
            if dx:
                mask &= near[dx][0]
            if dy:
                mask &= near[dy][1]
            part = p_pos[mask].copy()
            part["cx"] += dx
            part["cy"] += dy
            part["same"] = dx == 0 and dy == 0
            keyed.append(part)
    keyed_pos = pd.concat(keyed, ignore_index=True)
    del keyed
    met = keyed_pos.merge(c_pos, on=["e", "cx", "cy"], suffixes=("_p", "_c"))
    del keyed_pos
    met["d"] = np.hypot(met["x_c"] - met["x_p"], met["y_c"] - met["y_p"])
    met["close"] = met["d"] <= CLOSE_M
    met = met[met["same"] | met["close"]]
    s2 = (met["acc_p"] / SIGMA_PER_ACCURACY) ** 2 + (met["acc_c"] / SIGMA_PER_ACCURACY) ** 2
    sigma = np.sqrt(s2.to_numpy())
    p_close = rice.cdf(CLOSE_M / sigma, met["d"].to_numpy() / sigma)
    met = met.assign(credible=met["close"].to_numpy() & (p_close >= CREDIBLE_P))
    pairs = (
        met.groupby(["who_p", "who_c"])
        .agg(
            grid=("same", "sum"),
            close=("close", "sum"),
            credible=("credible", "sum"),
            first=("e", "min"),
            last=("e", "max"),
        )
        .reset_index()
    )
    # The smallest distance over every slot where both positions are known.
    p_xy = p_pos[["who", "e", "x", "y"]].rename(columns={"who": "who_p"})
    c_xy = c_pos[["who", "e", "x", "y"]].rename(columns={"who": "who_c"})
    both = p_xy.merge(pairs[["who_p", "who_c"]], on="who_p").merge(
        c_xy, on=["who_c", "e"], suffixes=("_p", "_c")
    )
    both["d"] = np.hypot(both["x_c"] - both["x_p"], both["y_c"] - both["y_p"])
    min_d = both.groupby(["who_p", "who_c"])["d"].min().rename("min_distance_m").reset_index()
    pairs = pairs.merge(min_d, on=["who_p", "who_c"])
    minute = SLOT_MS / 60_000
    out = pd.DataFrame(
        {
            "person_id": p_names[pairs["who_p"].to_numpy()],
            "case_id": c_names[pairs["who_c"].to_numpy()],
            "grid_minutes": pairs["grid"].to_numpy() * minute,
            "close_minutes": pairs["close"].to_numpy() * minute,
            "credible_minutes": pairs["credible"].to_numpy() * minute,
            "first_together": pairs["first"].to_numpy() - SLOT_MS,
            "last_together": pairs["last"].to_numpy(),
            "min_distance_m": pairs["min_distance_m"].to_numpy(),
        }
    )
    return out.sort_values(["person_id", "case_id"], ignore_index=True)


# --------------------------------------------------------------------- workers


def _forget_cases() -> None:
    """Drop the cases' slot positions fencecheck keeps per cases table, if it keeps any."""
    import importlib

    module = importlib.import_module("fencecheck.judging.companions")
    cache = getattr(module, "_CASE_CACHE", None)
    if cache is not None:
        cache.clear()


def _hwm_reset() -> bool:
    """Reset the process's peak RSS (Linux ``clear_refs``); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def _status_mb(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status``, in MB (NaN without it)."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def worker(method: str, args: argparse.Namespace) -> None:
    import pandas as pd

    if method == "fencecheck-full":
        n_people, n_pings = args.people, args.pings
    else:
        n_people, n_pings = baseline_people(args), args.baseline_pings
    people_cols = load("people", "P", n_people, n_pings, args.cases, args.seed)
    case_cols = load("cases", "C", args.cases, args.seed)
    build_s = float("nan")
    if method == "pandas":
        import pyproj  # noqa: F401  (imports are not what is timed)
        import scipy.stats  # noqa: F401

        people, cases = pd.DataFrame(people_cols), pd.DataFrame(case_cols)
        del people_cols, case_cols
        timed: Callable[[], Any] = lambda: pandas_companions(people, cases)  # noqa: E731
    else:
        import fencecheck as fc
        from fencecheck.pings import build_pings

        begin = time.perf_counter()
        people = build_pings(people_cols, epoch_unit="ms")
        cases = build_pings(case_cols, epoch_unit="ms")
        build_s = time.perf_counter() - begin
        del people_cols, case_cols
        gc.collect()
        # Warm-up: the compiled kernels, the frame's projection, scipy's rice.
        fc.companions(people.take(slice(0, len(people) // 20)), cases, grid_origin=(LON0, LAT0))

        def timed() -> Any:
            _forget_cases()  # each run prepares the cases' positions, as the pandas script does
            return fc.companions(people, cases, grid_origin=(LON0, LAT0))

    held_mb, before_mb = _status_mb("VmRSS"), _status_mb("VmHWM")
    reset = _hwm_reset()
    result, times, maxrss_mb = timed_runs(timed, args.repeat)
    # ru_maxrss (timed_runs' figure) starts from the parent's peak: Linux carries the
    # old memory's high-water mark through fork and exec. VmHWM is this process's own.
    runs_peak_mb = _status_mb("VmHWM")
    peak_mb = max(before_mb, runs_peak_mb) if reset else maxrss_mb
    frame = fencecheck_result(result) if method.startswith("fencecheck") else result
    warm_times: list[float] = []
    if method == "fencecheck":
        # The same with the cases' positions kept from a first call (fencecheck keeps
        # them per cases table while it lives): what a service judging batch after batch pays.
        def again() -> Any:
            return fc.companions(people, cases, grid_origin=(LON0, LAT0))

        again()
        warm, warm_times, _ = timed_runs(again, args.repeat)
        if differences(frame, fencecheck_result(warm)):
            raise SystemExit("fencecheck: the answers change with the cases' positions kept")
    path = OUT / f"companions_result_{method}_{n_pings}_{args.cases}_{args.seed}.pkl"
    frame.to_pickle(path)
    counts = {
        "pairs": len(frame),
        "grid_rule": int((frame["grid_minutes"] >= 10).sum()),
        "close": int((frame["close_minutes"] > 0).sum()),
        "credible_10": int((frame["credible_minutes"] >= 10).sum()),
        "people_flagged": int(frame.loc[frame["grid_minutes"] >= 10, "person_id"].nunique()),
    }
    keys = frame[["grid_minutes", "close_minutes", "credible_minutes"]].to_numpy()
    print(
        json.dumps(
            {
                "method": method,
                "people": n_people,
                "pings": n_pings,
                "times": times,
                "warm_times": warm_times,
                "build_s": build_s,
                "peak_mb": peak_mb,
                "runs_peak_mb": runs_peak_mb,
                "held_mb": held_mb,
                "digest": digest(np.ascontiguousarray(keys)),
                "result": str(path),
                **counts,
            }
        )
    )


# ---------------------------------------------------------------------- parent


def baseline_people(args: argparse.Namespace) -> int:
    """As many people as keep the full data's pings per person at the baseline size."""
    return max(1, round(args.people * args.baseline_pings / args.pings))


def differences(ours: Any, theirs: Any, limit: int = 10) -> list[str]:
    """The first differences between the compared columns of two pair tables."""
    import pandas as pd

    both = ours.merge(
        theirs, on=["person_id", "case_id"], how="outer", suffixes=("", "_pd"), indicator=True
    )
    out = []
    lone = both[both["_merge"] != "both"]
    for _, row in lone.head(limit).iterrows():
        side = "fencecheck only" if row["_merge"] == "left_only" else "pandas only"
        out.append(f"{row['person_id']} {row['case_id']}: {side}")
    paired = both[both["_merge"] == "both"]
    bad = pd.Series(False, index=paired.index)
    for name in COMPARED[2:]:
        a, b = paired[name].to_numpy(), paired[name + "_pd"].to_numpy()
        if name == "min_distance_m":
            bad |= ~(np.abs(a - b) <= DISTANCE_TOLERANCE_M)
        else:
            bad |= a != b
    for _, row in paired[bad].head(limit).iterrows():
        values = ", ".join(f"{n} {row[n]!r} vs {row[n + '_pd']!r}" for n in COMPARED[2:])
        out.append(f"{row['person_id']} {row['case_id']}: {values}")
    if len(lone) + int(bad.sum()):
        out.insert(0, f"{len(lone)} pairs on one side only, {int(bad.sum())} pairs differing")
    return out


def check(results: dict[str, Any]) -> None:
    """Exit non-zero, printing the first differences, unless the baselines agree."""
    import pandas as pd

    if not {"fencecheck", "pandas"} <= set(results):
        return
    ours = pd.read_pickle(results["fencecheck"]["result"])
    theirs = pd.read_pickle(results["pandas"]["result"])
    diff = differences(ours, theirs)
    if diff:
        print("\n".join(diff), file=sys.stderr)
        raise SystemExit("fencecheck and pandas disagree; no timings printed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--pings", type=int, default=10_000_000)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument(
        "--baseline-pings",
        type=int,
        default=1_000_000,
        help="pings of the size both methods run on (people in proportion; default 1,000,000)",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20221101)
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args)
        return
    methods = args.methods.split(",")
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods {sorted(unknown)}; choose from {', '.join(METHODS)}")
    sizes = []
    if {"fencecheck", "pandas"} & set(methods):
        sizes.append((baseline_people(args), args.baseline_pings))
    if "fencecheck-full" in methods:
        sizes.append((args.people, args.pings))
    prepare(args, sizes)
    argv = [
        "--people", str(args.people), "--pings", str(args.pings), "--cases", str(args.cases),
        "--baseline-pings", str(args.baseline_pings), "--repeat", str(args.repeat),
        "--seed", str(args.seed),
    ]  # fmt: skip
    results = {}
    for method in methods:
        results[method] = run_worker(Path(__file__), method, *argv)
        print(f"# {method} done", file=sys.stderr)
    check(results)

    print(
        f"# companions: {args.cases} cases x {DAYS * DAY_MS // 120_000:,} pings (a fix every "
        f"2 min, 14 days); people at {args.pings // args.people} pings each; grid origin "
        f"{LON0:.2f},{LAT0:.2f}; median of {args.repeat}; {machine()}"
    )
    if {"fencecheck", "pandas"} <= set(results):
        print(
            "# baseline answers identical: pairs, grid, close and credible minutes, first and "
            f"last together exactly; min_distance_m (over every common slot) within "
            f"{DISTANCE_TOLERANCE_M:g} m"
        )
    print(
        f"{'method':16s} {'pings':>11s} {'people':>8s} {'median s':>9s} {'min s':>7s} "
        f"{'build s':>8s} {'peak MB':>8s} {'runs MB':>8s} {'held MB':>8s} {'pairs':>8s} "
        f"{'grid>=10':>8s} {'close':>7s} {'cred>=10':>8s} {'flagged':>8s}"
    )
    for method, r in results.items():
        med = statistics.median(r["times"])
        print(
            f"{method:16s} {r['pings']:11,d} {r['people']:8,d} {med:9.3f} {min(r['times']):7.3f} "
            f"{r['build_s']:8.2f} {r['peak_mb']:8.0f} {r['runs_peak_mb']:8.0f} "
            f"{r['held_mb']:8.0f} {r['pairs']:8,d} {r['grid_rule']:8,d} {r['close']:7,d} "
            f"{r['credible_10']:8,d} {r['people_flagged']:8,d}"
        )
    if {"fencecheck", "pandas"} <= set(results):
        ours = statistics.median(results["fencecheck"]["times"])
        theirs = statistics.median(results["pandas"]["times"])
        with_build = ours + results["fencecheck"]["build_s"]
        ratio = theirs / ours
        print(
            f"fencecheck is {ratio:.1f}x faster than the pandas script "
            f"({theirs / with_build:.1f}x counting build_pings); target >= 20x: "
            f"{'met' if ratio >= 20 else 'MISSED'}"
        )
        warm = results["fencecheck"]["warm_times"]
        if warm:
            print(
                f"with the cases' positions kept from an earlier call: "
                f"{statistics.median(warm):.3f} s, {theirs / statistics.median(warm):.1f}x"
            )
    if "fencecheck-full" in results:
        r = results["fencecheck-full"]
        print(
            f"fencecheck at {r['pings']:,} pings: {statistics.median(r['times']):.2f} s, process "
            f"peak {r['peak_mb']:,.0f} MB; target < 2,048 MB: "
            f"{'met' if r['peak_mb'] < 2048 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
