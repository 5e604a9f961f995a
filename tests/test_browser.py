"""The printable page in a real browser: nothing fetched, a map, not blank, one or two A4 sheets.

Drives Debian's Chromium (``/usr/bin/chromium``) through the ``playwright`` package, one browser
for the module. Without either the tests skip with the reason, unless
``FENCECHECK_REQUIRE_BROWSER=1`` (as ``.ci/run`` sets), when they fail.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fencecheck as fc

from support import SAMPLES

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VERDICTS = ["exposed", "passed_through", "false_trigger", "unexplained"]


def _unavailable(reason: str) -> None:
    if os.environ.get("FENCECHECK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FENCECHECK_REQUIRE_BROWSER=1, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install 'fencecheck[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def explanations() -> dict[str, fc.Explanation]:
    index = fc.FenceIndex.build(fc.read_fences(SAMPLES / "fences.geojson"))
    found = fc.explain(fc.read_pings(SAMPLES / "pings.csv"), index)
    return {e.person_id: e for e in found}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pages")


def _first_with(explanations: dict[str, fc.Explanation], verdict: str) -> fc.Explanation:
    found = [e for e in explanations.values() if e.verdict == verdict]
    assert found, f"the samples have no {verdict} person"
    return sorted(found, key=lambda e: e.person_id)[0]


def _png_pixels(png: bytes) -> np.ndarray:
    import matplotlib.image

    return np.asarray(matplotlib.image.imread(io.BytesIO(png), format="png"))[..., :3]


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("verdict", VERDICTS)
def test_the_page_in_a_browser(
    verdict: str,
    lang: str,
    browser: Any,
    explanations: dict[str, fc.Explanation],
    folder: Path,
) -> None:
    e = _first_with(explanations, verdict)
    path = folder / f"{e.person_id}-{lang}.html"
    path.write_text(e.to_html(lang), encoding="utf-8")
    url = path.as_uri()
    page = browser.new_page(viewport={"width": 900, "height": 1200})
    try:
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url, wait_until="load")
        page.wait_for_timeout(100)  # anything late (a font, a tile) would be asked for by now
        assert requests == [url]  # the page itself, nothing else

        root = page.evaluate(
            "() => [document.documentElement.lang, document.documentElement.dataset.person,"
            " document.documentElement.dataset.verdict]"
        )
        assert root == ["zh-CN" if lang == "zh" else "en", e.person_id, e.verdict]

        # The map shows the decisive fence (for an unexplained pop-up, the nearest miss).
        if e.decisive is not None and e.decisive.get("source") != "case":
            fence = e.decisive["fence_id"]
        else:
            fence = e.near_misses[0]["fence_id"]
        box = page.locator(f'[data-fence="{fence}"]').bounding_box()
        assert box is not None and box["width"] > 5 and box["height"] > 5
        svg = page.locator("svg.map").bounding_box()
        assert svg is not None and svg["width"] > 300
        # Nothing sticks out sideways.
        assert page.evaluate(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )

        pixels = _png_pixels(page.screenshot(full_page=True))
        assert pixels.std() > 0.05  # not a blank canvas
        ink = (pixels < 0.9).any(axis=-1).mean()
        assert ink > 0.03, ink
        drawn = _png_pixels(page.locator("svg.map").screenshot())  # the map alone
        assert drawn.std() > 0.03 and (drawn < 0.9).any(axis=-1).mean() > 0.01

        pdf = page.pdf(format="A4", print_background=True)
        assert pdf.startswith(b"%PDF")
        assert 1 <= _pdf_pages(pdf) <= 2, _pdf_pages(pdf)
    finally:
        page.close()


def test_the_pdf_page_count_is_what_it_says() -> None:
    two = b"<< /Type /Pages /Count 2 >> << /Type /Page >> << /Type/Page/Parent 1 0 R >>"
    assert _pdf_pages(two) == 2
