"""Seeded synthetic ping files for the reading benchmark.

People wander around Beijing (a 40 km x 40 km box around 116.40 E, 39.90 N) over
14 days from 2022-04-25; 70 % of pings are GPS (5-50 m), 30 % cell (200-1500 m).
Times are written in ISO 8601 with a +08:00 offset. Deterministic for a seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

START = 1_650_816_000  # 2022-04-24T16:00:00Z = 2022-04-25 00:00 Beijing
DAYS = 14
M_PER_DEG_LAT = 111_000.0


def make_columns(n: int, seed: int = 20220502) -> dict[str, np.ndarray]:
    """Columns of n pings from n // 100 people, sorted by person then time."""
    rng = np.random.default_rng(seed)
    people = max(1, n // 100)
    person = np.sort(rng.integers(0, people, n))
    t = START + rng.integers(0, DAYS * 86_400, n)
    order = np.lexsort((t, person))
    person, t = person[order], t[order]
    home_x = rng.uniform(-20_000, 20_000, people)
    home_y = rng.uniform(-20_000, 20_000, people)
    x = home_x[person] + rng.normal(0, 1500, n)
    y = home_y[person] + rng.normal(0, 1500, n)
    cell = rng.random(n) < 0.3
    accuracy = np.where(cell, rng.uniform(200, 1500, n), rng.uniform(5, 50, n)).round(1)
    lat = 39.90 + y / M_PER_DEG_LAT
    lon = 116.40 + x / (M_PER_DEG_LAT * np.cos(np.radians(39.90)))
    return {
        "person_id": np.char.zfill(person.astype(str), 6),
        "t": t,
        "lon": lon.round(6),
        "lat": lat.round(6),
        "accuracy_m": accuracy,
        "source": np.where(cell, "cell", "gps"),
    }


def iso_local(t: np.ndarray) -> np.ndarray:
    """Epoch seconds as ISO 8601 Beijing time with an explicit +08:00 offset."""
    local = (t + 8 * 3600).astype("datetime64[s]")
    return np.char.add(np.datetime_as_string(local, unit="s"), "+08:00")


def write_csv(columns: dict[str, np.ndarray], path: Path, block: int = 500_000) -> None:
    """Write the columns as a CSV file with docs/contract.md's header."""
    n = columns["t"].shape[0]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("person_id,t,lon,lat,accuracy_m,source\n")
        for start in range(0, n, block):
            sl = slice(start, start + block)
            fields = [
                columns["person_id"][sl],
                iso_local(columns["t"][sl]),
                np.char.mod("%.6f", columns["lon"][sl]),
                np.char.mod("%.6f", columns["lat"][sl]),
                np.char.mod("%.1f", columns["accuracy_m"][sl]),
                columns["source"][sl],
            ]
            lines = fields[0]
            for field in fields[1:]:
                lines = np.char.add(np.char.add(lines, ","), field)
            handle.write("\n".join(lines.tolist()))
            handle.write("\n")


def write_parquet(columns: dict[str, np.ndarray], path: Path) -> None:
    """Write the columns as Parquet, ``t`` as timestamp[s, tz=UTC]."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "person_id": pa.array(columns["person_id"].astype(object), pa.string()),
            "t": pa.array(columns["t"].astype("datetime64[s]"), pa.timestamp("s", tz="UTC")),
            "lon": columns["lon"],
            "lat": columns["lat"],
            "accuracy_m": columns["accuracy_m"],
            "source": pa.array(columns["source"].astype(object), pa.string()),
        }
    )
    pq.write_table(table, path, row_group_size=1_000_000)
