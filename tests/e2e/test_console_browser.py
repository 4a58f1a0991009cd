"""The console in a real browser (Debian chromium driven by Selenium) over a served store.

A browser that fails to start fails the test. Screenshots go to the test's tmp folder.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from serve.app import create_app
from sinks.store.database import open_store
from sinks.store.rows import chain_rows
from tests.unit.store_plant import plant
from tracesync.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def console_url(tmp_path: Path) -> Iterator[str]:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    store.write([chain_rows(r) for r in plant()])
    port = _free_port()
    config = uvicorn.Config(
        create_app(store.engine, Settings().serve), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        store.engine.dispose()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    driver.set_window_size(1400, 1000)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


def _log_in(browser: webdriver.Chrome, url: str, key: str) -> None:
    browser.get(f"{url}/login")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "login").click()


def test_trace_code_to_batch_to_raw_lot_to_recall(
    browser: webdriver.Chrome, console_url: str, tmp_path: Path
) -> None:
    _log_in(browser, console_url, "dev-viewer-key")
    browser.find_element(By.ID, "q").send_keys("TC-FG-B1-0002")
    browser.find_element(By.ID, "search").click()

    assert browser.find_element(By.ID, "batch").text == "batch FG-B1"
    assert "OVEN-1" in browser.find_element(By.ID, "parameters").text
    browser.save_screenshot(str(tmp_path / "batch-page.png"))
    browser.find_element(By.ID, "genealogy").screenshot(str(tmp_path / "genealogy.png"))
    browser.find_element(By.CSS_SELECTOR, 'g[data-code="DOUGH-B1"]').click()
    assert browser.find_element(By.ID, "batch").text == "batch DOUGH-B1"
    browser.find_element(By.CSS_SELECTOR, 'g[data-code="RM-FLOUR-L1"]').click()
    assert browser.find_element(By.ID, "batch").text == "batch RM-FLOUR-L1"
    browser.find_element(By.ID, "recall-link").click()

    assert browser.find_element(By.ID, "recall").text == "recall RM-FLOUR-L1"
    affected = browser.find_element(By.ID, "affected").text
    assert all(code in affected for code in ("DOUGH-B1", "FG-B1", "FG-B2"))
    assert browser.find_element(By.ID, "customers").text == "customers: CUST-A, CUST-B"


def test_a_wrong_key_is_refused(browser: webdriver.Chrome, console_url: str) -> None:
    _log_in(browser, console_url, "not-a-key")

    assert browser.find_element(By.ID, "problem").text == "unknown API key"
    browser.get(f"{console_url}/batch/FG-B1")
    assert "missing API key" in browser.find_element(By.ID, "problem").text
