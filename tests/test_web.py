"""The web page at /: served files, and end to end in headless Chromium (selenium with
Debian's chromium and chromium-driver; skipped with a reason when they are absent)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from getstar.catalogue_view import SECTIONS, catalogue
from getstar.properties import PROPERTIES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists()
                                                else None)
#: Chromium here has no internet: every background connection is switched off.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1200,1400")


def test_page_and_static_files_are_served(live_server) -> None:  # type: ignore[no-untyped-def]
    page = httpx.get(live_server.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="q"' in page.text and "/static/app.js" in page.text and "__CATALOGUE__" not in page.text
    inlined = re.search(r'<script id="catalogue" type="application/json">(.*?)</script>', page.text, re.S)
    assert inlined is not None
    assert [p["name"] for p in json.loads(inlined.group(1))] == [p.name for p in PROPERTIES]
    js = httpx.get(live_server.url + "/static/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert httpx.get(live_server.url + "/static/style.css").headers["content-type"].startswith("text/css")
    assert httpx.get(live_server.url + "/static/nothing.js").status_code == 404


def test_every_property_has_a_known_section() -> None:
    used = {p["section"] for p in catalogue()}
    assert used <= set(SECTIONS) and [s for s in SECTIONS if s not in used] == []  # no empty section
    by_name = {p["name"]: p["section"] for p in catalogue()}
    assert by_name["HD"] == "Identifiers" and by_name["V"] == "Photometry" and by_name["LDD"] == "Diameters"
    assert by_name["pmRa"] == "Astrometry"


# ---------------------------------------------------------------------------------------
# In a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("headless Chromium is not installed (Debian packages chromium and chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="getstar-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _search(driver, url: str, text: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.get(url + "/")
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(text)
    driver.find_element(By.ID, "go").click()


def _wait(driver, condition, timeout: float = 20):  # type: ignore[no-untyped-def]
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_browser_sirius(live_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _search(browser, live_server.url, "Sirius")
    _wait(browser, lambda d: "HD 48915" in d.find_element(By.ID, "identifiers").text)
    assert browser.find_element(By.ID, "main-id").text == "* alf CMa"
    assert not browser.find_element(By.ID, "error").is_displayed()
    v_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-property="V"]')
    badge = v_row.find_element(By.CSS_SELECTOR, ".conf")
    assert badge.text in ("LOW", "MEDIUM", "HIGH") and f"conf-{badge.text}" in badge.get_attribute("class")
    assert v_row.find_element(By.CSS_SELECTOR, ".origin").text
    # a computed value (an estimate) is marked as such, a catalogue value is not
    assert "estimated" not in (v_row.get_attribute("class") or "") and not v_row.find_elements(By.CSS_SELECTOR,
                                                                                                ".est-mark")
    ldd_row = browser.find_element(By.CSS_SELECTOR, 'tr[data-property="LDD"]')
    assert ldd_row.find_element(By.CSS_SELECTOR, ".origin").text == "computed"
    assert "estimated" in ldd_row.get_attribute("class") and ldd_row.find_element(By.CSS_SELECTOR, ".est-mark")
    sections = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#props h3")]
    assert sections[:2] == ["Identifiers", "Astrometry"] and "Photometry" in sections
    votable = browser.find_element(By.ID, "link-votable").get_attribute("href")
    assert "format=votable" in votable and httpx.get(votable).status_code == 200
    assert "Sirius" in browser.current_url  # the search is in the address: shareable
    browser.save_screenshot(str(tmp_path / "sirius.png"))


def test_browser_bad_coordinate(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _search(browser, live_server.url, "400 10")
    error = _wait(browser, lambda d: d.find_element(By.ID, "error") if d.find_element(By.ID, "error").is_displayed()
                  else False)
    assert "RA 400 is outside" in error.text
    assert not browser.find_element(By.ID, "result").is_displayed()


def test_browser_unknown_star_suggests(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _search(browser, live_server.url, "Siriuss")
    _wait(browser, lambda d: d.find_element(By.ID, "error").is_displayed())
    suggestion = browser.find_element(By.CSS_SELECTOR, "#error button.suggestion")
    assert suggestion.text == "NAME Sirius"
    suggestion.click()  # searching the suggestion finds the star
    _wait(browser, lambda d: d.find_element(By.ID, "main-id").text == "* alf CMa")


def test_browser_position_sky_plot(live_server, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _search(browser, live_server.url, "06 45 08.9 -16 42 58")
    _wait(browser, lambda d: d.find_element(By.ID, "neighbourhood").is_displayed())
    stars = browser.find_elements(By.CSS_SELECTOR, "#skyplot circle.star")
    listed = browser.find_elements(By.CSS_SELECTOR, "#neighbours tbody tr")
    assert len(stars) == len(listed) >= 2
    assert "* alf CMa" in listed[0].text and browser.find_element(By.ID, "main-id").text == "* alf CMa"
    listed[1].click()  # choosing a neighbour shows its properties
    _wait(browser, lambda d: d.find_element(By.ID, "main-id").text != "* alf CMa")
    browser.save_screenshot(str(tmp_path / "around.png"))
