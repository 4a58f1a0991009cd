"""A small HTTP server for ``/metrics``, ``/healthz`` and ``/readyz`` (standard library only).

The components without an HTTP server of their own (``ingest db``, ``ingest files``, the worker,
the sinks) start one on a daemon thread, bound to the configured address (127.0.0.1 by default).
Requests are answered from the registry and the readiness checks; nothing here touches the
component's own threads.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tracesync.errors import ConfigurationError
from tracesync.observability.health import Health
from tracesync.observability.metrics import Metrics

log = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            body = generate_latest(self.server.metrics.registry)
            self._answer(200, body, CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._json(200, {"status": "ok"})
        elif path == "/readyz":
            readiness = self.server.health.readiness()
            self._json(200 if readiness.ready else 503, readiness.as_json())
        else:
            self._json(404, {"detail": f"no such path: {path}"})

    def _json(self, status: int, document: object) -> None:
        self._answer(status, json.dumps(document).encode(), "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("metrics server: " + format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], metrics: Metrics, health: Health) -> None:
        self.metrics = metrics
        self.health = health
        super().__init__(address, _Handler)


class MetricsServer:
    """``/metrics``, ``/healthz`` and ``/readyz`` on a background thread until :meth:`close`."""

    def __init__(self, host: str, port: int, metrics: Metrics, health: Health) -> None:
        try:
            self._server = _Server((host, port), metrics, health)
        except OSError as exc:
            raise ConfigurationError(f"cannot serve metrics on {host}:{port}: {exc}") from exc
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="metrics-http", daemon=True
        )
        self._thread.start()
        log.info("metrics, health and readiness on http://%s:%d/metrics", host, self.port)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
