"""Speed of the query API and the console on a store filled by ``tracesync store fill-synthetic``.

Starts ``tracesync serve`` on the store as a child process (as an operator runs it), then, over
loopback, one request at a time after a warm-up: ``GET /v1/batches/{batch}``,
``/v1/trace/{trace code}`` and ``/v1/recall/{raw lot}`` (``samples`` codes of each, a seeded
choice among the synthetic plant's), and the server's HTML of ``/batch/{batch}``; percentiles in
milliseconds as the client sees them. Then it opens ``pages`` batch pages in headless chromium
(Selenium, the ``dev`` extra, Debian's ``chromium`` and ``chromium-driver``) and reports the
Navigation Timing ``loadEventEnd``: from navigation start until the page, its inline SVG
genealogy and styles are loaded. Speed is measured and reported, never asserted.

    python -m tracesync.devtools.bench.console --store-url URL [--samples 300] [--pages 30]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from sinks.store.database import create_store_engine
from tracesync.devtools.bench.measure import percentile
from tracesync.devtools.bench.trace_latency import sample_codes
from tracesync.devtools.supervise import Component
from tracesync.settings import Settings

WARM_UP = 20
KEY = "bench-viewer-key"


def _stats(times: list[float]) -> dict[str, Any]:
    times = sorted(times)

    def at(q: float) -> float | None:
        value = percentile(times, q)
        return None if value is None else round(value, 2)

    return {
        "samples": len(times),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(times[-1], 2) if times else None,
    }


@contextmanager
def _served(store_url: str, port: int, log: Path) -> Iterator[str]:
    """``tracesync serve`` on the store, until the block ends."""
    settings = Settings(
        serve={"port": port, "api_keys": {"bench": {"key": KEY, "role": "viewer"}}},
        registry={"enabled": False},
    )
    server = Component(["serve", "--store-url", store_url], settings, log).start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or not server.alive():
                raise SystemExit(f"tracesync serve did not start:\n{server.log_tail()}")
            time.sleep(0.2)
        yield url
    finally:
        server.stop()


def _timed(client: httpx.Client, paths: Sequence[str]) -> dict[str, Any]:
    times, failed = [], 0
    for path in paths:
        started = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        failed += answer.status_code != 200
    return _stats(times) | {"not_200": failed}


def _api(url: str, work: dict[str, list[str]]) -> dict[str, Any]:
    paths: dict[str, list[str]] = {
        "api_batch": [f"/v1/batches/{quote(c)}" for c in work["trace_batch"]],
        "api_trace_code": [f"/v1/trace/{quote(c)}" for c in work["trace_trace_code"]],
        "api_recall_raw_lot": [f"/v1/recall/{quote(c)}" for c in work["recall_raw_lot"]],
        "batch_page_html": [f"/batch/{quote(c)}" for c in work["trace_batch"]],
    }
    with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=30) as client:
        for path in paths["api_batch"][:WARM_UP] + paths["api_trace_code"][:WARM_UP]:
            client.get(path)
        return {kind: _timed(client, chosen) for kind, chosen in paths.items()}


def _browser_loads(url: str, codes: Sequence[str]) -> dict[str, Any]:
    # selenium is in the dev extra: only this half of the measurement needs it
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))

    def load_ms() -> float:
        return float(
            driver.execute_script(
                "return performance.getEntriesByType('navigation')[0].loadEventEnd;"
            )
        )

    try:
        driver.set_window_size(1400, 1000)
        driver.get(f"{url}/login")
        driver.find_element(By.ID, "key").send_keys(KEY)
        driver.find_element(By.ID, "login").click()
        times = []
        for index, code in enumerate(codes):
            driver.get(f"{url}/batch/{quote(code)}")  # returns after the load event
            if index >= 3:  # the first loads warm the browser's cache of fonts and the like
                times.append(load_ms())
        return _stats(times)
    finally:
        driver.quit()


def measure_console(
    store_url: str, samples: int = 300, pages: int = 30, seed: int = 11, port: int = 18190
) -> dict[str, Any]:
    """Latency percentiles of the API and the batch page on the store at ``store_url``."""
    engine = create_store_engine(store_url)
    try:
        work = sample_codes(engine, samples, seed)
        dialect = engine.dialect.name
    finally:
        engine.dispose()
    rng = random.Random(seed)  # noqa: S311 - a seeded sample of codes, no secret
    page_codes = rng.sample(work["trace_batch"], min(pages + 3, len(work["trace_batch"])))
    with (
        tempfile.TemporaryDirectory(prefix="tracesync-bench-console-") as folder,
        _served(store_url, port, Path(folder) / "serve.log") as url,
    ):
        result: dict[str, Any] = {"dialect": dialect, **_api(url, work)}
        result["batch_page_in_browser_load_ms"] = _browser_loads(url, page_codes)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tracesync.devtools.bench.console")
    parser.add_argument("--store-url", required=True)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--port", type=int, default=18190)
    args = parser.parse_args(argv)
    result = measure_console(args.store_url, args.samples, args.pages, args.seed, args.port)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
