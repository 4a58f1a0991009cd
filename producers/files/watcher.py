"""The watch loop: list the folder, hand each complete file to the ingest, retry what failed."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from producers.files.completion import CompletenessTracker, Completion, FileChangedError
from producers.files.ingest import FileDropIngest
from producers.files.reports import FileOutcome
from tracesync.errors import TracesyncError

log = logging.getLogger(__name__)


def watch(
    ingest: FileDropIngest,
    stop: threading.Event,
    interval_s: float,
    tracker: CompletenessTracker,
    once: bool = False,
) -> list[FileOutcome]:
    """Watch the folder until ``stop``; with ``once``, handle what is complete now and return
    (with ``settled`` completion, what stays unchanged for the settle time from now)."""
    outcomes: list[FileOutcome] = []
    passes = 2 if once and tracker.completion is Completion.SETTLED else 1
    while not stop.is_set():
        for path in tracker.ready(ingest.folder):
            if stop.is_set():
                break
            outcome = attempt(ingest, path, tracker)
            if outcome is not None:
                outcomes.append(outcome)
        passes -= 1
        if once and passes <= 0:
            break
        stop.wait(tracker.settle_s if once else interval_s)
    return outcomes


def attempt(ingest: FileDropIngest, path: Path, tracker: CompletenessTracker) -> FileOutcome | None:
    """Handle one file; a failure is logged and the file stays for the next pass."""
    started = time.monotonic()
    try:
        outcome = ingest.process(path)
    except FileChangedError as exc:
        log.warning("%s", exc)
        tracker.forget(path)  # settled completion: the quiet time starts again
        return None
    except (TracesyncError, OSError) as exc:
        log.error("%r: not handled, will retry: %s", path.name, exc)
        return None
    if outcome is not None:
        tracker.forget(path)
        elapsed = time.monotonic() - started
        rate = outcome.accepted / elapsed if elapsed > 0 else 0.0
        log.info("%r: %s in %.2fs (%.0f rows/s)", path.name, outcome.status, elapsed, rate)
    return outcome
