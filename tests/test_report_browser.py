"""The quick-profile report in a real browser (headless Chromium through WebDriver): no console errors, every
image decodes, every audio element loads with a duration, clicking a map point plays its clip, and dataset text
carrying markup stays text."""
import json
import os
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run")
EVIL = '<script>window.__pwned=1</script>"onmouseover="window.__pwned=2" x="'


def _tools():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        if os.environ.get("DL4MIR_REQUIRE_BROWSER"):
            pytest.fail("headless Chromium and chromedriver are required here (apt-get install chromium chromium-driver)")
        pytest.skip("needs chromium and chromedriver (Debian: apt-get install chromium chromium-driver)")
    return browser, driver


@pytest.fixture(scope="module")
def page(quick_run, tmp_path_factory):
    """A copy of the quick run whose metrics carry markup in a map label, a caption and a headline, re-rendered
    with `dl4mir report`, opened in Chromium."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _tools()
    run = tmp_path_factory.mktemp("browser") / "run"
    shutil.copytree(quick_run, run)
    step = next(d for d in sorted(run.iterdir()) if (d / "metrics.json").is_file()
                and json.loads((d / "metrics.json").read_text()).get("maps"))
    rec = json.loads((step / "metrics.json").read_text())
    rec["maps"][0]["points"][0]["label"] = EVIL
    if rec["audio"]:
        rec["audio"].append({"file": rec["audio"][0]["file"], "caption": EVIL})
    rec["headline"][EVIL] = EVIL
    (step / "metrics.json").write_text(json.dumps(rec))
    p = subprocess.run([sys.executable, "-m", "dl4mir", "report", str(run)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chrome-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        driver.get((run / "report.html").as_uri())
        yield driver, step.name
    finally:
        driver.quit()


def _wait(driver, script, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda d: d.execute_script(script))


def test_every_image_decodes(page):
    driver, _ = page
    n = driver.execute_script("return document.images.length")
    assert n >= 25
    _wait(driver, "return [...document.images].every(i => i.complete)")
    broken = driver.execute_script("return [...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
    assert broken == []


def test_every_audio_element_loads_with_a_duration(page):
    driver, _ = page
    driver.execute_script("document.querySelectorAll('audio').forEach(a => a.load())")
    _wait(driver, "return [...document.querySelectorAll('audio')].every(a => a.readyState >= 1 || a.error)", 120)
    bad = driver.execute_script("""return [...document.querySelectorAll('audio')]
        .filter(a => a.error || !(a.duration > 0)).map(a => a.src + ' ' + (a.error ? a.error.code : a.duration))""")
    assert driver.execute_script("return document.querySelectorAll('audio').length") >= 30
    assert bad == []


def test_clicking_a_map_point_plays_its_clip(page):
    driver, _ = page
    circles = driver.find_elements("css selector", ".map circle")
    assert len(circles) >= 20
    target = circles[len(circles) // 2]
    target.click()
    from selenium.webdriver.support.ui import WebDriverWait

    box = driver.execute_script("return arguments[0].closest('.map')", target)
    audio = box.find_element("css selector", "audio")
    WebDriverWait(driver, 30, poll_frequency=0.25).until(
        lambda d: d.execute_script("return !arguments[0].paused && arguments[0].currentTime > 0", audio))
    assert box.find_element("css selector", ".now").text.startswith("playing: ")
    assert "playing" in target.get_attribute("class")
    assert "/clips/" in audio.get_attribute("src")


def test_markup_in_dataset_text_renders_as_text(page):
    from selenium.webdriver.common.action_chains import ActionChains

    driver, step = page
    # hover the point whose label carries the markup, as a user would, then look for any effect of it
    point = driver.find_element("css selector", f"#{step} .map circle")
    ActionChains(driver).move_to_element(point).perform()
    assert driver.execute_script("return window.__pwned") is None
    text = driver.execute_script("return document.body.innerText")
    assert EVIL in text  # the headline key, shown literally
    legend = driver.execute_script(f"return document.querySelector('#{step} .legend').textContent")
    assert EVIL in legend
    title = driver.execute_script(f"return document.querySelector('#{step} .map circle title').textContent")
    assert title.startswith(EVIL)


def test_no_console_errors(page):
    driver, _ = page
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
