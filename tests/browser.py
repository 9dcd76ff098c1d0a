"""Headless Chromium for the page tests: Debian's ``chromium`` and ``chromedriver``
(installed by ``.ci/run``), nothing downloaded.  Screenshots land in
``build/screenshots/`` for a person to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "build" / "screenshots"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1366,768",
)


def missing(reason: str) -> None:
    """Skip on a developer machine without a browser; fail in CI, which has one."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs chromium and chromium-driver)")
    pytest.skip(reason)


def browser_binaries() -> tuple[str, str]:
    """Paths of ``chromium`` and ``chromedriver`` (skip or fail when absent)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    for path in (chromium, driver):
        if not Path(path).is_file():
            missing(f"{path} is not installed")
    return chromium, driver


def chromium_driver(profile_dir: Path) -> Iterator[Any]:
    """Headless Chromium driven through chromedriver, console logged; quit after."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing("selenium is not installed (pip install -e '.[test]')")
    chromium, chromedriver = browser_binaries()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(
        executable_path=chromedriver,
        log_output=str(profile_dir.parent / "chromedriver.log"),
    )
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver: Any) -> list[str]:
    """The page's console errors."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if entry["level"] in ("SEVERE", "ERROR")
    ]


def screenshot(driver: Any, name: str, *, full_page: bool = False) -> Path:
    """Save what the 1366-wide window shows (or the whole page) as a PNG."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    size = driver.get_window_size()
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(size["width"], height + 200)
    try:
        assert driver.save_screenshot(str(path)), f"could not save {path}"
    finally:
        driver.set_window_size(size["width"], size["height"])
    print(f"screenshot: {path}")
    return path
