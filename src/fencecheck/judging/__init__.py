"""From hits to verdicts: the building blocks of ``fencecheck.explain`` and ``scan``.

Each module takes the tables of the layers below (pings, fences, hits, the
index) and adds one step of judging:

- :func:`find_jumps` (:mod:`~fencecheck.judging.jumps`): accuracy-aware implied speeds;
- :func:`find_episodes` (:mod:`~fencecheck.judging.episodes`): stays and passages,
  dwell measured on credible pings;
- :func:`near_misses` (:mod:`~fencecheck.judging.near`): the fences that came closest;
- :func:`judge` (:mod:`~fencecheck.judging.verdicts`): every person's verdict as columns;
- :func:`companions` (:mod:`~fencecheck.judging.companions`): the companion grid rule
  against confirmed cases' phones, and whether the two were ever really close;
- :func:`plot_explanation`, :func:`plot_fence` (:mod:`~fencecheck.judging.plot`): maps;
- :class:`~fencecheck.Explanation` (:mod:`~fencecheck.judging.explain`): one report per person;
- :class:`~fencecheck.Scan` (:mod:`~fencecheck.judging.scan`,
  :mod:`~fencecheck.judging.scan_file`): the city's tables, in memory or from a file;
- :func:`explanation_table`, :func:`episode_table` (:mod:`~fencecheck.judging.tables`).

The rules are those of ``docs/domain.md``; every threshold is a field of
:class:`~fencecheck.Policy`.

Examples
--------
>>> import fencecheck as fc
>>> from fencecheck import judging
>>> index = fc.FenceIndex.build(fc.read_fences("data/samples/fences.geojson"))
>>> verdicts = judging.judge(fc.read_pings("data/samples/pings.csv"), index)
>>> sorted(set(verdicts.verdict.tolist()))
['exposed', 'false_trigger', 'passed_through', 'unexplained']
"""

from fencecheck.judging.companions import Companions, companions
from fencecheck.judging.episodes import Episodes, find_episodes
from fencecheck.judging.explain import Explanation, explain
from fencecheck.judging.jumps import Jumps, find_jumps
from fencecheck.judging.near import NearMisses, near_misses
from fencecheck.judging.plot import plot_explanation, plot_fence
from fencecheck.judging.scan import WHATIF_RULES, Scan, scan
from fencecheck.judging.scan_file import scan_file
from fencecheck.judging.tables import episode_table, explanation_table
from fencecheck.judging.verdicts import Rules, Verdicts, judge

__all__ = [
    "WHATIF_RULES",
    "Companions",
    "Episodes",
    "Explanation",
    "Jumps",
    "NearMisses",
    "Rules",
    "Scan",
    "Verdicts",
    "companions",
    "episode_table",
    "explain",
    "explanation_table",
    "find_episodes",
    "find_jumps",
    "judge",
    "near_misses",
    "plot_explanation",
    "plot_fence",
    "scan",
    "scan_file",
]
