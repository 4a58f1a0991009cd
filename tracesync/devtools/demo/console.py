"""``tracesync demo --keep-running``: the web console (``tracesync serve``) on the demo's store.

The console is started as a component beside the others and left running with them; what is
printed says where it is and which key opens it (the demo's settings hold dev keys per role;
outside the demo keys are configured, never defaulted).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from tracesync.apikeys import is_hash
from tracesync.devtools.pipeline import LocalPipeline
from tracesync.settings import DEV_SERVE_KEYS, Settings

Echo = Callable[[str], None]
CONSOLE = "serve"


def console_url(settings: Settings) -> str:
    return f"http://{settings.serve.host}:{settings.serve.port}/"


def viewer_key(settings: Settings) -> str | None:
    """A viewer key to print: the demo's well-known one, or a configured plain (unhashed) key;
    ``None`` when only hashes are configured (the key itself is not known here)."""
    if settings.demo_keys:
        return DEV_SERVE_KEYS["viewer"]
    for key in settings.serve.api_keys.values():
        if key.role == "viewer" and not is_hash(key.key.get_secret_value()):
            return key.key.get_secret_value()
    return None


def console_lines(settings: Settings) -> list[str]:
    """How to open the console: its URL and a viewer key (or why there is none)."""
    url = console_url(settings)
    key = viewer_key(settings)
    if key is None:
        return [
            f"  console: {url} (log in with a viewer key: TRACESYNC_SERVE__API_KEYS holds hashes)"
        ]
    return [
        f"  console: {url}  (viewer API key: {key})",
        f"  open it and log in with the key; the API takes it as the header X-API-Key: "
        f"{url}v1/batches/<code>",
    ]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


def start_console(pipeline: LocalPipeline, settings: Settings, timeout_s: float = 60.0) -> bool:
    """Start ``tracesync serve`` on the store; True once its console answers."""
    console = pipeline.start(CONSOLE, ["serve"])
    url = console_url(settings)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and console.alive():
        if _answers(url):
            return True
        time.sleep(0.3)
    return False
