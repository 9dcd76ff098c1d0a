"""The tumour-board report in a real headless Chromium, and printed to PDF by it.

Uses Debian's ``chromium`` and ``chromedriver`` (installed by ``.ci/run``) and
``pypdf`` (the ``test`` extra) to read the PDF back; nothing is downloaded. The
screenshot lands in ``build/screenshots/report.png`` for a person to look at.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from features import Alteration, Profile
from reporting import PatientReport, build_report, render_report
from tests.browser import (
    browser_binaries,
    chromium_driver,
    console_errors,
    missing,
    screenshot,
)
from tests.models.review_model import build_review_model

PRINT_TIMEOUT_S = 120
PROFILE = Profile(
    sample_id="S-0001",
    tumour_type="melanoma",
    alterations=(Alteration(kind="mutation", gene="BRAF", protein_change="V600E"),),
    tmb_mut_per_mb=8.0,
    msi_high=False,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[PatientReport, Path]:
    """The BRAF melanoma report of the seven-drug review bundle, as a file."""
    written = build_report(
        build_review_model().model, PROFILE, model_version="7",
        generated_at=datetime(2026, 5, 2, 8, 30, tzinfo=UTC),
        read_from=["profile.json"],
    )  # fmt: skip
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(written), encoding="utf-8")
    return written, path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium driven through Debian's chromedriver, console logged."""
    yield from chromium_driver(tmp_path_factory.mktemp("chromium-profile"))


@pytest.mark.slow
def test_report_renders_without_errors_with_its_own_style(
    report: tuple[PatientReport, Path], browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    written, path = report
    browser.get(path.as_uri())
    assert browser.title == "Tumour-board report: sample S-0001, melanoma"
    cells = browser.find_elements(By.CSS_SELECTOR, "#ranked tbody td.drug")
    assert [c.text for c in cells] == [s.drug for s in written.ranked]
    sections = browser.find_elements(By.CSS_SELECTOR, "section.drug-section")
    assert [s.get_attribute("id") for s in sections] == ["drug-1", "drug-2", "drug-3"]
    # The inline stylesheet applied: the page's policy let its hash in.
    caveat = browser.find_element(By.ID, "population")
    assert caveat.value_of_css_property("border-left-style") == "solid"
    # The largest waterfall bar of the top drug is drawn wide, not a sliver.
    widths = browser.execute_script(
        "return [...document.querySelectorAll('#drug-1 svg.waterfall rect.bar')]"
        ".map((r) => r.getBoundingClientRect().width)"
    )
    assert len(widths) == len(written.explained[0].steps)
    assert max(widths) > 100, widths
    screenshot(browser, "report.png", full_page=True)
    assert console_errors(browser) == []

    # Printed, each explained drug starts a new page.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        after = browser.execute_script(
            "return getComputedStyle(document.getElementById('drug-2')).breakBefore"
        )
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert after == "page"


@pytest.mark.slow
def test_report_prints_to_a_pdf_with_the_top_drug(
    report: tuple[PatientReport, Path], tmp_path: Path
) -> None:
    try:
        from pypdf import PdfReader
    except ImportError:
        missing("pypdf is not installed (pip install -e '.[test]')")
    chromium, _ = browser_binaries()
    written, path = report
    pdf = tmp_path / "report.pdf"
    command = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--no-pdf-header-footer", f"--user-data-dir={tmp_path / 'profile'}",
        f"--print-to-pdf={pdf}", path.as_uri(),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False
    )
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    top = written.ranked[0].drug
    assert "Tumour-board report" in pages[0]
    assert top in pages[0]
    # A4 portrait (595 x 842 points).
    box = PdfReader(pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    # Each explained drug's section opens its own page.
    starts = [p.lstrip().split("\n", 1)[0] for p in pages]
    for explained in written.explained:
        heading = f"{explained.score.rank}. {explained.drug}: why this score"
        assert heading in starts, starts
