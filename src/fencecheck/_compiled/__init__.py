"""Compiled kernels: numba functions over flat numpy arrays, and shapely's reference rules.

Nothing here imports from the rest of fencecheck: the layers above hand these
kernels plain arrays and build their tables from what comes back. Private:
the public functions of :mod:`fencecheck` and its rooms are the way in.

- :mod:`~fencecheck._compiled.match`: the (ping, fence) decision, certified;
- :mod:`~fencecheck._compiled.raster`: the classified raster, point-mode hits
  with the exact test only near the grown fences' edges;
- :mod:`~fencecheck._compiled.mass`: ``p_inside``, the Gaussian mass over a fence;
- :mod:`~fencecheck._compiled.episodes`: episode statistics and dwell bounds;
- :mod:`~fencecheck._compiled.tmerc`: the metric frame's projection;
- :mod:`~fencecheck._compiled.flat` and :mod:`~fencecheck._compiled.grid`: fences
  as flat arrays, and the uniform grid that proposes candidates;
- :mod:`~fencecheck._compiled.groupby`: grouped reductions;
- :mod:`~fencecheck._compiled.rules`: the matching rules on shapely arrays (the
  reference the compiled kernel falls back to when it cannot certify a pair).
"""
