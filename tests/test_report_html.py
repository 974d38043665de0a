"""report.html: one self-contained page, rendered in a real headless browser (Chromium) where one is installed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from nasbench.cli import main


@pytest.fixture(scope="module")
def results(full_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "cmp"
    assert main(["compare", str(full_store), "--out", str(out), "--seeds", "4", "--budget", "20", "--processes", "1",
                 "--strategies", "random_search,regularized_evolution,local_search"]) == 0  # fmt: skip
    return out


def test_the_page_is_self_contained(results):
    page = (results / "report.html").read_text()
    figures = sorted(p.name for p in results.glob("*.png"))
    assert len(figures) >= 3
    assert page.count('src="data:image/png;base64,') == len(figures)
    assert not re.search(r'src="[^"]+\.png"', page)  # nothing points at a file beside it
    assert page.count("<table") >= 3 and "regularized_evolution" in page
    assert "Caution: with 4 paired seeds" in page  # too few seeds for the tests it cites


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    pytest.skip("no Chromium here (Debian: apt-get install -y chromium); .ci/run installs it where it can")


def test_a_headless_browser_renders_tables_and_figures(results, tmp_path):
    browser = _chromium()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,3000"]
    url = (results / "report.html").as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<table") >= 3 and dom.count("<img") >= 3 and "Strategy comparison" in dom
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.stat().st_size > 50_000  # a page of text, tables and figures, not a blank one


def test_the_report_says_what_answered_the_queries(small_store, tmp_path):
    out = tmp_path / "hybrid"
    assert main(["compare", str(small_store), "--out", str(out), "--seeds", "2", "--budget", "10", "--processes", "1",
                 "--strategies", "random_search"]) == 0  # fmt: skip
    line = next(x for x in (out / "report.md").read_text().splitlines() if x.startswith("- answered by:"))
    share = float(re.search(r"the table for ([\d.]+) %", line).group(1))
    assert 0 <= share < 50 and "a surrogate fitted on it for the other" in line  # 20 of 15,625 cells are stored
