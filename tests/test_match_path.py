"""The ``fencecheck match`` path: what it imports, and the Parquet hits it writes with pyarrow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fencecheck as fc
from fencecheck.cli import main
from fencecheck.io.hits import HitColumns, HitsWriter, hits_schema, hits_to_arrow
from fencecheck.times import OPEN_END

from support import SAMPLES

FENCES = str(SAMPLES / "fences.geojson")
PINGS = str(SAMPLES / "pings.csv")
HEAVY = ("pandas", "matplotlib", "geopandas", "dask", "tqdm", "pyproj", "fencecheck.judging")
CONTRACT_TYPES = [
    ("ping", "int64"),
    ("person_id", "string"),
    ("t", "timestamp[ms, tz=UTC]"),
    ("fence_id", "string"),
    ("window_start", "timestamp[ms, tz=UTC]"),
    ("window_end", "timestamp[ms, tz=UTC]"),
    ("relation", "string"),
    ("depth_m", "double"),
    ("p_inside", "double"),
]


def _imported_after(code: str) -> list[str]:
    """Which of :data:`HEAVY` a fresh interpreter has imported after running ``code``."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    ["import fencecheck", "import fencecheck.cli", "from fencecheck.cli import build_parser"],
)
def test_importing_the_package_or_the_command_line_loads_nothing_heavy(code: str) -> None:
    assert _imported_after(code) == []


@pytest.mark.parametrize("suffix", ["parquet", "csv"])
def test_match_loads_neither_pandas_nor_plotting_nor_the_judging_layer(
    tmp_path: Path, suffix: str
) -> None:
    """The command and its writers import nothing heavy (the standard-library CSV reader)."""
    if suffix == "parquet":
        pytest.importorskip("pyarrow")
    out = tmp_path / f"hits.{suffix}"
    argv = ["match", "--fences", FENCES, "--pings", PINGS, "--engine", "python", "--out", str(out)]
    code = f"from fencecheck.cli import main\nassert main({argv!r}) == 0"
    assert _imported_after(code) == []
    assert out.stat().st_size > 0


@pytest.mark.parametrize("ping_format", ["csv", "parquet"])
def test_match_on_arrow_read_pings_loads_no_pandas(tmp_path: Path, ping_format: str) -> None:
    """The Arrow readers (CSV and Parquet, with missing values) import nothing heavy."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    table = pacsv.read_csv(PINGS)
    # A missing accuracy and a missing person: the readers' null handling runs too.
    accuracy = table.column("accuracy_m").to_pylist()
    accuracy[3] = None
    table = table.set_column(
        table.schema.get_field_index("accuracy_m"), "accuracy_m", pa.array(accuracy)
    )
    pings = tmp_path / f"pings.{ping_format}"
    if ping_format == "csv":
        pacsv.write_csv(table, pings)
    else:
        pq.write_table(table, pings)
    out = tmp_path / "hits.parquet"
    argv = ["match", "--fences", FENCES, "--pings", str(pings), "--out", str(out)]
    code = f"from fencecheck.cli import main\nassert main({argv!r}) == 0"
    assert _imported_after(code) == []


def test_the_judging_names_still_come_from_the_top_level() -> None:
    from fencecheck import judging

    for name in ("explain", "Explanation", "scan", "scan_file", "Scan", "companions"):
        assert getattr(fc, name) is getattr(judging, name)
        assert name in dir(fc)
    assert set(fc.__all__) <= set(dir(fc))


def test_the_parser_default_batch_is_the_librarys() -> None:
    from fencecheck.cli import _DEFAULT_BATCH_PINGS
    from fencecheck.judging.scan import DEFAULT_BATCH_PINGS

    assert _DEFAULT_BATCH_PINGS == DEFAULT_BATCH_PINGS


# -- the Parquet hits -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(FENCES))


def _assert_round_trips(table: Any, hits: fc.Hits) -> None:
    """Every column of ``table`` (read back from Parquet) is the hits' own, value for value."""
    assert [(f.name, str(f.type)) for f in table.schema] == CONTRACT_TYPES
    assert table.num_rows == len(hits)
    assert table["ping"].to_numpy().tolist() == hits.ping.tolist()
    assert table["person_id"].to_pylist() == hits.person_ids().tolist()
    assert table["fence_id"].to_pylist() == hits.fence_ids().tolist()
    assert table["relation"].to_pylist() == hits.relation().tolist()
    for name in ("t", "window_start"):
        stamps = table[name].cast("int64").to_numpy()
        assert np.array_equal(stamps, getattr(hits, name))
    ends = table["window_end"].cast("int64").to_pylist()
    assert ends == [None if e == OPEN_END else e for e in hits.window_end.tolist()]
    for name in ("depth_m", "p_inside"):  # bit for bit, NaN where the hits have NaN
        column = table[name].to_numpy()
        assert np.array_equal(column, getattr(hits, name), equal_nan=True)


