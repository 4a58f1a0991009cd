"""Test slots: several test sessions on one machine, each with its own ports and folders.

``TRACESYNC_TEST_SLOT=N`` (default 0) shifts every port the infrastructure fixtures use by
``10 * N`` and puts their state under ``var/test/slot-N``, so that parallel sessions (developers,
helpers, CI) never share a broker or a registry.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SLOT = int(os.environ.get("TRACESYNC_TEST_SLOT", "0"))
TEST_HOME = REPO_ROOT / "var" / "test" / (f"slot-{SLOT}" if SLOT else "")


def port(base: int) -> int:
    """``base`` shifted for this session's slot."""
    return base + 10 * SLOT


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now, for a server a test starts in a subprocess.

    The kernel picks it, so parallel sessions never ask for the same one; the small window
    before the subprocess binds it is the price of a port that must be known in advance.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
