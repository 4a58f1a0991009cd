"""Verify the trace store against the chain topic, batch by batch, and repair what differs.

For every batch the newest chain on the topic is compared with the store's row: its version and a
hash of its content. The verdict is ``ok`` only when every batch is in both with the same version
and content. ``repair`` writes the topic's chain for every batch that is missing, stale or
different in the store (a different content at the same version is first deleted, since the
version guard would keep it); batches only the store has are reported and left alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, select

from ops.chain_topic import Record, TopicSnapshot, content_hash
from sinks.store import schema
from sinks.store.database import TraceStore
from sinks.store.rows import chain_rows, jsonable

_SHOWN = 20


class Difference(StrEnum):
    MISSING = "missing in store"
    STALE = "older version in store"
    AHEAD = "newer version in store than on the topic"
    CONTENT = "same version, different content"
    EXTRA = "only in store"


@dataclass(frozen=True)
class Finding:
    batch_code: str
    kind: Difference
    topic_version: int | None
    store_version: int | None

    def describe(self) -> str:
        return (
            f"{self.batch_code}: {self.kind} "
            f"(topic v{self.topic_version or '-'}, store v{self.store_version or '-'})"
        )


@dataclass
class VerifyReport:
    """Counts, the differences found, and the verdict."""

    topic_batches: int = 0
    store_batches: int = 0
    equal: int = 0
    findings: list[Finding] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.undecodable

    def counts(self) -> dict[str, int]:
        by_kind = {kind.value: 0 for kind in Difference}
        for finding in self.findings:
            by_kind[finding.kind.value] += 1
        return {
            "topic batches": self.topic_batches,
            "store batches": self.store_batches,
            "equal": self.equal,
            **by_kind,
            "undecodable records": len(self.undecodable),
        }

    def lines(self) -> list[str]:
        out = [f"{name:<45} {count:>10}" for name, count in self.counts().items()]
        shown = self.findings[:_SHOWN]
        if shown:
            out.append(f"first {len(shown)} of {len(self.findings)} differences:")
            out.extend(f"  {f.describe()}" for f in shown)
        out.extend(f"  undecodable: {u}" for u in self.undecodable[:_SHOWN])
        out.append(f"verdict: {'OK' if self.ok else 'DIFFERENT'}")
        return out


StoreRow = tuple[int, str]
"""A stored batch's version and content hash."""


def store_rows(engine: Engine) -> dict[str, StoreRow]:
    """Every stored batch's version and content hash."""
    query = select(schema.batches.c.batch_code, schema.batches.c.version, schema.batches.c.chain)
    with engine.connect() as conn:
        return {
            str(code): (int(version), content_hash(chain))
            for code, version, chain in conn.execute(query)
        }


def _compare_one(code: str, record: Record, stored: StoreRow | None) -> Finding | None:
    version = int(record["version"])
    if stored is None:
        return Finding(code, Difference.MISSING, version, None)
    store_version, store_hash = stored
    if store_version < version:
        return Finding(code, Difference.STALE, version, store_version)
    if store_version > version:
        return Finding(code, Difference.AHEAD, version, store_version)
    if store_hash != content_hash(jsonable(record)):
        return Finding(code, Difference.CONTENT, version, store_version)
    return None


def compare(snapshot: TopicSnapshot, stored: Mapping[str, StoreRow]) -> VerifyReport:
    """Pure: the report of the topic's newest chains against the store's rows."""
    report = VerifyReport(len(snapshot.latest), len(stored), undecodable=snapshot.undecodable)
    for code in sorted(snapshot.latest):
        finding = _compare_one(code, snapshot.latest[code], stored.get(code))
        if finding is None:
            report.equal += 1
        else:
            report.findings.append(finding)
    for code in sorted(set(stored) - set(snapshot.latest)):
        report.findings.append(Finding(code, Difference.EXTRA, None, stored[code][0]))
    return report


REPAIRABLE = (Difference.MISSING, Difference.STALE, Difference.CONTENT)


def repair(engine: Engine, snapshot: TopicSnapshot, findings: Iterable[Finding]) -> int:
    """Write the topic's chain for every repairable finding; returns how many were written."""
    chosen = [f for f in findings if f.kind in REPAIRABLE]
    differing = [f.batch_code for f in chosen if f.kind is Difference.CONTENT]
    if differing:
        with engine.begin() as conn:
            conn.execute(delete(schema.batches).where(schema.batches.c.batch_code.in_(differing)))
    records: list[Any] = [chain_rows(snapshot.latest[f.batch_code]) for f in chosen]
    written = 0
    store = TraceStore(engine)
    for start in range(0, len(records), 500):
        written += store.write(records[start : start + 500]).written
    return written