@pytest.mark.parametrize("mode", ["point", "disc"])
def test_match_writes_the_contract_columns_and_they_round_trip(
    tmp_path: Path, index: fc.FenceIndex, mode: str
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    hits = index.match(fc.read_pings(PINGS), mode=mode)
    assert len(hits) and (mode == "point" or not hits.inside.all())
    assert (hits.window_end == OPEN_END).any()  # an open window: a null end
    out = tmp_path / "hits.parquet"
    # small chunks: the person ids grow from chunk to chunk
    argv = ["match", "--fences", FENCES, "--pings", PINGS, "--mode", mode, "--out", str(out)]
    assert main([*argv, "--chunk-rows", "37"]) == 0
    table = pq.read_table(out)
    assert table.schema.equals(hits_schema())
    _assert_round_trips(table, hits)
    assert pq.ParquetFile(out).metadata.num_row_groups > 1


def test_the_ids_and_windows_are_dictionary_encoded_and_the_numbers_not(
    tmp_path: Path, index: fc.FenceIndex
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "hits.parquet"
    index.match(fc.read_pings(PINGS)).to_parquet(out)
    group = pq.ParquetFile(out).metadata.row_group(0)
    encodings = {group.column(i).path_in_schema: group.column(i).encodings for i in range(9)}
    for name in ("person_id", "fence_id", "relation", "window_start", "window_end"):
        assert "RLE_DICTIONARY" in encodings[name], name
    for name in ("ping", "t", "depth_m", "p_inside"):
        assert "RLE_DICTIONARY" not in encodings[name], name


def test_hits_to_arrow_is_hits_to_arrow(index: fc.FenceIndex) -> None:
    pytest.importorskip("pyarrow")
    for mode in ("point", "disc"):
        hits = index.match(fc.read_pings(PINGS), mode=mode)
        assert isinstance(hits, HitColumns)
        assert hits_to_arrow(hits).equals(hits.to_arrow())
        empty = hits.concat([hits]).__class__(
            **{name: getattr(hits, name)[:0] for name in fc.hits.HIT_COLUMNS},
            fence_lookup=hits.fence_lookup,
            persons=hits.persons,
        )
        assert hits_to_arrow(empty).equals(empty.to_arrow())


def test_the_writer_takes_chunks_of_several_registries_and_other_tables(
    tmp_path: Path, index: fc.FenceIndex
) -> None:
    """Chunks with their own person registries (pseudonyms) and tables that only render."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pings = fc.read_pings(PINGS)
    first = index.match(pings.take(slice(0, 200)))
    second = index.match(fc.read_pings(PINGS).take(slice(200, 400)))  # another registry
    assert first.persons is not second.persons

    class Rendered:  # a HitChunk without numpy columns: written by its own to_arrow
        def __init__(self, hits: fc.Hits) -> None:
            self.hits = hits

        def __len__(self) -> int:
            return len(self.hits)

        def csv_lines(self) -> list[str]:
            return self.hits.csv_lines()

        def to_arrow(self) -> Any:
            return self.hits.to_arrow()

    assert not isinstance(Rendered(first), HitColumns)
    out = tmp_path / "hits.parquet"
    with HitsWriter(out, "parquet") as writer:
        writer.write(first)
        writer.write(second)
        writer.write(Rendered(first))
    assert writer.rows == 2 * len(first) + len(second)
    table = pq.read_table(out)
    expected = pa.concat_tables([first.to_arrow(), second.to_arrow(), first.to_arrow()])
    assert table.equals(expected)


def test_pseudonymized_parquet_hits_keep_the_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    monkeypatch.setenv("FENCECHECK_KEY", "k" * 32)
    out = tmp_path / "hits.parquet"
    argv = ["match", "--fences", FENCES, "--pings", PINGS, "--out", str(out)]
    assert main([*argv, "--pseudonymize", "--chunk-rows", "50"]) == 0
    table = pq.read_table(out)
    assert [(f.name, str(f.type)) for f in table.schema] == CONTRACT_TYPES
    assert all(len(p) == 64 for p in table["person_id"].to_pylist())


# -- --evidence ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["point", "disc"])
def test_evidence_levels_write_the_same_hits_and_leave_out_what_they_skip(
    tmp_path: Path, mode: str
) -> None:
    """``--evidence depth`` and ``hits`` write the full run's rows, the columns they do
    not compute null in Parquet and empty in CSV, and say so in the summary."""
    pq = pytest.importorskip("pyarrow.parquet")
    tables = {}
    for level in ("full", "depth", "hits"):
        out = tmp_path / f"{level}.parquet"
        argv = ["match", "--fences", FENCES, "--pings", PINGS, "--mode", mode]
        assert main([*argv, "--evidence", level, "--out", str(out)]) == 0
        tables[level] = pq.read_table(out)
        assert tables[level].schema.equals(hits_schema())
    full = tables["full"]
    assert full.num_rows > 0
    assert full.column("depth_m").null_count == full.column("p_inside").null_count == 0
    pairs = ["ping", "person_id", "t", "fence_id", "window_start", "window_end", "relation"]
    for level in ("depth", "hits"):
        assert tables[level].select(pairs).equals(full.select(pairs)), level
        assert tables[level].column("p_inside").null_count == full.num_rows
    assert tables["depth"].column("depth_m").equals(full.column("depth_m"))
    assert tables["hits"].column("depth_m").null_count == full.num_rows

    csv_out = tmp_path / "hits.csv"
    argv = ["match", "--fences", FENCES, "--pings", PINGS, "--mode", mode, "--evidence", "hits"]
    assert main([*argv, "--out", str(csv_out)]) == 0
    lines = csv_out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == full.num_rows + 1
    assert all(line.endswith(",,") for line in lines[1:])


def test_the_summary_names_the_columns_not_computed(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["match", "--fences", FENCES, "--pings", PINGS, "--out", "-"]
    assert main([*argv, "--evidence", "depth"]) == 0
    assert "p_inside not computed" in capsys.readouterr().err
    assert main(argv) == 0
    assert "not computed" not in capsys.readouterr().err
