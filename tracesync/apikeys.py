"""API keys of the REST ingest and of ``tracesync serve``: made, hashed, matched, rotated.

A key is a random token shown once (``tracesync keys new``); what the settings and the keys file
hold is its hash, ``sha256:<hex>`` (the keys are 256-bit random tokens, so a fast hash is as safe
as a slow one and costs nothing per request). A presented key is hashed and compared with every
configured hash in constant time, with no early exit.

Keys come from the settings (``api_keys``) and from a keys file (``api_keys_file``), TOML with
one ``[[key]]`` table per key::

    [[key]]
    name = "MES"            # ingest: the source system; serve: the key's name
    hash = "sha256:9f86d0…"
    role = "viewer"         # serve only

The file is read again when it changes (checked at most once a second), so keys are added,
rotated (old and new side by side, then the old removed) or revoked without a restart. A file
that cannot be read keeps the keys in effect and logs why, never its content.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tracesync.errors import ConfigurationError

HASH_PREFIX = "sha256:"
KEY_PREFIX = "tsk_"

log = logging.getLogger(__name__)


def new_key() -> str:
    """A new random API key (256 bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """What to store for ``key``: ``sha256:<hex>``."""
    return HASH_PREFIX + hashlib.sha256(key.encode()).hexdigest()


def is_hash(value: str) -> bool:
    digest = value.removeprefix(HASH_PREFIX)
    return value.startswith(HASH_PREFIX) and len(digest) == 64 and _is_hex(digest)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True)
class KeyEntry:
    """One accepted key: whose it is, the SHA-256 of the key, and (serve) its role."""

    name: str
    digest: bytes
    role: str | None = None
    stored_plain: bool = False

    def __repr__(self) -> str:
        return f"KeyEntry(name={self.name!r}, role={self.role!r})"


def entry(name: str, value: str, role: str | None = None) -> KeyEntry:
    """An entry from a configured value: a ``sha256:`` hash, or (demo, legacy) the key itself."""
    if is_hash(value):
        return KeyEntry(name, bytes.fromhex(value.removeprefix(HASH_PREFIX)), role)
    if value.startswith(HASH_PREFIX):
        raise ConfigurationError(f"API key {name!r}: a sha256: hash needs 64 lower-case hex digits")
    return KeyEntry(name, hashlib.sha256(value.encode()).digest(), role, stored_plain=True)


def read_keys_file(path: Path) -> list[KeyEntry]:
    """The ``[[key]]`` entries of a keys file; ConfigurationError naming the bad entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"keys file {path}: {exc}") from exc
    entries = []
    for index, item in enumerate(data.get("key", []), start=1):
        name, value, role = item.get("name"), item.get("hash"), item.get("role")
        if not isinstance(name, str) or not isinstance(value, str) or not is_hash(value):
            raise ConfigurationError(
                f'keys file {path}: key #{index} needs a name and a hash = "sha256:<64 hex>"'
            )
        entries.append(KeyEntry(name, bytes.fromhex(value.removeprefix(HASH_PREFIX)), role))
    return entries


class KeyRing:
    """The accepted keys: fixed ones from the settings plus a keys file re-read on change."""

    def __init__(
        self,
        fixed: Sequence[KeyEntry],
        keys_file: Path | None = None,
        *,
        check_every_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fixed = list(fixed)
        self._file = keys_file
        self._check_every_s = check_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._from_file: list[KeyEntry] = read_keys_file(keys_file) if keys_file else []
        if keys_file is not None:
            self._stamp = _stamp(keys_file)
            self._checked_at = clock()

    def entries(self) -> list[KeyEntry]:
        self._reload_if_changed()
        return self._fixed + self._from_file

    def match(self, presented: str | None) -> KeyEntry | None:
        """The entry of ``presented``, or None; the time taken does not tell which one matched."""
        if not presented:
            return None
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for candidate in self.entries():
            if hmac.compare_digest(digest, candidate.digest):
                found = candidate
        return found

    def _reload_if_changed(self) -> None:
        if self._file is None or self._clock() - self._checked_at < self._check_every_s:
            return
        with self._lock:
            self._checked_at = self._clock()
            stamp = _stamp(self._file)
            if stamp == self._stamp:
                return
            try:
                self._from_file = read_keys_file(self._file)
            except ConfigurationError as exc:
                log.warning("keys file not reloaded, the previous keys stay in effect: %s", exc)
                return
            self._stamp = stamp
            log.info("keys file %s reloaded: %d keys", self._file, len(self._from_file))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def key_ring(what: str, fixed: Sequence[KeyEntry], keys_file: Path | None) -> KeyRing:
    """The ring of one service; ConfigurationError when it has no key at all.

    There are no default keys: outside the demo (``demo_keys``) every key is configured by the
    operator. A key stored as itself rather than as its hash still works but is logged (by name)
    as one to replace.
    """
    ring = KeyRing(fixed, keys_file)
    if not ring.entries():
        raise ConfigurationError(
            f"no API keys configured for {what}: make one with `tracesync keys new NAME`, set its "
            "hash in the settings or in the keys file (README: API keys)"
        )
    plain = sorted(e.name for e in fixed if e.stored_plain)
    if plain:
        log.warning(
            "%s: API keys of %s are stored as plain text; store their hashes instead "
            "(`tracesync keys hash`)",
            what,
            ", ".join(plain),
        )
    return ring
