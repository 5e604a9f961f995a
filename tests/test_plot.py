"""Maps: rendered to PNG with Agg, checked by the artists drawn rather than by pixels."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

import fencecheck as fc
from fencecheck.options import Source

from support import SAMPLES

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")
BEIJING = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def index() -> fc.FenceIndex:
    return fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))


@pytest.fixture(scope="module")
def pings() -> fc.PingTable:
    return fc.read_pings(SAMPLES / "pings.csv")


@pytest.fixture(scope="module")
def explanations(index: fc.FenceIndex, pings: fc.PingTable) -> dict[str, fc.Explanation]:
    return {e.person_id: e for e in fc.explain(pings, index)}


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def _gids(ax: Any, prefix: str) -> list[str]:
    artists = [*ax.patches, *ax.collections, *ax.lines, *ax.texts, *ax.artists]
    return sorted(str(a.get_gid()) for a in artists if str(a.get_gid()).startswith(prefix))


def _one(ax: Any, gid: str) -> Any:
    found = [a for a in [*ax.patches, *ax.collections, *ax.lines, *ax.texts] if a.get_gid() == gid]
    assert len(found) == 1, (gid, found)
    return found[0]


def _offsets(ax: Any, gid: str) -> np.ndarray:
    found = [c for c in ax.collections if c.get_gid() == gid]
    return found[0].get_offsets() if found else np.zeros((0, 2))


def _lookback_pings(pings: fc.PingTable, e: fc.Explanation) -> fc.PingTable:
    """The person's pings in [at - lookback, at], straight from the table."""
    code = pings.persons.code(e.person_id)
    keep = (pings.person == code) & (pings.t <= e.at) & (pings.t >= e.at - e.lookback_s * 1000)
    return pings.take(keep)


PEOPLE = ["008", "P01", "P02", "P03", "P04", "P05", "P06", "P07"]


@pytest.mark.parametrize("person", PEOPLE)
def test_explanation_map_draws_what_the_explanation_says(
    person: str,
    explanations: dict[str, fc.Explanation],
    pings: fc.PingTable,
    index: fc.FenceIndex,
    tmp_path: Path,
) -> None:
    e = explanations[person]
    ax = e.plot()
    png = tmp_path / f"{person}.png"
    ax.figure.savefig(png, dpi=60)
    assert png.stat().st_size > 10_000
    image = matplotlib.image.imread(png)
    assert image[..., :3].std() > 0.05  # not a blank canvas

    # One filled patch per fence involved: hit, nearest misses, the upstream mistake's.
    involved = {ep["fence_id"] for ep in e.episodes} | {m["fence_id"] for m in e.near_misses}
    for reason in ("timezone_shift", "datum_shift"):
        if reason in e.evidence:
            involved.add(e.evidence[reason]["fence_id"])
    assert _gids(ax, "fence:") == sorted(f"fence:{f}" for f in involved)
    with_margin = {
        f for f in involved
        if index.fences.buffer_m[index.fences.position(f)] > 0
        and index.fences.geometry[index.fences.position(f)].geom_type != "Point"
    }  # fmt: skip
    assert _gids(ax, "margin:") == sorted(f"margin:{f}" for f in with_margin)

    # Every cell / Wi-Fi fix of the lookback with its accuracy circle, radius = accuracy.
    mine = _lookback_pings(pings, e)
    coarse = mine.source != Source.GPS.code
    circles = [c for c in ax.collections if c.get_gid() == "accuracy"]
    if coarse.any():
        paths = circles[0].get_paths()
        assert len(paths) == int(coarse.sum())
        radii = [np.ptp(p.vertices[:, 0]) / 2 for p in paths]
        assert np.allclose(sorted(radii), np.sort(mine.accuracy_m[coarse]), rtol=1e-6)
    else:
        assert circles == []
    track = _one(ax, "track")
    assert len(track.get_xdata()) == len(mine)

    # Hits by credibility add up to the episodes' counts; the decisive ones are ringed.
    credible = len(_offsets(ax, "hits:credible"))
    jump = len(_offsets(ax, "hits:jump"))
    grazing = len(_offsets(ax, "hits:grazing"))
    assert credible + jump + grazing == sum(ep["pings"] for ep in e.episodes)
    assert credible == sum(ep["credible_pings"] for ep in e.episodes)
    assert jump == sum(ep["jump_pings"] for ep in e.episodes)
    title = ax.get_title(loc="left")
    assert title.startswith(f"{person}: {e.verdict.replace('_', ' ')}")
    for reason in e.reasons:
        assert reason.replace("_", " ") in title
    if e.decisive is None:
        assert _gids(ax, "decisive") == [] and _gids(ax, "entry") == []
    elif e.decisive.get("source") == "upstream":
        # no hit in the data: the fix the mistake put in the fence is ringed, at its real time
        assert len(_offsets(ax, "decisive")) == 1 and _gids(ax, "exit") == []
        local = dt.datetime.fromisoformat(e.decisive["entry"].replace("Z", "+00:00"))
        label = _one(ax, "entry").get_text()
        assert label.startswith(f"fix {local.astimezone(BEIJING).strftime('%H:%M')}, ")
        assert _one(ax, "zone").get_text() == "times in Beijing time"
    else:
        assert len(_offsets(ax, "decisive")) == e.decisive["pings"]
        for end in ("entry", "exit"):
            local = dt.datetime.fromisoformat(e.decisive[end].replace("Z", "+00:00"))
            clock = local.astimezone(BEIJING).strftime("%H:%M")
            assert _one(ax, end).get_text().endswith(clock)
        assert _one(ax, "zone").get_text() == "times in Beijing time"

    # Metres are metres both ways, and the scale bar is a round fifth of the view or less.
    assert ax.get_aspect() == 1.0
    ax.figure.canvas.draw()
    (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (100, 100)])
    assert abs((x1 - x0) - (y1 - y0)) < 1e-6 * abs(x1 - x0)
    [bar] = [a for a in ax.artists if str(a.get_gid()).startswith("scale-bar:")]
    length = float(bar.get_gid().split(":")[1])
    width = np.diff(ax.get_xlim())[0]
    assert width / 12.5 < length <= width / 5
    assert length / 10 ** np.floor(np.log10(length)) in (1.0, 2.0, 5.0)


