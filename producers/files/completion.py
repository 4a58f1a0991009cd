"""When a dropped file is complete, and proof that the file read is the file at the end.

Three protocols (``settings.ingest_files.completion``):

* ``marker`` (the default): the file is complete once ``<name>.done`` exists; the exporter
  writes the marker after it closed the file.
* ``rename``: every visible file is complete; the exporter writes under a name the watcher
  skips (a leading dot, or ``.tmp``/``.part``/``.partial``) and renames it into place, which is
  atomic within one file system.
* ``settled`` (opt-in, for exporters that can do neither): size and modification time unchanged
  for ``settle_s``. A writer that pauses longer than that cannot be told from one that finished.

Whatever the protocol, a ``.done`` marker makes a file complete at once, and the ingest checks
the file against what it read (:class:`FileSnapshot`: size and SHA-256) before publishing and
again before it records and moves the file; a file that changed in between is left where it is
and read again once complete (:class:`FileChangedError`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from producers.files.reports import DONE_SUFFIX
from tracesync.errors import TracesyncError

log = logging.getLogger(__name__)

SKIPPED_SUFFIXES = (DONE_SUFFIX, ".tmp", ".part", ".partial")
_HASH_CHUNK = 1024 * 1024

Clock = Callable[[], float]


class Completion(StrEnum):
    """How the watcher knows a dropped file is complete."""

    MARKER = "marker"
    RENAME = "rename"
    SETTLED = "settled"


class FileChangedError(TracesyncError):
    """The file on disk is no longer the file that was read (it was still being written)."""


@dataclass(frozen=True)
class FileSnapshot:
    """Size and SHA-256 of a file's content."""

    size: int
    checksum: str

    @classmethod
    def of_bytes(cls, data: bytes) -> FileSnapshot:
        return cls(len(data), hashlib.sha256(data).hexdigest())

    @classmethod
    def of_file(cls, path: Path) -> FileSnapshot:
        """The snapshot of the file as it is now on disk (read in chunks)."""
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as f:
            while chunk := f.read(_HASH_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return cls(size, digest.hexdigest())


def verify_unchanged(path: Path, read: FileSnapshot, moment: str) -> None:
    """Raise :class:`FileChangedError` unless ``path`` still holds exactly what was read."""
    now = FileSnapshot.of_file(path)
    if now != read:
        raise FileChangedError(
            f"{path.name!r} changed {moment}: {read.size} bytes were read, the file now has "
            f"{now.size} (sha256 {now.checksum[:12]}, read {read.checksum[:12]}); it is still "
            "being written and will be read again once complete"
        )


def is_candidate(path: Path) -> bool:
    """A file the watcher considers at all (not hidden, not a marker or a partial file)."""
    name = path.name
    return path.is_file() and not name.startswith(".") and not name.endswith(SKIPPED_SUFFIXES)


@dataclass
class CompletenessTracker:
    """Decides, pass after pass, which files of a folder are complete under one protocol."""

    completion: Completion = Completion.MARKER
    settle_s: float = 0.0
    clock: Clock = time.monotonic
    accepts: Callable[[str], bool] = lambda name: True
    """Which file names to consider (those a mapping matches); others are left alone."""
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)
    _waiting: set[Path] = field(default_factory=set)

    def ready(self, folder: Path) -> list[Path]:
        """Complete candidate files in ``folder``, oldest first."""
        now = self.clock()
        found: list[tuple[int, Path]] = []
        present: set[Path] = set()
        for path in folder.iterdir():
            if not is_candidate(path) or not self.accepts(path.name):
                continue
            stat = path.stat()
            present.add(path)
            if self._complete(path, (stat.st_size, stat.st_mtime_ns), now):
                found.append((stat.st_mtime_ns, path))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        self._waiting &= present
        return [p for _, p in sorted(found)]

    def _complete(self, path: Path, signature: tuple[int, int], now: float) -> bool:
        if path.with_name(path.name + DONE_SUFFIX).exists():
            return True
        if self.completion is Completion.RENAME:
            return True
        if self.completion is Completion.MARKER:
            if path not in self._waiting:
                self._waiting.add(path)
                log.info("%r: waiting for its %s marker", path.name, DONE_SUFFIX)
            return False
        previous = self._seen.get(path)
        if previous is None or previous[0] != signature:
            self._seen[path] = (signature, now)
            return self.settle_s <= 0
        return now - previous[1] >= self.settle_s

    def forget(self, path: Path) -> None:
        """Start over with ``path`` (handled, or found still changing)."""
        self._seen.pop(path, None)
        self._waiting.discard(path)
