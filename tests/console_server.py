"""Run the console's FastAPI app on a real uvicorn server in a thread, for HTTP and browser tests
(Starlette's TestClient cannot follow an endless server-sent event stream)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import uvicorn
from fastapi import FastAPI

from serve.live import end_streams
from tests.slot import TEST_HOME
from tests.unit.store_plant import plant
from tracesync.settings import ServeSettings, Settings

ARTIFACTS = TEST_HOME / "artifacts"
"""Screenshots and other files a test run leaves for people to look at."""


def demo_serve(**fields: Any) -> ServeSettings:
    """Serve settings with ``fields`` and the demo's well-known keys (there are no defaults)."""
    return Settings(demo_keys=True, serve=ServeSettings(**fields)).serve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app's base URL while a uvicorn server runs it (lifespan included)."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.05)
    if not server.started:
        raise RuntimeError("the console's server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        end_streams(app)
        server.should_exit = True
        thread.join(15)


def plant_with_a_mismatch() -> list[dict[str, Any]]:
    """The store plant, FG-B3 reported 90 by the WMS against 100 made (MES) and 100 posted (ERP)."""
    records = plant()
    fg_b3 = next(r for r in records if r["batch_code"] == "FG-B3")
    fg_b3["reconciliation"] = {
        "status": "MISMATCH",
        "mes_quantity": Decimal("100.000"),
        "wms_quantity": Decimal("90.000"),
        "erp_quantity": Decimal("100.000"),
        "wms_delta": Decimal("-10.000"),
        "erp_delta": Decimal("0.000"),
        "missing": [],
    }
    return records
