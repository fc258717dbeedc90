"""Headless Chromium for the report tests, from Debian's chromium packages."""

from __future__ import annotations

import shutil
from typing import Any

import pytest


def open_browser() -> Any:
    """A headless Chromium driven by Debian's chromedriver, or a skip reason."""
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "chromium or chromedriver is missing and could not be installed "
            "(make test installs the Debian packages chromium and chromium-driver "
            "when run as root)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1300,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def rendered_figures(driver: Any, expected: int, timeout_s: float = 60) -> list[str]:
    """Wait until ``expected`` plotly charts are drawn; their data-figure names."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    selector = ".js-plotly-plot .main-svg"
    WebDriverWait(driver, timeout_s).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, selector)) >= expected
    )
    return [
        f.get_attribute("data-figure")
        for f in driver.find_elements(By.CSS_SELECTOR, "div.report-figure")
        if f.find_elements(By.CSS_SELECTOR, ".main-svg")
    ]
