"""A stand-in for the plant's WMS inbound/hold API: the demo's targets sink notifies it.

It accepts ``POST /wms/notices`` (JSON, ``Idempotency-Key`` header), keeps every notice by key
(a notice sent again with the same key is answered 200 and not counted twice, as the real WMS
promises) and counts them by ``type``. It listens on 127.0.0.1, on a port the OS picks, in a
daemon thread.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOTICES_PATH = "/wms/notices"


class WmsStandIn:
    """The recorded notices and the server that records them."""

    def __init__(self) -> None:
        self.notices: dict[str, dict[str, Any]] = {}
        self.repeats = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{NOTICES_PATH}"

    def start(self) -> WmsStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, key: str, notice: dict[str, Any]) -> bool:
        """Keep a notice; False when its key was seen already."""
        with self._lock:
            if key in self.notices:
                self.repeats += 1
                return False
            self.notices[key] = notice
            return True

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(str(n.get("type")) for n in self.notices.values())

    def blocked_batches(self) -> set[str]:
        """Batches the WMS was told to block and not told to unblock (per hold)."""
        with self._lock:
            notices = list(self.notices.values())
        blocked = {(n["batch_code"], n["hold_id"]) for n in notices if n.get("type") == "BLOCK"}
        freed = {(n["batch_code"], n["hold_id"]) for n in notices if n.get("type") == "UNBLOCK"}
        return {batch for batch, _ in blocked - freed}


def _handler_for(stand_in: WmsStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != NOTICES_PATH:
                self._answer(404, {"detail": "no such endpoint"})
                return
            key = self.headers.get("Idempotency-Key")
            length = int(self.headers.get("Content-Length") or 0)
            try:
                notice = json.loads(self.rfile.read(length))
            except ValueError:
                self._answer(400, {"detail": "body is not JSON"})
                return
            if not key or not isinstance(notice, dict):
                self._answer(422, {"detail": "Idempotency-Key header and a JSON object needed"})
                return
            new = stand_in.record(key, notice)
            self._answer(201 if new else 200, {"key": key})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the demo prints its own progress."""

    return Handler
