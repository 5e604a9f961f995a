"""Readable trajectory builders for scenario tests, in a metric frame.

A :class:`Trail` is one person's pings, written the way one tells the story::

    trail = Trail("P1", FRAME, start="2022-05-01T09:00:00+08:00")
    trail.stay(at=(0, 0), minutes=40)            # a GPS fix a minute, 10 m accuracy
    trail.drive(to=(2_000, 0), kmh=40)           # along a straight road
    trail.cell_fix(at=(900, 0))                  # one coarse fix, 1,000 m accuracy
    trail.fix(at=(8_000, 0))                     # one GPS fix, a minute after the last

Positions are metres east and north in the frame; :meth:`Trail.columns` gives
lon/lat columns for :func:`fencecheck.pings.build_pings`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fencecheck.frame import MetricFrame
from fencecheck.pings import PingTable, build_pings
from fencecheck.times import parse_time

MINUTE_MS = 60_000


class Trail:
    """One person's pings, built step by step."""

    def __init__(self, person: str, frame: MetricFrame, start: str) -> None:
        self.person = person
        self.frame = frame
        self.now = parse_time(start)
        self.x: list[float] = []
        self.y: list[float] = []
        self.t: list[int] = []
        self.accuracy: list[float] = []
        self.source: list[str] = []
        self.here = (0.0, 0.0)

    def _add(self, x: float, y: float, accuracy: float, source: str) -> None:
        self.x.append(float(x))
        self.y.append(float(y))
        self.t.append(int(self.now))
        self.accuracy.append(float(accuracy))
        self.source.append(source)

    def stay(
        self,
        at: tuple[float, float],
        minutes: float,
        every_s: float = 60.0,
        accuracy: float = 10.0,
        jitter_m: float = 0.0,
        seed: int = 0,
    ) -> Trail:
        """Stay at a place, a fix every ``every_s`` seconds (the first one now)."""
        rng = np.random.default_rng(seed)
        n = int(minutes * 60 // every_s) + 1
        for k in range(n):
            dx, dy = rng.normal(0.0, jitter_m, 2) if jitter_m else (0.0, 0.0)
            self._add(at[0] + dx, at[1] + dy, accuracy, "gps")
            if k < n - 1:
                self.now += int(every_s * 1000)
        self.here = at
        return self

    def wait(self, minutes: float) -> Trail:
        """Let time pass with no fix (a quiet logger)."""
        self.now += int(minutes * MINUTE_MS)
        return self

    def drive(
        self, to: tuple[float, float], kmh: float, every_s: float = 60.0, accuracy: float = 10.0
    ) -> Trail:
        """Drive in a straight line to ``to``, a fix every ``every_s`` seconds on the way."""
        x0, y0 = self.here
        length = float(np.hypot(to[0] - x0, to[1] - y0))
        seconds = length / (kmh / 3.6)
        steps = max(1, int(np.ceil(seconds / every_s)))
        for k in range(1, steps + 1):
            f = k / steps
            self.now += int(seconds / steps * 1000)
            self._add(x0 + f * (to[0] - x0), y0 + f * (to[1] - y0), accuracy, "gps")
        self.here = to
        return self

    def fix(
        self,
        at: tuple[float, float],
        accuracy: float = 10.0,
        after_s: float = 60,
        source: str = "gps",
    ) -> Trail:
        """One fix, ``after_s`` seconds after the last one (now, for the very first)."""
        if self.t:
            self.now += int(after_s * 1000)
        self._add(at[0], at[1], accuracy, source)
        return self

    def cell_fix(
        self, at: tuple[float, float], accuracy: float = 1000.0, after_s: float = 60
    ) -> Trail:
        """One coarse cell fix, ``after_s`` seconds after the last one."""
        return self.fix(at, accuracy, after_s, source="cell")

    def columns(self) -> dict[str, Any]:
        """Columns in docs/contract.md's names (times as UTC epoch milliseconds)."""
        lon, lat = self.frame.to_lonlat(np.array(self.x), np.array(self.y))
        return {
            "person_id": np.array([self.person] * len(self.t), dtype=object),
            "t": np.array(self.t, dtype=np.int64),
            "lon": lon,
            "lat": lat,
            "accuracy_m": np.array(self.accuracy),
            "source": np.array(self.source, dtype=object),
        }


def pings_of(*trails: Trail) -> PingTable:
    """A ping table of several people's trails."""
    parts = [trail.columns() for trail in trails]
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    return build_pings(columns, epoch_unit="ms")
