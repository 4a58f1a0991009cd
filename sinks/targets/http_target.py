"""HTTP transport: POST the notice's payload as JSON with an ``Idempotency-Key`` header.

2xx is an acknowledgement, and so is 409 (the target says it already has this key). 408, 425,
429, 5xx and connection errors are worth another try; any other status is final (the target
refuses this notice; sending it again unchanged will not help).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson

from sinks.targets.base import Target
from sinks.targets.routing import Notice

_RETRIABLE_STATUSES = frozenset({408, 425, 429})
_ALREADY_HAVE_IT = 409


class HttpTarget(Target):
    """A target system with a JSON endpoint (WMS inbound notices and holds, ...)."""

    transport: ClassVar[str] = "http"
    options: ClassVar[frozenset[str]] = frozenset({"url", "timeout_s", "headers"})

    def __init__(self, name: str, config: Mapping[str, Any], home: Path) -> None:
        super().__init__(name, config, home)
        self.url = self.option("url", str)
        headers = {str(k): str(v) for k, v in self.option("headers", dict, {}).items()}
        timeout = httpx.Timeout(self.option("timeout_s", float, 10.0))
        self._client = httpx.Client(headers=headers, timeout=timeout)

    def send(self, notice: Notice) -> None:
        body = orjson.dumps(notice.payload)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": notice.key,
            "X-Tracesync-Route": notice.route,
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise self.error(f"POST {self.url} failed: {exc!r}", retriable=True) from exc
        status = response.status_code
        if 200 <= status < 300 or status == _ALREADY_HAVE_IT:
            return
        retriable = status >= 500 or status in _RETRIABLE_STATUSES
        detail = response.text[:200].replace("\n", " ")
        raise self.error(f"POST {self.url} answered {status}: {detail}", retriable=retriable)

    def close(self) -> None:
        self._client.close()
