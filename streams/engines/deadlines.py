"""Batches awaiting reconciliation, and when each falls due, in one partition's key-value state.

The quix engine keeps these next to the chains of the same partition. A batch that starts waiting
for a missing side gets a due time (now + settle time) and is filed in the bucket of the second it
falls due in; the timer takes the buckets whose second has passed and sends ``RECONCILIATION_DUE``
to the batches in them that are still waiting. Keys:

- ``p<batch code>``: the due time (epoch ms) of a waiting batch; deleted once it stops waiting;
- ``b<bucket>``: the batch codes filed in a bucket (a JSON list);
- ``i``: the buckets in use, in order (a JSON list), so the timer reads one key when none is due.

A batch taken as due is filed again ``resend_after_ms`` later: if the event it was sent was lost
(a crash after the emptied bucket reached the changelog but before the event reached its topic),
it is sent again; once merged, the batch stops waiting and the second filing finds nothing. A
repeat is harmless (``RECONCILIATION_DUE`` has a deterministic event id).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Protocol

import orjson

_WAITING = b"p"
_BUCKET = b"b"
_INDEX = b"i"

RESEND_AFTER_MS = 30_000


class KeyValue(Protocol):
    """Bytes in, bytes out: a partition's state under one prefix."""

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...


class Deadlines:
    """The waiting batches of one partition."""

    def __init__(
        self, kv: KeyValue, bucket_ms: int = 1000, resend_after_ms: int = RESEND_AFTER_MS
    ) -> None:
        self._kv = kv
        self._bucket_ms = bucket_ms
        self._resend_after_ms = resend_after_ms

    def track(self, changes: Mapping[str, bool], due_ms: int) -> None:
        """Apply ``batch code -> waiting?``; a batch that starts waiting falls due at ``due_ms``."""
        filed: list[str] = []
        for code, waiting in changes.items():
            key = _WAITING + code.encode()
            known = self._kv.get(key) is not None
            if waiting and not known:
                self._kv.set(key, str(due_ms).encode())
                filed.append(code)
            elif not waiting and known:
                self._kv.delete(key)
        if filed:
            self._file(filed, self._bucket_of(due_ms))

    def waiting(self, code: str) -> int | None:
        """When a waiting batch falls due (epoch ms), or None when it is not waiting."""
        value = self._kv.get(_WAITING + code.encode())
        return int(value) if value is not None else None

    def take_due(self, now_ms: int) -> list[str]:
        """The batches due by ``now_ms`` that still wait; filed again for a resend."""
        index = self._index()
        ripe = bisect.bisect_right(index, now_ms // self._bucket_ms)
        if ripe == 0:
            return []
        due: dict[str, None] = {}
        for bucket in index[:ripe]:
            key = _bucket_key(bucket)
            for code in orjson.loads(self._kv.get(key) or b"[]"):
                at = self.waiting(code)
                if at is not None and at <= now_ms:
                    due[code] = None
            self._kv.delete(key)
        self._kv.set(_INDEX, orjson.dumps(index[ripe:]))
        if due:
            self._file(list(due), self._bucket_of(now_ms + self._resend_after_ms))
        return list(due)

    def _bucket_of(self, at_ms: int) -> int:
        """The bucket of a due time: the first whole bucket at or after it."""
        return -(-at_ms // self._bucket_ms)

    def _file(self, codes: list[str], bucket: int) -> None:
        key = _bucket_key(bucket)
        filed = orjson.loads(self._kv.get(key) or b"[]")
        self._kv.set(key, orjson.dumps(filed + codes))
        index = self._index()
        at = bisect.bisect_left(index, bucket)
        if at == len(index) or index[at] != bucket:
            index.insert(at, bucket)
            self._kv.set(_INDEX, orjson.dumps(index))

    def _index(self) -> list[int]:
        data = self._kv.get(_INDEX)
        return list(orjson.loads(data)) if data is not None else []


def _bucket_key(bucket: int) -> bytes:
    return _BUCKET + str(bucket).encode()
