"""The web UI in a real browser: `ddb-harness run --web` against DynamoDB Local, driven by Selenium and headless Chromium.

Needs Debian's chromium and chromium-driver (`make browser` installs them); skipped only when they are absent.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import REPO, SCENARIOS
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from test_run_e2e import run_dir_of

from harness.run.web_charts import CHARTS_PATH
from harness.run.web_tab import COLUMNS, KEY_COLUMNS, KEYS_TAB_TITLE, TAB_TITLE
from harness.scenario import load_scenario
from harness.target.local import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
HARNESS = [sys.executable, "-m", "harness.cli"]
SCENARIO = SCENARIOS / "quickstart.yaml"

STARTUP_SECONDS = 240
"""Upper bound for waits (tables, data, Locust, the first stats): a failure shows up as a timeout, never as slowness."""
EXIT_SECONDS = 120

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason=f"{CHROMIUM} or {CHROMEDRIVER} is missing: run `make browser` to install Debian's chromium and chromium-driver",
)


@pytest.fixture
def browser():
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1600,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def _default_sigint():
    # A shell's background job inherits SIGINT ignored, and Python then keeps it ignored: this run must stop on SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def web_run(endpoint, tmp_path):
    """`ddb-harness run quickstart.yaml --web` in its own process group; yields (process, UI url, results folder)."""
    port = free_port()
    results = tmp_path / "results"
    command = HARNESS + [
        "run", str(SCENARIO), "--web", "--endpoint-url", endpoint, "--results-dir", str(results),
        "--", "--web-host", "127.0.0.1", "--web-port", str(port),
    ]  # fmt: skip
    stdout, stderr = open(tmp_path / "stdout.txt", "w"), open(tmp_path / "stderr.txt", "w")
    process = subprocess.Popen(command, cwd=REPO, stdout=stdout, stderr=stderr, text=True, start_new_session=True, preexec_fn=_default_sigint)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for_http(url, process, tmp_path)
        yield process, url, results
    finally:
        if process.poll() is None:  # the test failed before it stopped the run: end it like Ctrl+C would
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(EXIT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        stdout.close()
        stderr.close()


def wait_for_http(url: str, process: subprocess.Popen, folder: Path) -> None:
    """Poll until the web UI answers; fail with the harness's output if the process ends first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ddb-harness exited with {process.returncode} before its web UI came up: {(folder / 'stderr.txt').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"no web UI at {url} after {STARTUP_SECONDS} s: {(folder / 'stderr.txt').read_text()[-3000:]}")


def table_rows(driver) -> list[dict[str, str]]:
    """The visible table's rows as {column title: cell text}."""
    table = driver.find_element(By.CSS_SELECTOR, "table")
    titles = [cell.text.strip() for cell in table.find_elements(By.CSS_SELECTOR, "thead th")]
    rows = []
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [cell.text.strip() for cell in row.find_elements(By.CSS_SELECTOR, "td")]
        rows.append(dict(zip(titles, cells, strict=False)))
    return rows


def rows_when(condition):
    """A WebDriverWait condition: the visible table's rows once `condition(rows)` holds, else False (retried)."""

    def check(driver):
        try:
            rows = table_rows(driver)
        except (StaleElementReferenceException, WebDriverException):
            return False  # React re-rendered the table under us: read it again
        return rows if condition(rows) else False

    return check


