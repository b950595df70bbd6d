"""The live Playground's page in a real headless Chromium (integration lane).

``python -m fastmlp.playground serve`` runs in a child process on loopback;
selenium drives Debian's ``chromium`` through ``chromium-driver`` (``.ci/run``
installs both when missing). The page loads and compiles ahead, Play makes
the epoch count rise and the loss fall, a control change makes a new network,
a playground.tensorflow.org URL hash sets the controls, the redraws per
second are measured, and a screenshot is saved.

Environment: ``FASTMLP_PLAYGROUND_SHOTS`` a folder for the screenshot and the
measured figures (default: pytest's tmp_path); ``FASTMLP_PLAYGROUND_MIN_FPS``
the redraws a second the test insists on (default 10: a loaded two-core CI
machine; the issue's target, 30, is reported, see the README).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

#: A link copied from playground.tensorflow.org (names fastmlp ignores kept).
PLAYGROUND_HASH = (
    "activation=relu&batchSize=20&dataset=xor&regDataset=reg-plane&"
    "learningRate=0.1&regularizationRate=0.001&noise=15&networkShape=5,3&"
    "seed=0.70165&showTestData=true&discretize=false&percTrainData=60&x=true&"
    "y=true&xTimesY=true&xSquared=false&ySquared=false&cosX=false&sinX=false&"
    "cosY=false&sinY=true&collectStats=false&problem=classification&"
    "initZero=false&hideText=false&regularization=L1"
)
INSTALL_HINT = (
    "the browser test needs Debian's chromium and chromium-driver "
    "(apt-get install -y chromium chromium-driver; .ci/run installs them) and "
    "selenium (the 'test' extra)"
)


def _browser_paths():
    """``(chromium, chromedriver)``; a clear failure, never a skip, if absent."""
    chromium = os.environ.get("CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None
    )
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not (
        chromium and os.path.exists(chromium) and driver and os.path.exists(driver)
    ):
        pytest.fail(f"chromium={chromium}, chromedriver={driver}: {INSTALL_HINT}")
    return chromium, driver


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    """The server in a child process, as a student starts it; its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "fastmlp.playground", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # printed before any compile
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, f"no URL in the server's first line: {line!r}"
        yield match.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"selenium is not installed: {INSTALL_HINT}")
    chromium, driver = _browser_paths()
    options = Options()
    options.binary_location = chromium
    # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1280,800", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(driver))
    chrome.set_script_timeout(60)
    yield chrome
    chrome.quit()


def _shots_dir(tmp_path_factory):
    folder = os.environ.get("FASTMLP_PLAYGROUND_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("playground_shots")


def _text(browser, element_id):
    return browser.execute_script(
        f"return document.getElementById('{element_id}').textContent"
    )


def _wait(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _epoch(browser):
    return int(_text(browser, "epoch"))


def _open(browser, url):
    """Load the page; wait for the kernels and the first network drawn."""
    browser.get("about:blank")
    browser.get(url)
    _wait(lambda: "ready" in _text(browser, "status"), 180, "the kernels")
    _wait(lambda: browser.execute_script("return snap !== null"), 30, "a snapshot")


def _play_for(browser, seconds, screenshot=None):
    """Play for ``seconds`` (a screenshot at the end, still playing, if a path
    is given); returns (epochs, redraws) counted in that time."""
    epoch0, redraws0 = _epoch(browser), browser.execute_script("return redraws")
    browser.find_element("id", "play").click()
    time.sleep(seconds)
    if screenshot is not None:
        assert browser.save_screenshot(str(screenshot))
    browser.find_element("id", "play").click()  # pause
    time.sleep(0.3)  # the request in flight lands
    return (
        _epoch(browser) - epoch0,
        browser.execute_script("return redraws") - redraws0,
    )


def _severe_errors(browser):
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_page_trains_resets_and_reads_a_playground_url(
    server_url, browser, tmp_path_factory
):
    shots = _shots_dir(tmp_path_factory)
    _open(browser, server_url)
    status = _text(browser, "status")
    assert re.search(r"kernels ready \(\d+\.\d s\)", status), status
    assert _epoch(browser) == 0
    loss0 = float(_text(browser, "lossTrain"))

    # Play: the epoch count rises, the loss falls; redraws per second.
    seconds = 4.0
    epochs, redraws = _play_for(browser, seconds)
    loss1 = float(_text(browser, "lossTrain"))
    fps = redraws / seconds
    assert epochs >= redraws > 0  # speed 1: one epoch (at least) per redraw
    assert loss1 < loss0 / 2, (loss0, loss1)

    # A control other than the learning rate makes a new network (epoch 0).
    from selenium.webdriver.support.select import Select

    Select(browser.find_element("id", "activation")).select_by_visible_text("relu")
    _wait(lambda: _epoch(browser) == 0, 10, "epoch 0 after a new activation")
    assert float(_text(browser, "lossTrain")) > loss1

    # A playground.tensorflow.org link sets the controls and the server's state.
    _open(browser, server_url + "#" + PLAYGROUND_HASH)
    values = browser.execute_script(
        "return ['activation', 'learningRate', 'regularization',"
        " 'regularizationRate', 'batchSize', 'noise', 'percTrainData']"
        ".map((id) => document.getElementById(id).value)"
    )
    assert values == ["relu", "0.1", "L1", "0.001", "20", "15", "60"]
    assert _text(browser, "shape") == "2 hidden layer(s)"
    neurons = browser.execute_script(
        "return [...document.querySelectorAll('#layerButtons span')]"
        ".map((s) => s.lastChild.textContent.trim())"
    )
    assert neurons == ["5", "3"]
    assert browser.execute_script(
        "return document.querySelector('#datasets .selected').dataset.name"
    ) == "xor"  # fmt: skip
    assert browser.find_element("id", "showTestData").is_selected()
    server_state = browser.execute_async_script(
        "const done = arguments[0];"
        "fetch('/api/snapshot').then((r) => r.json()).then((s) => done(s.state))"
    )
    assert server_state["networkShape"] == [5, 3] and server_state["sinY"]
    assert server_state["seed"] == "0.70165" and not server_state["xSquared"]

    # That network trains too; the picture after a few seconds is the README's.
    shot = shots / "playground_live.png"
    assert _play_for(browser, 3.0, screenshot=shot)[0] > 0
    assert shot.stat().st_size > 10_000
    errors = _severe_errors(browser)
    assert not errors, errors

    figures = {
        "redraws_per_second": round(fps, 1),
        "epochs_per_second": round(epochs / seconds, 1),
        "seconds": seconds,
        "network": "2-4-2-1 tanh, circle, batch 10 (the Playground's default)",
        "status": status,
    }
    (shots / "playground_live.json").write_text(json.dumps(figures, indent=1))
    print("\nlive Playground in headless Chromium:", figures)
    minimum = float(os.environ.get("FASTMLP_PLAYGROUND_MIN_FPS", "10"))
    assert fps >= minimum, f"{fps:.1f} redraws/s, fewer than {minimum}"
