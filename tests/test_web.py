"""The web page at /: served files, and end to end in headless Chromium (selenium with
Debian's chromium and chromium-driver; skipped with a reason when they are absent)."""

from __future__ import annotations

import io
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


# ---------------------------------------------------------------------------------------
# The GetStar answer in a browser: the stylesheet it names renders it as a page


@pytest.mark.parametrize("answer", ["/sclwsGetStarProxy.php?star=Sirius,Vega",
                                    "/v1/stars?names=Sirius|Vega&format=votable11"])
def test_browser_renders_the_getstar_answer(live_server, browser, answer: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What ASPRO2's GetStar button opens: the VOTable URL itself, made a page by our XSLT."""
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + answer)
    _wait(browser, lambda d: d.find_elements(By.ID, "getstar-view"))
    assert browser.find_element(By.ID, "star-count").text == "2"
    stars = browser.find_elements(By.CSS_SELECTOR, "section.star")
    assert [s.find_element(By.TAG_NAME, "h2").text.split(" (")[0] for s in stars] == ["* alf CMa", "* alf Lyr"]
    v = stars[0].find_element(By.CSS_SELECTOR, 'tr[data-property="V"]')
    cells = [td.text for td in v.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "V" and float(cells[1]) < 0 and cells[3] == "mag"
    assert cells[4] == "SIMBAD" and cells[5] in ("HIGH", "MEDIUM", "LOW")  # codes decoded via the index PARAMs
    hd = stars[0].find_element(By.CSS_SELECTOR, 'tr[data-property="HD"] a')
    assert hd.text == "48915" and hd.get_attribute("href").endswith("Ident=HD%2048915")  # LINK template filled
    plx = stars[0].find_element(By.CSS_SELECTOR, 'tr[data-property="dist_plx"]')
    assert "2.637061" in plx.text and "computed" in plx.text
    assert not stars[0].find_elements(By.CSS_SELECTOR, 'tr[data-property="deletedFlag"]')
    browser.save_screenshot(str(tmp_path / "getstar-view.png"))


# ---------------------------------------------------------------------------------------
# SAMP: the page sends tables to ASPRO2 and TOPCAT through the Web Profile of a real hub

SAMP_WEB_PORT = 21012  # fixed by the SAMP standard: the page always looks there


class _ApproveGetstar:
    """The hub's "a web page wants to register" dialog, answered by the test: yes for our page only."""

    def __init__(self, expected_origin: str) -> None:
        import queue
        import threading

        self.expected_origin = expected_origin
        self.seen: list[tuple[str, str]] = []
        self.queue_request: queue.Queue = queue.Queue()  # replaced by the hub
        self.queue_result: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import queue

        while not self._stop.is_set():
            try:
                identity, _address, origin = self.queue_request.get(timeout=0.1)
            except queue.Empty:
                continue
            name = identity.get("samp.name") if isinstance(identity, dict) else identity
            self.seen.append((str(name), str(origin)))
            self.queue_result.put(name == "getstar" and origin == self.expected_origin)

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
def samp_hub(live_server, tmp_path: Path) -> Iterator[tuple[object, _ApproveGetstar, dict[str, list[dict]], object]]:  # type: ignore[no-untyped-def]
    """A SAMP hub with the Web Profile on localhost:21012, and two listening applications named as
    ASPRO2 and TOPCAT name themselves; yields (hub, dialog, {application: [messages' params]}, ASPRO2's client)."""
    import socket
    import warnings

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", SAMP_WEB_PORT)) == 0:
            pytest.skip(f"port {SAMP_WEB_PORT} (SAMP Web Profile) is taken on this machine")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from pyvo.samp import SAMPHubServer, SAMPIntegratedClient
        except ImportError:  # older pyvo: astropy's (deprecated) copy
            from astropy.samp import SAMPHubServer, SAMPIntegratedClient
    dialog = _ApproveGetstar(live_server.url)
    hub = SAMPHubServer(web_profile=True, web_profile_dialog=dialog, lockfile=str(tmp_path / "samp-lock"),
                        web_port=SAMP_WEB_PORT, addr="127.0.0.1")
    hub.start(wait=False)
    received: dict[str, list[dict]] = {"Aspro2": [], "topcat": []}
    clients = []
    for name in received:
        client = SAMPIntegratedClient(name=name, metadata={"samp.name": name}, addr="127.0.0.1")
        client.connect(hub=hub)

        # called as (private key, sender id, message id (None for a notification), mtype, params, extra)
        def on_table(*args, name=name):  # type: ignore[no-untyped-def]
            received[name].append({**args[-2], "sender": args[1]})

        client.bind_receive_notification("table.load.votable", on_table)
        clients.append(client)
    yield hub, dialog, received, clients[0]
    for client in clients:
        client.disconnect()
    hub.stop()
    dialog.stop()


def test_browser_sends_tables_over_samp(live_server, browser, samp_hub) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    _hub, dialog, received, aspro = samp_hub
    _search(browser, live_server.url, "Sirius")
    _wait(browser, lambda d: d.find_element(By.ID, "main-id").text == "* alf CMa")

    browser.find_element(By.ID, "samp-aspro").click()
    _wait(browser, lambda d: "Sent to Aspro2" in d.find_element(By.ID, "samp-status").text, timeout=30)
    assert dialog.seen == [("getstar", live_server.url)]  # the hub asked about our page, once
    (to_aspro,) = received["Aspro2"]
    # ASPRO2 reads a table from an application named "getstar" as a GetStar answer
    assert aspro.get_metadata(to_aspro["sender"])["samp.name"] == "getstar"
    answer = httpx.get(to_aspro["url"], timeout=30)
    assert answer.status_code == 200 and 'xmlns="http://www.ivoa.net/xml/VOTable/v1.1"' in answer.text
    assert '<PARAM name="ServerCommand" datatype="char" arraysize="*" value="GetStar"/>' in answer.text
    assert ">Sirius</TD>" in answer.text  # TARGET_ID: ASPRO2's target is named as typed

    browser.find_element(By.ID, "samp-topcat").click()
    _wait(browser, lambda d: "Sent to topcat" in d.find_element(By.ID, "samp-status").text, timeout=30)
    (to_topcat,) = received["topcat"]
    star = httpx.get(to_topcat["url"], timeout=30)
    assert star.status_code == 200 and 'version="1.4"' in star.text and "* alf CMa" in star.text

    _search(browser, live_server.url, "06 45 08.9 -16 42 58")
    _wait(browser, lambda d: d.find_element(By.ID, "neighbourhood").is_displayed())
    browser.find_element(By.ID, "samp-cone-topcat").click()
    _wait(browser, lambda d: len(received["topcat"]) == 2, timeout=30)
    from astropy.io.votable import parse

    cone = httpx.get(received["topcat"][1]["url"], timeout=30)
    table = parse(io.BytesIO(cone.content)).get_first_table()
    assert len(table.array) >= 2 and "ra=" in received["topcat"][1]["url"]
    # one registration per page: the new page registered again, the old one left the hub on leaving
    assert dialog.seen == [("getstar", live_server.url)] * 2
    names = [aspro.get_metadata(c).get("samp.name") for c in aspro.get_registered_clients()]
    assert names.count("getstar") == 1


def test_samp_without_a_hub_says_so(live_server, browser) -> None:  # type: ignore[no-untyped-def]
    import socket

    from selenium.webdriver.common.by import By

    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", SAMP_WEB_PORT)) == 0:
            pytest.skip(f"a SAMP hub is running on port {SAMP_WEB_PORT}")
    _search(browser, live_server.url, "Vega")
    _wait(browser, lambda d: d.find_element(By.ID, "main-id").text == "* alf Lyr")
    browser.find_element(By.ID, "samp-aspro").click()
    _wait(browser, lambda d: "no SAMP hub" in d.find_element(By.ID, "samp-status").text, timeout=30)