def number(text: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return 0.0


def status_of(driver) -> str:
    """The value under "Status" in the page's header (READY, RUNNING, STOPPING, STOPPED...)."""
    lines = [line.strip().upper() for line in driver.find_element(By.TAG_NAME, "body").text.splitlines()]
    return lines[lines.index("STATUS") + 1] if "STATUS" in lines[:-1] else ""


def runner_state(url: str) -> str:
    """Locust's runner state from its own /stats/requests."""
    with urllib.request.urlopen(url + "stats/requests", timeout=10) as answer:
        return json.load(answer)["state"]


def until(wait: WebDriverWait, condition, what: str, url: str):
    """wait.until(condition); on timeout, fail saying what was awaited, with the page's text and Locust's state."""
    try:
        return wait.until(condition)
    except TimeoutException:
        driver = wait._driver
        try:
            state = runner_state(url)
        except (OSError, ValueError) as exc:
            state = f"unknown ({exc})"
        page = driver.find_element(By.TAG_NAME, "body").text
        pytest.fail(f"timed out waiting for {what}; Locust's state: {state}; page text:\n{page[:3000]}")


def click_button(driver, label: str) -> None:
    buttons = [button for button in driver.find_elements(By.TAG_NAME, "button") if button.text.strip().lower() == label.lower()]
    assert buttons, f"no {label!r} button on the page"
    buttons[0].click()


def test_web_ui_prefills_the_form_and_shows_the_dynamodb_tab(web_run, browser):
    process, url, results = web_run
    scenario = load_scenario(SCENARIO)
    wait = WebDriverWait(browser, STARTUP_SECONDS, poll_frequency=0.5)
    browser.get(url)

    users = until(wait, lambda driver: driver.find_element(By.CSS_SELECTOR, "input[name='userCount']"), "the start form", url)
    spawn_rate = browser.find_element(By.CSS_SELECTOR, "input[name='spawnRate']")
    assert number(users.get_attribute("value")) == scenario.load.users
    assert number(spawn_rate.get_attribute("value")) == scenario.load.spawn_rate

    users.find_element(By.XPATH, "./ancestor::form").find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    until(wait, lambda driver: status_of(driver) in ("SPAWNING", "RUNNING"), "the run to start", url)
    steps = {step.step_name for step in scenario.workload.mix}
    until(wait, rows_when(lambda rows: steps <= {row.get("Name") for row in rows if number(row.get("# Requests", "0")) > 0}), "a stats row per step", url)

    browser.find_element(By.XPATH, f"//button[@role='tab'][normalize-space()='{TAB_TITLE}']").click()
    titles = dict(COLUMNS)

    def resource(row: dict) -> tuple[str, str]:
        return row.get(titles["table"]), row.get(titles["index"])

    def consumed(row: dict) -> float:
        return number(row.get(titles["rcu"], "0")) + number(row.get(titles["wcu"], "0"))

    declared = {(table.name, "") for table in scenario.tables} | {(table.name, gsi.name) for table in scenario.tables for gsi in table.gsis}
    # DynamoDB Local returns no ConsumedCapacity for PartiQL (ExecuteStatement): only the other steps' resources show units.
    measured = {(step.table, getattr(step, "index", None) or "") for step in scenario.workload.mix if step.task != "partiql_insert_order"}
    rows = until(wait, rows_when(lambda rows: measured <= {resource(row) for row in rows if consumed(row) > 0}), f"consumed capacity on {sorted(measured)}", url)
    assert list(rows[0]) == [title for _key, title in COLUMNS]
    assert {resource(row) for row in rows} == declared  # one row per table and GSI of the scenario, nothing else

    browser.find_element(By.XPATH, f"//button[@role='tab'][normalize-space()='{KEYS_TAB_TITLE}']").click()
    key_titles = dict(KEY_COLUMNS)
    hot = until(wait, rows_when(lambda rows: any(number(row.get(key_titles["attempts"], "0")) > 0 for row in rows)), "a hot key with attempts", url)
    assert {row[key_titles["table"]] for row in hot} <= {table.name for table in scenario.tables}

    browser.get(url.rstrip("/") + CHARTS_PATH)
    charts = until(wait, lambda driver: [canvas for canvas in driver.find_elements(By.CSS_SELECTOR, "canvas.capacity") if int(canvas.get_attribute("data-points") or 0) > 0] or False, "the capacity charts drawn", url)
    drawn = {canvas.get_attribute("data-resource") for canvas in charts}
    assert {f"{table} / {index}" if index else table for table, index in measured} <= drawn
    browser.get(url)

    click_button(browser, "Stop")
    # Locust's stop() passes through "cleanup" (users being stopped) before "stopping"/"stopped".
    until(wait, lambda driver: status_of(driver) in ("CLEANUP", "STOPPING", "STOPPED"), "the page to show the run stopping", url)
    # The page polls only while it believes the run is going, so it may stay at CLEANUP or STOPPING: ask Locust itself.
    until(wait, lambda _: runner_state(url) == "stopped", "Locust to report the run stopped", url)
    family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    assert any("locust" in " ".join(member.cmdline()) for member in family[1:])

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl+C in the terminal does
    assert process.wait(EXIT_SECONDS) == 0
    gone, alive = psutil.wait_procs(family, timeout=EXIT_SECONDS)
    assert not alive, [member.cmdline() for member in alive]
    run_dir = run_dir_of(results)
    assert (run_dir / "locust_stats.csv").exists() and (run_dir / "harness_capacity.csv").exists()