def test_datum_mistake_puts_the_fence_where_the_person_was(
    explanations: dict[str, fc.Explanation], pings: fc.PingTable, index: fc.FenceIndex
) -> None:
    e = explanations["P06"]
    assert e.reasons == ("datum_shift",)
    ax = e.plot()
    moved = _one(ax, "mistaken-fence").get_path()
    x, y = index.frame.to_xy(*(lambda t: (t.lon, t.lat))(_lookback_pings(pings, e)))
    inside = moved.contains_points(np.column_stack([x, y]))
    assert inside.mean() > 0.5  # the mistaken fence sits on the person's office
    real = _one(ax, "fence:F-risk-3").get_path()
    assert not real.contains_points(np.column_stack([x, y])).any()


def test_whole_track_zoom_shows_every_ping(explanations: dict[str, fc.Explanation]) -> None:
    e = explanations["P01"]
    ax = e.plot(zoom="track")
    x, y = e.track.xy()
    (a, b), (c, d) = ax.get_xlim(), ax.get_ylim()
    assert (x >= a).all() and (x <= b).all() and (y >= c).all() and (y <= d).all()
    with pytest.raises(fc.errors.OptionError, match="zoom"):
        e.plot(zoom="city")


def test_track_is_the_lookback_and_its_hits_point_at_their_pings(
    index: fc.FenceIndex, pings: fc.PingTable
) -> None:
    at = "2022-05-01T10:00:00+08:00"
    for e in fc.explain(pings, index, at=at, lookback="3h"):
        track = e.track
        assert track is not None
        mine = _lookback_pings(pings, e)
        assert sorted(track.row.tolist()) == sorted(mine.row.tolist())
        assert (np.diff(track.t) >= 0).all()
        hits = index.match(mine, mode="disc")
        assert sorted(track.row[track.hit_ping].tolist()) == sorted(hits.ping.tolist())
        assert sorted(index.fences.ids[track.hit_fence].tolist()) == sorted(
            hits.fence_ids().tolist()
        )


def test_explanation_without_a_track_is_refused(explanations: dict[str, Any]) -> None:
    from dataclasses import replace

    bare = replace(explanations["P01"], track=None)
    with pytest.raises(fc.errors.OptionError, match="no track"):
        bare.plot()


