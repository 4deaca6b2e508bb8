"""The operations dashboard in a real browser: Debian's headless chromium driven by selenium
(chromedriver from Debian's chromium-driver; scripts/test.sh installs both when missing).

An in-process (--local) q2c serves the dashboard on a free port; the SDK runs a lifecycle, a bill
run and an engagement held by an open exception (tests/service/test_dashboard.py's pipeline). The
browser signs in once with `?token=`, follows the redirect with the cookie, and the test reads the
rendered DOM: the stage counts, the exception past its SLA (the dashboard's clock moved 60 days on)
marked LATE and highlighted, and the bill run's progress bar, re-fetched by the page's own script
under its CSP. The page is saved as a PNG in the test's temporary directory; with
Q2C_UPDATE_SCREENSHOTS=1 it also replaces docs/img/dashboard.png, the screenshot the README shows
(so a test run leaves the checkout as it found it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from q2c_core.bootstrap import running
from tests import credentials
from tests.service.test_dashboard import SCRIPT_NAME, TENANT, _pipeline, dashboard_settings

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "dashboard.png"
WIDTH = 1280


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """Headless chromium (Debian's), through Debian's chromedriver: no Selenium Manager download."""
    chromium = shutil.which("chromium")
    driver_binary = shutil.which("chromedriver")
    assert chromium is not None and driver_binary is not None, (
        "chromium / chromedriver missing (scripts/test.sh installs Debian's chromium chromium-driver)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument(f"--window-size={WIDTH},900")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_binary))
    try:
        driver.set_page_load_timeout(30)
        yield driver
    finally:
        driver.quit()


def _cells(row: object) -> list[str]:
    return [td.text for td in row.find_elements(By.TAG_NAME, "td")]  # type: ignore[attr-defined]


def _sign_in(driver: WebDriver, base: str, token: str) -> None:
    driver.get(f"{base}/dashboard?token={token}")
    assert driver.current_url == f"{base}/dashboard", driver.current_url  # redirected, token dropped
    cookie = driver.get_cookie("q2c_dashboard_token")
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    assert driver.execute_script("return document.cookie") == ""  # not readable by scripts


def _state_counts(driver: WebDriver) -> dict[str, int]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#states table tr")
    return {cells[0]: int(cells[1]) for cells in map(_cells, rows) if len(cells) == 2}


def _bill_run(driver: WebDriver, run_id: str) -> list[str]:
    rows = [_cells(r) for r in driver.find_elements(By.CSS_SELECTOR, "#bill-runs table tr")]
    found = [cells for cells in rows if cells and cells[0] == run_id]
    assert len(found) == 1, rows
    return found[0]


def _late_exception_and_refresh(driver: WebDriver, run_id: str) -> None:
    driver.refresh()
    late = driver.find_elements(By.CSS_SELECTOR, "tr.late")
    texts = [" ".join(_cells(row)) for row in late]
    assert any("TAX_PROFILE_PRESENT" in t and "LATE " in t for t in texts), texts
    colour = driver.find_element(By.CSS_SELECTOR, "tr.late td").value_of_css_property("background-color")
    plain = driver.find_element(By.CSS_SELECTOR, "#states td").value_of_css_property("background-color")
    assert colour != plain, (colour, plain)  # highlighted, not only marked

    # The bill runs are re-fetched every 5 s by the page's script (allowed by its CSP by hash).
    driver.execute_script('document.getElementById("bill-runs").innerHTML = "";')
    WebDriverWait(driver, 15).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#bill-runs progress"),
        "the bill-run table was not re-fetched",
    )
    assert _bill_run(driver, run_id)[2] == "SUCCEEDED"


def _screenshot(driver: WebDriver, directory: Path) -> None:
    height, chrome = driver.execute_script(
        "return [document.documentElement.scrollHeight, window.outerHeight - window.innerHeight]"
    )
    driver.set_window_size(WIDTH, min(max(int(height), 900), 6000) + int(chrome))  # the whole page
    time.sleep(0.3)  # let the resize lay out
    shot = directory / "dashboard.png"
    assert driver.save_screenshot(str(shot)), "screenshot not written"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("Q2C_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(shot, SCREENSHOT)


async def test_the_dashboard_in_headless_chromium_shows_stages_late_exceptions_and_bill_runs(
    tmp_path: Path, browser: WebDriver
) -> None:
    async with running(dashboard_settings(tmp_path)) as service:
        assert service.dashboard is not None
        base = f"http://127.0.0.1:{service.dashboard.port}"
        run_id = await asyncio.to_thread(_pipeline, f"127.0.0.1:{service.gateway.port}")
        viewer = credentials.token(TENANT, "ops", ("dashboard:read",))

        await asyncio.to_thread(_sign_in, browser, base, viewer)
        assert browser.title.startswith("q2c operations"), browser.title
        heading = browser.find_element(By.TAG_NAME, "h1").text
        assert heading == f"q2c operations — tenant {TENANT}", heading
        counts = _state_counts(browser)
        assert (counts["ACTIVE"], counts["DRAFT"], counts["ON_HOLD"]) == (1, 1, 1), counts
        assert sum(counts.values()) == 3, counts
        assert SCRIPT_NAME in browser.find_element(By.TAG_NAME, "body").text  # shown as text
        assert browser.find_elements(By.CSS_SELECTOR, "tr.late") == []  # nothing past its SLA yet
        run = _bill_run(browser, run_id)
        assert run[1:4] == ["2025-03", "SUCCEEDED", "1 / 1"], run
        progress = browser.find_element(By.CSS_SELECTOR, "#bill-runs progress")
        assert (progress.get_attribute("value"), progress.get_attribute("max")) == ("1", "1")

        # Past the exception's SLA (the cookie was set on the real clock, so it stays valid).
        service.dashboard.app.clock = lambda: datetime.now(UTC) + timedelta(days=60)
        await asyncio.to_thread(_late_exception_and_refresh, browser, run_id)
        await asyncio.to_thread(_screenshot, browser, tmp_path)
