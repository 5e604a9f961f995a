"""Every threshold of the explaining rules, in one documented, replaceable object.

docs/domain.md, section 4, fixes the rules; the numbers they use live here, with the
defaults of the seed's May 2022 Beijing practice, so that none is buried in
code. A :class:`Policy` is immutable; ``policy.replace(min_dwell_s=300)`` makes a
variant (for a what-if, say).

Examples
--------
>>> policy = Policy()
>>> policy.gap_s, policy.min_dwell_s, policy.credible_p
(900.0, 600.0, 0.9)
>>> policy.replace(min_dwell_s=300).min_dwell_s
300.0
>>> Policy(gap_s=-1)
Traceback (most recent call last):
...
fencecheck.errors.OptionError: gap_s: -1 must be a finite number >= 0
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from fencecheck.errors import OptionError

__all__ = ["Policy"]


@dataclass(frozen=True)
class Policy:
    """Thresholds for episodes and verdicts.

    Parameters
    ----------
    gap_s : float
        Two hits on the same fence and window at most this far apart (seconds)
        belong to one episode: loggers go quiet while a phone lies still, and a
        ping that flaps out across the boundary does not end a stay. Default
        900 (15 minutes, docs/domain.md).
    min_dwell_s : float
        The shortest stay (dwell lower bound, seconds) that counts as an
        exposure. Default 600 (10 minutes).
    credible_p : float
        A ping is credible when its ``p_inside`` is at least this (and it is
        not a location jump). Default 0.9.
    stay_radius_m : float
        The stay detector: an episode is ``stopped`` when some of its pings
        stay within this distance (metres) of the first of them ...
    stay_min_s : float
        ... for at least this long (seconds). Defaults 100 m and 600 s.
    max_speed_mps : float
        Beyond any person: a fix whose implied speeds (accuracy-aware,
        docs/domain.md) from and to its neighbours both exceed this, while the
        neighbours agree with each other, is a location jump. Default 70 m/s
        (252 km/h, beyond any road vehicle; a passenger on a 350 km/h train is
        not flagged, because the neighbours' own speed is as high).
    near_miss_radius_m : float
        An unexplained pop-up lists the fences that came within this distance
        of the person's pings (default 3,000 m) ...
    near_misses : float
        ... the nearest this many of them (default 3).
    mistake_share : float
        An upstream mistake (zone slip, datum mix-up) is named as the cause only
        when it is specific: at most this share of the same kind of error made
        in ways the mistake could not (other whole-hour shifts, the displacement
        turned into 16 other directions) reproduces a hit too. Default 0.25:
        most alternatives must not hit, and we ask three quarters; else the
        report says "possibly".
    coverage_gap_s : float
        A stretch of the lookback without a single ping at least this long
        (seconds) is reported as missing data. Default 21,600 (6 hours).
    slot_s : float
        The companion rule (docs/domain.md, "Risk persons"): time is cut into
        slots of this many seconds, aligned on the Unix epoch. Default 60.
    hold_s : float
        A track's position at a slot's end is known when its last ping is at
        most this old (seconds); it is interpolated towards the next ping when
        that one is at most this far after. Default 900.
    cell_m : float
        The grid's cells are squares of this side (metres). Default 800.
    min_together_s : float
        The grid rule fires, and credibly close time makes an exposure, from this
        long together (seconds). Default 600 (10 minutes).
    close_m : float
        Two phones are close within this distance (metres); a slot is credibly
        close when the probability that they really were (``p_close``) is at
        least ``credible_p``. Default 100.
    """

    gap_s: float = 900.0
    min_dwell_s: float = 600.0
    credible_p: float = 0.9
    stay_radius_m: float = 100.0
    stay_min_s: float = 600.0
    max_speed_mps: float = 70.0
    near_miss_radius_m: float = 3000.0
    near_misses: float = 3
    mistake_share: float = 0.25
    coverage_gap_s: float = 21_600.0
    slot_s: float = 60.0
    hold_s: float = 900.0
    cell_m: float = 800.0
    min_together_s: float = 600.0
    close_m: float = 100.0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise OptionError(f"{field.name}: {value!r} must be a finite number >= 0")
            if not math.isfinite(value) or value < 0:
                raise OptionError(f"{field.name}: {value!r} must be a finite number >= 0")
            object.__setattr__(self, field.name, float(value))
        for name in ("credible_p", "mistake_share"):
            if getattr(self, name) > 1:
                raise OptionError(f"{name}: {getattr(self, name)!r} must be at most 1")
        for name in ("slot_s", "cell_m"):
            if getattr(self, name) <= 0:
                raise OptionError(f"{name}: {getattr(self, name)!r} must be more than 0")

    def replace(self, **changes: Any) -> Policy:
        """A copy with some thresholds changed (checked like the originals)."""
        return dataclasses.replace(self, **changes)