def test_missing_matplotlib_names_the_extra(
    explanations: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(fc.errors.MissingDependencyError, match=r"fencecheck\[plot\]"):
        explanations["P01"].plot()


def test_explain_does_not_import_matplotlib() -> None:
    import subprocess

    code = (
        "import sys, fencecheck as fc;"
        f"i = fc.FenceIndex.build(fc.read_fences({str(SAMPLES / 'fences.geojson')!r}));"
        f"fc.explain(fc.read_pings({str(SAMPLES / 'pings.csv')!r}), i);"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- one fence of a scan ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scanned(index: fc.FenceIndex, pings: fc.PingTable) -> fc.Scan:
    return fc.scan(pings, index)


@pytest.mark.parametrize("fence_id", ["F-precaution-1", "F-venue-1", "F-sealed-1", "F-risk-3"])
def test_fence_map_colours_each_persons_hits_by_their_trigger(
    fence_id: str,
    scanned: fc.Scan,
    explanations: dict[str, fc.Explanation],
    tmp_path: Path,
) -> None:
    ax = fc.judging.plot_fence(scanned, fence_id)
    ax.figure.savefig(tmp_path / "fence.png", dpi=60)
    assert (tmp_path / "fence.png").stat().st_size > 5_000
    assert _gids(ax, "fence:") == [f"fence:{fence_id}"]
    row = int(np.flatnonzero(scanned.fences["fence_id"] == fence_id)[0])
    # Recount from explain: each person's hits at this fence are their episodes' pings there.
    triggers = scanned.triggers.take(scanned.triggers["fence_id"] == fence_id)
    drawn = 0
    for outcome in ("exposed", "passed_through", "false_trigger"):
        people = triggers["person_id"][(triggers["outcome"] == outcome) & ~triggers["upstream"]]
        expected = sum(
            ep["pings"]
            for p in people.tolist()
            for ep in explanations[p].episodes
            if ep["fence_id"] == fence_id
        )
        assert len(_offsets(ax, f"hits:{outcome}")) == expected
        drawn += expected
        assert int(scanned.fences[outcome][row]) == int((triggers["outcome"] == outcome).sum())
    labels = [t.get_text() for t in ax.get_legend().get_texts()] if ax.get_legend() else []
    upstream = int(triggers["upstream"].sum())
    assert any("upstream" in t for t in labels) == (upstream > 0)
    assert f"{int(scanned.fences['people'][row])} " in ax.get_title(loc="left")
    if int(scanned.fences["people"][row]) > upstream:
        assert drawn > 0


def test_fence_map_needs_the_pings_of_the_scan(
    scanned: fc.Scan, pings: fc.PingTable, index: fc.FenceIndex
) -> None:
    from dataclasses import replace

    with pytest.raises(fc.errors.OptionError, match="not in the scan"):
        fc.judging.plot_fence(scanned, "F-nowhere")
    parted = replace(scanned, pings=None)  # as the command line assembles it
    with pytest.raises(fc.errors.OptionError, match="pass pings"):
        fc.judging.plot_fence(parted, "F-venue-1")
    ax = fc.judging.plot_fence(parted, "F-venue-1", pings=pings)
    assert len(_offsets(ax, "hits:exposed")) > 0
    with pytest.raises(fc.errors.OptionError, match="not the ones the scan judged"):
        fc.judging.plot_fence(parted, "F-venue-1", pings=pings.take(pings.person_ids() == "P01"))


def test_scan_triggers_are_what_the_fence_table_counts(scanned: fc.Scan) -> None:
    t = scanned.triggers
    f = scanned.fences
    for k, fence_id in enumerate(f["fence_id"].tolist()):
        here = t["fence_id"] == fence_id
        assert int(here.sum()) == int(f["people"][k])
        for reason in fc.judging.verdicts.REASONS:
            count = sum(reason in r.split(";") for r in t["reasons"][here].tolist())
            assert count == int(f[reason][k])


# -- maps from the command line ----------------------------------------------------------------


def test_explain_draws_one_map_per_person(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fencecheck.cli import main

    folder = tmp_path / "maps"
    args = ["explain", "--fences", str(SAMPLES / "fences.geojson"), "--pings",
            str(SAMPLES / "pings.csv"), "--maps", str(folder)]  # fmt: skip
    assert main([*args, "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 8  # the reports still go to stdout
    assert "8 maps drawn" in err
    files = sorted(p.name for p in folder.iterdir())
    assert files == [f"{p}.png" for p in PEOPLE]
    for path in folder.iterdir():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
    # A folder that cannot be made is a usage error; no matplotlib names the extra.
    (tmp_path / "a-file").write_text("x")
    assert main([*args[:-1], str(tmp_path / "a-file" / "maps")]) == 2
    assert "--maps" in capsys.readouterr().err


def test_maps_without_matplotlib_name_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fencecheck.cli import main

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["explain", "--fences", str(SAMPLES / "fences.geojson"), "--pings",
                 str(SAMPLES / "pings.csv"), "--maps", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and "fencecheck[plot]" in err and "Traceback" not in err


def test_map_file_names_are_safe_and_distinct(tmp_path: Path) -> None:
    from fencecheck.cli import _draw_maps, map_file_name

    assert map_file_name("../etc/passwd") == "_etc_passwd"
    assert map_file_name("..") == "_"
    assert map_file_name("张三") == "张三"
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    pings = fc.read_pings(SAMPLES / "pings.csv")
    [e] = fc.explain(pings, index, person=["P01"])
    from dataclasses import replace

    twins = [replace(e, person_id="a/b"), replace(e, person_id="a_b"), replace(e, person_id="a?b")]
    assert _draw_maps(twins, tmp_path) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_b-2.png", "a_b-3.png", "a_b.png"]
