"""Explanations as tables, for a notebook or a file.

- :func:`explanation_table` and :func:`episode_table`: a list of
  :class:`~fencecheck.Explanation` as two :class:`~fencecheck.Table` objects (one
  row per person, one row per episode), with ``to_pandas``, ``to_csv`` and
  ``to_parquet`` (times ``timestamp[ms, UTC]``, as docs/contract.md names them).

pandas, GeoPandas and pyarrow are imported only when a function needs them; a
missing one raises :class:`~fencecheck.MissingDependencyError` naming the extra.

Examples
--------
>>> import fencecheck as fc
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> explanations = fc.explain(fc.read_pings("data/samples/pings.csv"), index)
>>> table = explanation_table(explanations)
>>> dict(zip(table["person_id"], table["verdict"]))["P06"]
'false_trigger'
>>> len(episode_table(explanations)) == sum(len(e.episodes) for e in explanations)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fencecheck.tables import NO_TIME, Table
from fencecheck.times import parse_time

if TYPE_CHECKING:
    from fencecheck.judging.explain import Explanation

__all__ = ["episode_table", "explanation_table"]

EXPLANATION_TIMES = ("at", "entry", "exit")
"""The time columns of :func:`explanation_table`."""
EPISODE_TIMES = ("entry", "exit")
"""The time columns of :func:`episode_table`."""
_DECISIVE_FIELDS: dict[str, Any] = {
    "entry": np.int64, "exit": np.int64, "dwell_s": np.float64, "dwell_s_max": np.float64,
    "pings": np.int64, "max_depth_m": np.float64, "p_inside": np.float64,
}  # fmt: skip
_EPISODE_FIELDS: dict[str, Any] = {
    "fence_id": object, "name": object, "kind": object, **_DECISIVE_FIELDS, "p_typical": np.float64,
    "speed_mps": np.float64, "stopped": np.bool_, "credible_pings": np.int64,
    "jump_pings": np.int64,
}  # fmt: skip


def explanation_table(explanations: Sequence[Explanation]) -> Table:
    """One row per explanation, the decisive episode and the nearest miss flattened.

    Columns: ``person_id``, ``at``, ``lookback_s``, ``verdict``, ``reasons``
    (``;``-separated), ``advice``, the decisive finding's ``fence_id``, ``name``, ``kind``,
    ``entry``, ``exit``, ``dwell_s``, ``dwell_s_max``, ``pings``,
    ``max_depth_m`` and ``p_inside`` (empty without one), ``episodes`` (how
    many), the nearest miss's ``near_fence_id``, ``near_m`` and ``near_gap_s``,
    and the text in Chinese (``text``) and English (``text_en``).
    """
    rows = list(explanations)
    n = len(rows)

    def column(values: list[Any], dtype: Any) -> NDArray[Any]:
        return np.array(values, dtype=dtype) if n else np.zeros(0, dtype=dtype)

    columns: dict[str, NDArray[Any]] = {
        "person_id": column([e.person_id for e in rows], object),
        "at": column([e.at for e in rows], np.int64),
        "lookback_s": column([e.lookback_s for e in rows], np.float64),
        "verdict": column([e.verdict for e in rows], object),
        "reasons": column([";".join(e.reasons) for e in rows], object),
        "advice": column([e.advice_key for e in rows], object),
        "fence_id": column([_field(e.decisive, "fence_id", "") for e in rows], object),
        "name": column([_field(e.decisive, "name", "") or "" for e in rows], object),
        "kind": column([_field(e.decisive, "kind", "") for e in rows], object),
    }
    for name, dtype in _DECISIVE_FIELDS.items():
        values = [_typed(_field(e.decisive, name), dtype) for e in rows]
        if name in EPISODE_TIMES:
            values = [
                NO_TIME if e.decisive is None else v for e, v in zip(rows, values, strict=True)
            ]
        columns[name] = column(values, dtype)
    nearest = [e.near_misses[0] if e.near_misses else None for e in rows]
    columns["episodes"] = column([len(e.episodes) for e in rows], np.int64)
    columns["near_fence_id"] = column([_field(m, "fence_id", "") for m in nearest], object)
    columns["near_m"] = column([_typed(_field(m, "distance_m"), np.float64) for m in nearest],
                               np.float64)  # fmt: skip
    columns["near_gap_s"] = column(
        [_typed(_field(m, "time_gap_s"), np.float64) for m in nearest], np.float64
    )
    columns["text"] = column([e.to_text("zh") for e in rows], object)
    columns["text_en"] = column([e.to_text("en") for e in rows], object)
    return Table(columns, times=EXPLANATION_TIMES)


def episode_table(explanations: Sequence[Explanation]) -> Table:
    """One row per episode of every explanation, with ``person_id`` and ``decisive``.

    Columns: ``person_id``, ``decisive`` (whether it is the person's decisive
    episode), then the episode's JSON fields (``fence_id``, ``name``, ``kind``, ``entry``,
    ``exit``, ``dwell_s``, ``dwell_s_max``, ``pings``, ``max_depth_m``,
    ``p_inside``, ``p_typical``, ``speed_mps``, ``stopped``, ``credible_pings``,
    ``jump_pings``).
    """
    person: list[str] = []
    decisive: list[bool] = []
    values: dict[str, list[Any]] = {name: [] for name in _EPISODE_FIELDS}
    for e in explanations:
        for episode in e.episodes:
            person.append(e.person_id)
            decisive.append(episode == e.decisive)
            for name, dtype in _EPISODE_FIELDS.items():
                values[name].append(_typed(episode.get(name), dtype))
    columns: dict[str, NDArray[Any]] = {
        "person_id": np.array(person, dtype=object),
        "decisive": np.array(decisive, dtype=bool),
    }
    for name, dtype in _EPISODE_FIELDS.items():
        columns[name] = np.array(values[name], dtype=dtype)
    return Table(columns, times=EPISODE_TIMES)


def _field(record: dict[str, Any] | None, name: str, missing: Any = None) -> Any:
    return missing if record is None else record.get(name, missing)


def _typed(value: Any, dtype: Any) -> Any:
    """A JSON value as its column's type.

    ISO times become milliseconds, missing counts 0, missing numbers NaN and
    missing text ``""`` (callers set a missing time to NO_TIME).
    """
    if dtype is np.int64:
        if isinstance(value, str):
            return parse_time(value)
        return 0 if value is None else int(value)
    if dtype is np.float64:
        return np.nan if value is None else float(value)
    if dtype is np.bool_:
        return bool(value)
    return "" if value is None else str(value)
