"""The example notebook runs top to bottom; a failing cell fails the suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support import REPO, SHARED_DATA

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = REPO / "examples" / "walkthrough.ipynb"


def _execute(shared: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FENCECHECK_SHARED_DATA", str(shared))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    return notebook


def _texts(notebook: Any) -> str:
    out = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                out.append(output.text)
            elif "text/plain" in output.get("data", {}):
                out.append(output.data["text/plain"])
    return "\n".join(out)


def _images(notebook: Any) -> int:
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )


def test_notebook_is_saved_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


@pytest.mark.slow
def test_notebook_runs_on_the_samples_and_real_data(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (SHARED_DATA / "geolife" / "geolife_sample_skmob_users001_005.csv").exists():
        pytest.skip(f"third-party data not found under {SHARED_DATA} (see SOURCES.md)")
    notebook = _execute(SHARED_DATA, monkeypatch)
    text = _texts(notebook)
    assert "400 rows read, 400 pings of 8 people, 0 rejected" in text
    assert "P06: the pop-up was a false trigger." in text and "GCJ-02" in text
    assert "属途经" in text  # P02, in Chinese: a passage
    assert "008 was credibly within 100 m of case C01" in text  # the companion rule
    assert "real data: found" in text
    assert "217,653 rows read" in text
    assert _images(notebook) == 4  # P02, P06, one fence, and one real person's map


@pytest.mark.slow
def test_notebook_skips_real_data_when_absent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    notebook = _execute(tmp_path / "no-data", monkeypatch)
    text = _texts(notebook)
    assert "real data: not found" in text and "(skipped)" in text
    assert "217,653 rows read" not in text
    assert _images(notebook) == 3  # P02, P06 and one fence
