"""The console in a real browser (Debian chromium driven by Selenium) over a served store.

A browser that fails to start fails the test. Screenshots of the batch page, the genealogy, the
live view, the dead letters and the reconciliation dashboard go to the run's artifacts
(``var/test[/slot-N]/artifacts``). The live test runs the real stream worker: an event posted to a
source topic becomes a hold that the page shows without a reload.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select
from selenium.webdriver.support.wait import WebDriverWait

from serve.app import create_app
from serve.pipeline import pipeline_of
from sinks.store.database import open_store
from sinks.store.rows import chain_rows
from tests.console_server import ARTIFACTS, demo_serve, plant_with_a_mismatch, serving
from tests.fixtures.kafka import KafkaBroker
from tests.unit.store_plant import plant
from tracesync import bootstrap
from tracesync.devtools.supervise import Component
from tracesync.publisher import KafkaPublisher, OutboundRecord
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
    _submit(browser, "login")  # else the next lookup can find the login page's own nav links


def _full_page_screenshot(browser: webdriver.Chrome, name: str) -> None:
    """The whole page, not only the window, into the run's artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = browser.get_window_size()
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size["width"], int(height) + 120)
    browser.save_screenshot(str(ARTIFACTS / name))
    browser.set_window_size(size["width"], size["height"])


def test_trace_code_to_batch_to_raw_lot_to_recall(
    browser: webdriver.Chrome, console_url: str
) -> None:
    _log_in(browser, console_url, "dev-viewer-key")
    browser.find_element(By.ID, "q").send_keys("TC-FG-B1-0002")
    browser.find_element(By.ID, "search").click()

    assert browser.find_element(By.ID, "batch").text == "batch FG-B1"
    assert "OVEN-1" in browser.find_element(By.ID, "parameters").text
    upstream = browser.find_element(By.ID, "upstream-lots").text
    assert "supplier SUP-1, supplier lot S-RM-SUGAR-L1" in upstream
    assert "I-DOUGH-B1 FINAL PASS at 2026-11-02 09:00:00+00:00" in upstream
    assert (
        "PENDING: MES 100.000, WMS - (missing)"
        in browser.find_element(By.ID, "reconciliation").text
    )
    _full_page_screenshot(browser, "batch-page.png")
    browser.find_element(By.ID, "genealogy").screenshot(str(ARTIFACTS / "genealogy.png"))
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


def _fill(browser: webdriver.Chrome, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = browser.find_element(By.NAME, name)
        if field.tag_name == "select":
            Select(field).select_by_value(value)
        else:
            field.clear()
            field.send_keys(value)


def _tick(browser: webdriver.Chrome, name: str, value: str) -> None:
    browser.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]').click()


PLANT = {
    "organization.name": "Dairy Test",
    "organization.industry": "food",
    "organization.plants": "P1",
    "systems[0].id": "mes",
    "systems[0].kind": "MES",
    "systems[0].vendor": "LineWorks",
    "systems[0].rest_api.docs": "good",
    "systems[1].id": "wms",
    "systems[1].kind": "WMS",
    "systems[1].vendor": "StockPilot",
    "systems[1].file_export.every": "1h",
    "flows[0].id": "batch-to-wms",
    "flows[0].from": "mes",
    "flows[0].to": "wms",
    "flows[0].scenario": "production_reporting",
    "flows[0].latency": "30s",
    "team.developers": "1",
    "team.operations": "1",
    "budget.model": "opex",
    "vendor.name": "In-house",
}


def test_the_assessment_form_names_bad_fields_then_assesses(
    browser: webdriver.Chrome, console_url: str, tmp_path: Path
) -> None:
    _log_in(browser, console_url, "dev-viewer-key")
    browser.find_element(By.LINK_TEXT, "assess").click()
    _fill(browser, {**PLANT, "flows[0].to": "wsm"})
    _submit(browser, "assess")

    problems = browser.find_elements(By.CSS_SELECTOR, ".field-problem")
    assert {p.get_attribute("data-field") for p in problems} == {
        "systems[1].file_export.formats",
        "flows[0].to",
    }
    assert "2 problems" in browser.find_element(By.ID, "problems").text
    _tick(browser, "systems[1].file_export.formats", "csv")
    _fill(browser, {"flows[0].to": "wms"})
    _submit(browser, "assess")

    steps = browser.find_element(By.ID, "steps").text
    assert all(f"Step {n}:" in steps for n in range(1, 6))
    assert "weighted total" in browser.find_element(By.ID, "comparison").text
    flows = browser.find_element(By.ID, "flows").text
    assert "batch-to-wms: mes → wms (production_reporting); need 30 s" in flows
    assert browser.find_elements(By.ID, "sheet-xlsx") and browser.find_elements(By.ID, "config-zip")
    browser.save_screenshot(str(ARTIFACTS / "assessment.png"))


def _submit(browser: webdriver.Chrome, button_id: str) -> None:
    """Click a form's submit button and wait until the answer page has replaced the form."""
    button = browser.find_element(By.ID, button_id)
    button.click()
    WebDriverWait(browser, 30).until(staleness_of(button))


@pytest.fixture
def pipeline_settings(
    kafka_broker: KafkaBroker, tmp_path: Path, unique_group: Callable[..., str]
) -> Settings:
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"{uuid.uuid4().hex[:8]}.",
        source_partitions=2,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
        worker={"app_id": unique_group("console-worker"), "take_within_s": 0.02},
    )
    bootstrap.ensure_topics(settings)
    return settings


