"""The public surface: twenty names, one argument order, the old spellings deprecated."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fencecheck as fc
from fencecheck.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"

TOP_LEVEL = {
    "__version__",
    "read_fences",
    "write_fences",
    "read_pings",
    "iter_pings",
    "FenceSet",
    "PingTable",
    "Hits",
    "FenceIndex",
    "MetricFrame",
    "match",
    "explain",
    "Explanation",
    "scan",
    "scan_file",
    "Scan",
    "companions",
    "Policy",
    "Datum",
    "FenceCheckError",
    "DataError",
}


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))


@pytest.fixture(scope="module")
def pings() -> fc.PingTable:
    return fc.read_pings(SAMPLES / "pings.csv")


def test_the_top_level_is_the_tasks_and_their_tables() -> None:
    assert set(fc.__all__) == TOP_LEVEL
    for name in fc.__all__:
        assert getattr(fc, name) is not None


@pytest.mark.parametrize("room", ["judging", "io", "datums", "options", "errors", "times"])
def test_each_room_lists_what_it_offers(room: str) -> None:
    module = importlib.import_module(f"fencecheck.{room}")
    assert module.__all__
    for name in module.__all__:
        assert hasattr(module, name), f"fencecheck.{room}.{name}"


@pytest.mark.parametrize("name", sorted(fc._MOVED))
def test_an_old_top_level_name_still_works_and_says_where_it_went(name: str) -> None:
    home = importlib.import_module(fc._MOVED[name])
    with pytest.warns(DeprecationWarning, match=rf"fencecheck\.{name} is deprecated: use "):
        old = getattr(fc, name)
    assert old is getattr(home, name)


def test_old_geopandas_functions_became_methods(index: fc.FenceIndex, pings: fc.PingTable) -> None:
    pytest.importorskip("geopandas")
    fences = fc.read_fences(SAMPLES / "fences.geojson")
    with pytest.warns(DeprecationWarning, match=r"FenceSet\.to_geopandas"):
        old = fc.fences_to_geopandas(fences)
    assert old.equals(fences.to_geopandas())
    hits = fc.match(pings, index)
    with pytest.warns(DeprecationWarning, match=r"Hits\.to_geopandas"):
        points = fc.hits_to_geopandas(hits, pings)
    assert points.geometry.equals(hits.to_geopandas(pings).geometry)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'matchh'"):
        _ = fc.matchh  # type: ignore[attr-defined]


def test_match_takes_pings_first_and_the_old_order_warns(
    index: fc.FenceIndex, pings: fc.PingTable
) -> None:
    new = fc.match(pings, index, mode="disc")
    with pytest.warns(DeprecationWarning, match=r"match\(index, pings\) is deprecated"):
        old = fc.match(index, pings, mode="disc")  # type: ignore[arg-type]
    for column in ("ping", "fence", "window_start", "inside", "depth_m", "p_inside"):
        assert np.array_equal(getattr(new, column), getattr(old, column), equal_nan=True)
    assert len(new) == len(index.match(pings, mode="disc"))


def test_match_chunks_takes_chunks_first_and_the_old_order_warns(
    index: fc.FenceIndex,
) -> None:
    def chunks() -> object:
        return fc.iter_pings(SAMPLES / "pings.csv", chunk_rows=150)

    new = fc.Hits.concat(list(fc.matching.match_chunks(chunks(), index)))
    with pytest.warns(DeprecationWarning, match=r"match_chunks\(index, pings\) is deprecated"):
        old = fc.Hits.concat(list(fc.matching.match_chunks(index, chunks())))  # type: ignore[arg-type]
    assert np.array_equal(new.ping, old.ping)
    assert np.array_equal(new.fence, old.fence)


def test_every_task_takes_pings_then_index(index: fc.FenceIndex, pings: fc.PingTable) -> None:
    """One order everywhere: the first parameter is the pings, the second the index."""
    import inspect

    for function in (fc.match, fc.explain, fc.scan, fc.scan_file, fc.judging.judge):
        names = list(inspect.signature(function).parameters)[:2]
        assert names[1] == "index", function.__name__
        assert names[0] in ("pings", "chunks"), function.__name__


def test_scan_file_equals_scan_in_memory_regrouped_or_sorted(
    index: fc.FenceIndex, pings: fc.PingTable
) -> None:
    whole = fc.scan(pings, index)
    in_memory = fc.scan_file(SAMPLES / "pings.csv", index)
    spilled = fc.scan_file(SAMPLES / "pings.csv", index, batch_rows=60, chunk_rows=70)
    sorted_input = fc.scan_file(
        SAMPLES / "pings.csv", index, batch_rows=60, chunk_rows=70, sorted_by_person=True
    )
    assert in_memory.reading is not None and not in_memory.reading.regrouped
    assert spilled.reading is not None and spilled.reading.regrouped
    for result in (in_memory, spilled, sorted_input):
        assert result.reading is not None
        assert result.reading.rows_read == 400 == result.reading.pings_used
        assert result.reading.people == 8
        for name in ("people", "fences", "timeline", "whatif"):
            ours, theirs = getattr(result, name), getattr(whole, name)
            assert ours.names == theirs.names
            for column in ours.names:
                assert _same(ours[column], theirs[column]), (name, column)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def test_scan_file_counts_every_row(tmp_path: Path, index: fc.FenceIndex) -> None:
    lines = (SAMPLES / "pings.csv").read_text(encoding="utf-8").splitlines()
    bad = [*lines[:5], lines[5].replace(",116.", ",716.", 1), *lines[6:]]
    path = tmp_path / "pings.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    result = fc.scan_file(path, index, on_error="reject", batch_rows=100)
    reading = result.reading
    assert reading is not None
    assert reading.rows_read == 400 == reading.pings_used + len(reading.rejected)
    assert reading.rejected.records()[0][0] == 4
    with pytest.raises(fc.errors.OptionError, match="batch_rows: 0"):
        fc.scan_file(path, index, batch_rows=0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'chunk'"):
        fc.scan_file(path, index, chunk=10)  # type: ignore[call-arg]


def test_demo_runs_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--lang", "en"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1].startswith("fencecheck: 8 people explained: ")
    assert "P06" in captured.out


def test_the_samples_are_package_data_and_the_repository_links_to_them() -> None:
    for name in fc.samples.NAMES:
        shipped = fc.samples.path(name)
        assert shipped.is_file()
        assert (SAMPLES / name).resolve() == shipped.resolve()
    with pytest.raises(FileNotFoundError, match="not a bundled sample"):
        fc.samples.path("make_samples.py")


@pytest.mark.slow
def test_demo_works_after_a_plain_install(tmp_path: Path) -> None:
    """A wheel install (no checkout on the path) still finds its samples."""
    if os.environ.get("CI") != "true" and not os.environ.get("FENCECHECK_INSTALL_TEST"):
        pytest.skip("builds a wheel and a virtual environment: set FENCECHECK_INSTALL_TEST=1")
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
        check=True,
    )
    [wheel] = wheel_dir.glob("fencecheck-*.whl")
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-m", "fencecheck", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stderr
    assert done.stderr.splitlines()[-1].startswith("fencecheck: 8 people explained: ")


def test_the_readme_is_a_short_guide() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 200
    assert "<!-- main-command -->" in readme and "<!-- test-command -->" in readme
    for doc in ("docs/domain.md", "docs/contract.md", "docs/design.md", "benchmarks/README.md"):
        assert doc in readme, doc
        assert (ROOT / doc).is_file(), doc


def test_docstrings_point_into_the_repository_not_beside_it() -> None:
    for path in (ROOT / "src" / "fencecheck").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "../shared" not in text, path
