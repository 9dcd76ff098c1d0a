"""The review page in a real headless Chromium against a real ``bentoml serve``.

Uses Debian's ``chromium`` and ``chromedriver`` (installed by ``.ci/run``); nothing
is downloaded.  Screenshots land in ``build/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import chromium_driver, console_errors, screenshot
from tests.models.review_model import build_review_model
from tests.servers import bentoml_serve

BRAF_MEK_INHIBITORS = {
    "dabrafenib",
    "vemurafenib",
    "encorafenib",
    "trametinib",
    "cobimetinib",
    "binimetinib",
    "selumetinib",
}
WAIT_S = 30
TOKEN = "review-page-token-0123456789"
CML = {
    "tumour_type": "CML",
    "alterations": [{"kind": "fusion", "gene": "BCR", "partner_gene": "ABL1"}],
}


@pytest.fixture(scope="module")
def review_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``bentoml serve`` on a free port with the seven-drug review bundle, asking
    for an API token."""
    workdir = tmp_path_factory.mktemp("review-serve")
    bundle = build_review_model().model.save(workdir / "bundle")
    env = {"REDISCOVER_BUNDLE": str(bundle), "REDISCOVER_API_TOKEN": TOKEN}
    with bentoml_serve(workdir, env) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium driven through Debian's chromedriver, console logged."""
    yield from chromium_driver(tmp_path_factory.mktemp("chromium-profile"))


def _drug_names(driver: Any) -> list[str]:
    from selenium.webdriver.common.by import By

    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, "button.drug")]


@pytest.mark.slow
def test_review_page_ranks_and_explains_a_braf_melanoma(
    review_server: str, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, WAIT_S)
    browser.get(f"{review_server}/review")
    # The service wants a token: the page says so, then sends the one pasted.
    status = (By.ID, "model-status")
    wait.until(ec.text_to_be_present_in_element(status, "needs an API token"))
    assert all("401" in error for error in console_errors(browser))
    browser.find_element(By.ID, "api-token").send_keys(TOKEN)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    wait.until(ec.text_to_be_present_in_element(status, "7 drugs"))
    options = browser.find_elements(By.CSS_SELECTOR, "#tumour-types option")
    assert "melanoma" in {o.get_attribute("value") for o in options}

    # The form: tumour type, one alteration row, MSI status, submit.
    browser.find_element(By.ID, "tumour-type").send_keys("melanoma")
    row = browser.find_element(By.CSS_SELECTOR, "#alteration-rows li")
    Select(row.find_element(By.CSS_SELECTOR, "[data-name=kind]")).select_by_value(
        "mutation"
    )
    row.find_element(By.CSS_SELECTOR, "[data-name=gene]").send_keys("BRAF")
    row.find_element(By.CSS_SELECTOR, "[data-name=protein_change]").send_keys("V600E")
    Select(browser.find_element(By.ID, "msi")).select_by_value("false")
    browser.find_element(By.ID, "rank-form").click()

    rows = "#ranked-table tbody tr"
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 7)
    drugs = _drug_names(browser)
    top3 = set(drugs[:3]) & BRAF_MEK_INHIBITORS
    assert top3, f"no BRAF/MEK inhibitor in the top 3: {drugs}"
    first_row = browser.find_element(By.CSS_SELECTOR, rows).text
    assert "class 1: mutation BRAF V600E" in first_row
    # What the numbers are: population, endpoint, the tumour type's rate, the lift.
    note = browser.find_element(By.ID, "population-note").text
    assert "Learnt from patients" in note and "clinical benefit" in note
    cells = browser.find_elements(By.CSS_SELECTOR, f"{rows}:first-child td")
    rate, lift = cells[3].text, cells[4].text
    assert rate.endswith("%") and lift[0] in "+\N{MINUS SIGN}", (rate, lift)
    screenshot(browser, "review-ranked.png")

    # Ordering by lift asks the service again; the first row has the largest lift.
    Select(browser.find_element(By.ID, "rank-by")).select_by_value("lift")
    wait.until(lambda d: "lift over" in d.find_element(By.ID, "results-status").text)
    lifts = [
        float(
            r.find_elements(By.TAG_NAME, "td")[4]
            .text.split()[0][:-1]
            .replace("\N{MINUS SIGN}", "-")
        )
        for r in browser.find_elements(By.CSS_SELECTOR, rows)
    ]
    assert lifts == sorted(lifts, reverse=True), lifts
    Select(browser.find_element(By.ID, "rank-by")).select_by_value("evidence")
    wait.until(
        lambda d: "evidence class" in d.find_element(By.ID, "results-status").text
    )

    # The filter narrows the table; clearing it brings every drug back.
    drug_filter = browser.find_element(By.ID, "drug-filter")
    drug_filter.send_keys("tram")
    assert _drug_names(browser) == ["trametinib"]
    drug_filter.send_keys(Keys.BACKSPACE * 4)  # clear() fires no input event
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 7)

    # Sorting by drug name, then back by rank.
    browser.find_element(By.CSS_SELECTOR, "[data-sort=drug]").click()
    assert _drug_names(browser) == sorted(drugs)
    browser.find_element(By.CSS_SELECTOR, "[data-sort=rank]").click()
    assert _drug_names(browser) == drugs

    # Keyboard: focus the drug's button and press Enter.
    chosen = sorted(top3, key=drugs.index)[0]
    button = next(
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "button.drug")
        if b.text == chosen
    )
    button.send_keys(Keys.ENTER)
    bars = "#detail svg.waterfall rect.bar"
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, bars)) >= 2)
    widths = [
        float(b.get_attribute("width"))
        for b in browser.find_elements(By.CSS_SELECTOR, bars)
    ]
    assert max(widths) > 50, widths  # the BRAF step is a wide bar, not a sliver
    assert browser.find_elements(By.CSS_SELECTOR, "#detail rect.bar.up")
    detail = browser.find_element(By.ID, "detail").text
    assert f"training samples with {chosen} and hotspot BRAF V600 responded" in detail
    assert "Candidate responder subgroups" in detail
    assert browser.switch_to.active_element.get_attribute("id") == "detail-heading"
    screenshot(browser, "review-waterfall.png", full_page=True)

    assert console_errors(browser) == []

    # An API error is shown in the page, naming the field; the value is not echoed.
    row.find_element(By.CSS_SELECTOR, "[data-name=gene]").clear()
    browser.find_element(By.ID, "rank-form").click()
    errors = browser.find_element(By.ID, "errors")
    wait.until(lambda d: errors.is_displayed())
    assert "Alteration 1, gene" in errors.text
    assert "profile.alterations.0.gene" in errors.text
    gene = row.find_element(By.CSS_SELECTOR, "[data-name=gene]")
    assert gene.get_attribute("aria-invalid") == "true"
    assert not browser.find_element(By.ID, "ranked").is_displayed()  # not stale
    screenshot(browser, "review-error.png")

    # A profile read from a JSON file is ranked the same way.
    upload = tmp_path / "cml.json"
    upload.write_text(json.dumps(CML))
    browser.find_element(By.CSS_SELECTOR, "#json-input summary").click()
    browser.find_element(By.ID, "profile-file").send_keys(str(upload))
    wait.until(
        lambda d: "ABL1" in d.find_element(By.ID, "profile-json").get_attribute("value")
    )
    browser.find_element(By.CSS_SELECTOR, "#json-form button[type=submit]").click()
    wait.until(lambda d: not errors.is_displayed())
    wait.until(lambda d: d.find_element(By.ID, "ranked").is_displayed())
    assert _drug_names(browser)[0] == "imatinib"
