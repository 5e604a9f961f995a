"""The companion rule across a whole city: per-case statistics and what-if rows for a scan.

With confirmed cases, :func:`fencecheck.scan` adds a ``cases`` table, one row
per case that shared a cell or came close to anyone: the people whose pair
fired the grid rule or came close, and what each such pair was on its own
(``exposed``: credibly close for ``policy.min_together_s``; ``passed_through``:
credibly close for less; ``grid_coarse``: the grid rule alone), the share of
grid-only pairs, and ``decisive_for`` (people whose verdict that case decides).

The ``whatif`` table gains the companion rules of :data:`COMPANION_RULES`:
the same people and cases judged with a finer grid, a longer time together,
or without cell fixes. A person counts as flagged under such a rule when the
grid rule still fires for them (or a fence still flags them: fences do not
change with the companion rule).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.judging.companions import Companions, companions
from fencecheck.options import Source
from fencecheck.pings import PingTable
from fencecheck.policy import Policy
from fencecheck.tables import Table

__all__ = ["CASE_OUTCOMES", "COMPANION_RULES", "case_pairs", "case_table", "companion_flags"]

COMPANION_RULES: tuple[tuple[str, str], ...] = (
    ("grid_400m", "the grid rule with cells of 400 m"),
    ("grid_200m", "the grid rule with cells of 200 m"),
    ("together_30min", "the grid rule at 30 minutes together"),
    ("companions_no_cell_fixes", "the grid rule without cell fixes (people's and cases')"),
)
"""The companion what-if rules (name, description), added to the scan's when cases are given."""
CASE_OUTCOMES = ("exposed", "passed_through", "grid_coarse")
"""What one (person, case) pair can be on its own."""


def pair_outcomes(pairs: Companions) -> NDArray[np.int8]:
    """Per pair, 0 exposed, 1 passed_through, 2 grid_coarse, or -1 (close, never credibly)."""
    table = pairs.table
    credible = np.asarray(table["credible_minutes"], dtype=np.float64)
    need = pairs.policy.min_together_s / 60.0
    return np.select(
        [credible >= need - 1e-9, credible > 0, np.asarray(table["grid_rule"], dtype=bool)],
        [0, 1, 2],
        -1,
    ).astype(np.int8)


def case_pairs(v: Any) -> dict[str, NDArray[Any]]:
    """Per pair that fired or came credibly close: its case id, outcome, and if it decides."""
    pairs: Companions | None = v.companions
    if pairs is None or len(pairs) == 0:
        empty = np.zeros(0, dtype=np.int8)
        return {"case_id": np.zeros(0, dtype=object), "outcome": empty, "decides": empty > 0}
    outcome = pair_outcomes(pairs)
    keep = outcome >= 0
    decides = np.zeros(len(pairs), dtype=bool)
    if v.case_pair is not None and v.case_decides is not None:
        chosen = v.case_pair[v.case_decides]
        decides[chosen[chosen >= 0]] = True
    return {
        "case_id": np.asarray(pairs.table["case_id"], dtype=object)[keep],
        "outcome": outcome[keep],
        "decides": decides[keep],
    }


def case_table(parts: list[dict[str, NDArray[Any]]]) -> Table:
    """One row per case: its people, their outcomes, the grid-only share, whom it decides for."""
    case_id = np.concatenate([p["case_id"] for p in parts]) if parts else np.zeros(0, object)
    outcome = np.concatenate([p["outcome"] for p in parts]) if parts else np.zeros(0, np.int8)
    decides = np.concatenate([p["decides"] for p in parts]) if parts else np.zeros(0, bool)
    ids, slot = np.unique(case_id.astype(str), return_inverse=True)
    n = ids.shape[0]
    counts = {
        name: np.bincount(slot[outcome == k], minlength=n).astype(np.int64)
        for k, name in enumerate(CASE_OUTCOMES)
    }
    people = np.bincount(slot, minlength=n).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(people > 0, counts["grid_coarse"] / np.maximum(people, 1), np.nan)
    return Table(
        {
            "case_id": ids.astype(object),
            "people": people,
            **counts,
            "false_share": share,
            "decisive_for": np.bincount(slot[decides], minlength=n).astype(np.int64),
        }
    )


def companion_flags(
    pings: PingTable,
    cases: PingTable,
    v: Any,
    slot: NDArray[np.int64],
    policy: Policy,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per person (a row of ``v``): whether the grid rule fires today, and under each rule.

    Each rule is judged over the same lookbacks as today's pairs (``v.companions.windows``).
    """
    n = len(v)
    origin, windows = v.companions.grid_origin, v.companions.windows

    def fires(found: Companions) -> NDArray[np.bool_]:
        out = np.zeros(n, dtype=bool)
        if len(found):
            rule = np.asarray(found.table["grid_rule"], dtype=bool)
            out[slot[found.person_code[rule]]] = True
        return out

    today = fires(v.companions)
    variants = {
        "grid_400m": (pings, cases, policy.replace(cell_m=400.0)),
        "grid_200m": (pings, cases, policy.replace(cell_m=200.0)),
        "together_30min": (pings, cases, policy.replace(min_together_s=1800.0)),
        "companions_no_cell_fixes": (
            pings.take(pings.source != Source.CELL.code),
            cases.take(cases.source != Source.CELL.code),
            policy,
        ),
    }
    flags = np.zeros((n, len(COMPANION_RULES)), dtype=bool)
    for r, (name, _) in enumerate(COMPANION_RULES):
        people, theirs, rules = variants[name]
        found = companions(people, theirs, grid_origin=origin, policy=rules, windows=windows)
        flags[:, r] = fires(found)
    return today, flags
