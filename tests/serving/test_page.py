"""The web page of ``asr serve`` in a real browser (Debian's headless Chromium through its
chromedriver): a file picked in the page and speech from a fake microphone both end as text with
word times on the page; a screenshot of each is kept in ``build/test-artefacts/``."""

import shutil

import pytest
from conftest import ROOT
from live_server import API_KEY, onnx_model, start_server, stop_server  # noqa: F401  (fixture)
from test_api import offline  # noqa: F401  (fixture)

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="Debian's chromium and chromium-driver are absent")
ARTEFACTS = ROOT / "build" / "test-artefacts"
WAIT_SECONDS = 60


@pytest.fixture(scope="module")
def page_server(onnx_model, tmp_path_factory):
    process, url = start_server(onnx_model, tmp=tmp_path_factory.mktemp("page-server"))
    yield url
    stop_server(process)


def browser(microphone_wav):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                 f"--use-file-for-fake-audio-capture={microphone_wav}", "--autoplay-policy=no-user-gesture-required",
                 "--window-size=900,900"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)


def wait_for_text(driver):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT_SECONDS).until(
        lambda d: d.find_element("id", "text").text or "error" in d.find_element("id", "status").get_attribute("class"))
    assert "error" not in driver.find_element("id", "status").get_attribute("class"), \
        driver.find_element("id", "status").text
    return driver.find_element("id", "text").text


def test_a_picked_file_and_the_microphone_become_text_with_word_times(page_server, offline, tmp_path):
    import time

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = next(iter(offline))
    driver = browser(path)
    try:
        driver.get(page_server + "/")
        driver.find_element("id", "key").send_keys(API_KEY)
        driver.find_element("id", "file").send_keys(path)
        assert wait_for_text(driver) == (offline[path]["text"] or "(no speech found)")
        rows = driver.find_elements("css selector", "#words tbody tr")
        assert len(rows) == len(offline[path]["words"])
        driver.save_screenshot(str(ARTEFACTS / "serve_page_file.png"))

        driver.execute_script("document.getElementById('text').textContent = ''")
        driver.find_element("id", "record").click()
        time.sleep(3)  # three seconds of the fake microphone (the file, looped)
        driver.find_element("id", "stop").click()
        assert wait_for_text(driver)
        status = driver.find_element("id", "status").text
        assert status.startswith("microphone.wav: ") and float(status.split()[1]) >= 2.0, status
        driver.save_screenshot(str(ARTEFACTS / "serve_page_microphone.png"))
    finally:
        driver.quit()