@pytest.fixture
def live_console(pipeline_settings: Settings, tmp_path: Path) -> Iterator[tuple[str, Component]]:
    """The console over the plant (with a mismatch) and the pipeline's topics, and a worker."""
    store = open_store(f"sqlite:///{tmp_path / 'live.db'}")
    store.write([chain_rows(r) for r in plant_with_a_mismatch()])
    app = create_app(store.engine, demo_serve(), None, pipeline=pipeline_of(pipeline_settings))
    worker = Component(
        ["worker", "--loglevel", "warning"], pipeline_settings, tmp_path / "worker.log"
    ).start()
    try:
        with serving(app) as url:
            yield url, worker
    finally:
        worker.stop()
        store.engine.dispose()


def _hold_placed(batch: str, hold_id: str) -> dict[str, Any]:
    at = datetime.now(UTC)
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "HOLD_PLACED",
        "source_system": "QMS",
        "source_ref": f"QMS:HOLD:{hold_id}",
        "source_seq": 1,
        "batch_code": batch,
        "occurred_at": at,
        "recorded_at": at,
        "plant": "P1",
        "payload": {
            "hold_id": hold_id,
            "target_type": "LOT",
            "reason": "supplier alert",
            "placed_by": "qa",
        },
    }


def _post(settings: Settings, envelope: dict[str, Any], garbage_key: str) -> None:
    """The hold to the QMS topic, and an undecodable record that the worker dead-letters."""
    serde = bootstrap.envelope_serde(settings)
    topics = bootstrap.catalog(settings)
    records = [
        OutboundRecord.keyed_by_batch(
            topics.source_topic("QMS"), envelope["batch_code"], serde.encode(envelope)
        ),
        OutboundRecord.keyed_by_batch(topics.source_topic("MES"), garbage_key, b"not avro"),
    ]
    with KafkaPublisher(settings.kafka, settings.producer) as publisher:
        publisher.publish(records)


def _until(
    browser: webdriver.Chrome, what: str, check: Callable[[], bool], timeout_s: float
) -> None:
    WebDriverWait(browser, timeout_s, 0.2).until(lambda _driver: check(), what)


def test_a_hold_arrives_live_and_an_operator_redrives_a_dead_letter(
    browser: webdriver.Chrome,
    live_console: tuple[str, Component],
    pipeline_settings: Settings,
) -> None:
    url, worker = live_console
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _log_in(browser, url, "dev-operator-key")
    browser.get(f"{url}/live")
    status = browser.find_element(By.ID, "live-status")
    _until(
        browser, "the live view connected", lambda: status.get_attribute("data-state") == "live", 30
    )

    _post(pipeline_settings, _hold_placed("LIVE-B1", "H-LIVE"), "GARBAGE-1")

    held = 'tr[data-hold="LIVE-B1|LIVE-B1/H-LIVE"]'
    _until(
        browser,
        f"the hold on the page\n{worker.log_tail()}",
        lambda: bool(browser.find_elements(By.CSS_SELECTOR, held)) or not worker.alive(),
        120,
    )
    assert worker.alive(), worker.log_tail()
    assert "H-LIVE" in browser.find_element(By.CSS_SELECTOR, held).text
    alerts = browser.find_element(By.ID, "alerts-body").text
    assert "HOLD_PLACED" in alerts and "LIVE-B1" in alerts
    browser.save_screenshot(str(ARTIFACTS / "live.png"))

    def dead_lettered() -> bool:
        browser.get(f"{url}/dead-letters?stage=streams")
        return "GARBAGE-1" in browser.find_element(By.ID, "dead-letters").text

    _until(browser, "the worker's dead letter on the page", dead_lettered, 60)
    listed = browser.find_element(By.ID, "dead-letters").text
    assert "wire format" in listed and "mes.events" in listed
    browser.save_screenshot(str(ARTIFACTS / "dead-letters.png"))
    browser.find_element(By.ID, "redrive-streams").click()
    assert browser.find_element(By.ID, "redriven").text.startswith("redriven 1 record(s)")

    browser.get(f"{url}/reconciliation")
    assert browser.find_element(By.ID, "count-MISMATCH").text == "1"
    assert "-10.000" in browser.find_element(By.ID, "reconciliation").text
    _full_page_screenshot(browser, "reconciliation.png")
    browser.find_element(By.LINK_TEXT, "PENDING").click()
    assert browser.find_element(By.ID, "listing-title").text == "PENDING: 5"


def test_a_viewer_sees_no_redrive_button_and_cannot_post_one(
    browser: webdriver.Chrome, live_console: tuple[str, Component]
) -> None:
    url, _ = live_console
    _log_in(browser, url, "dev-viewer-key")
    browser.get(f"{url}/dead-letters")

    assert browser.find_element(By.ID, "dlq-topics").text.count("dlq.") == 3
    assert not browser.find_elements(By.ID, "redrive-streams")
    browser.execute_script(
        "const f = document.createElement('form'); f.method = 'post';"
        "f.action = '/dead-letters/streams/redrive'; document.body.append(f); f.submit();"
    )
    assert "may not redrive" in browser.find_element(By.ID, "problem").text
