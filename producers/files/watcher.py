"""The watch loop: list the folder, hand each complete file to the ingest, retry what failed."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from producers.files.completion import CompletenessTracker
from producers.files.ingest import FileDropIngest
from producers.files.reports import FileOutcome
from tracesync.errors import TracesyncError

log = logging.getLogger(__name__)


def watch(
    ingest: FileDropIngest,
    stop: threading.Event,
    interval_s: float,
    settle_s: float,
    once: bool = False,
) -> list[FileOutcome]:
    """Watch the folder until ``stop``; with ``once``, handle what is there now and return."""
    tracker = CompletenessTracker(0.0 if once else settle_s)
    outcomes: list[FileOutcome] = []
    while not stop.is_set():
        for path in tracker.ready(ingest.folder):
            if stop.is_set():
                break
            outcome = attempt(ingest, path)
            if outcome is not None:
                outcomes.append(outcome)
                tracker.forget(path)
        if once:
            break
        stop.wait(interval_s)
    return outcomes


def attempt(ingest: FileDropIngest, path: Path) -> FileOutcome | None:
    """Handle one file; a failure is logged and the file stays for the next pass."""
    started = time.monotonic()
    try:
        outcome = ingest.process(path)
    except (TracesyncError, OSError) as exc:
        log.error("%s: not handled, will retry: %s", path.name, exc)
        return None
    if outcome is not None:
        elapsed = time.monotonic() - started
        rate = outcome.accepted / elapsed if elapsed > 0 else 0.0
        log.info("%s: %s in %.2fs (%.0f rows/s)", path.name, outcome.status, elapsed, rate)
    return outcome
