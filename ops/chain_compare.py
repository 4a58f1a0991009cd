"""Compare a rebuilt worker's shadow chain topic with the live chain topic, batch by batch.

Both topics are read to their end (:mod:`ops.chain_topic`); for every batch the newest chain of
each is compared by version and content hash (the hash of :mod:`ops.verify`). The verdict is
``OK`` only when every batch is on both with the same version and content. Batches the rebuild
has newer or alone (events that reached the sources after the live worker stopped) are *ahead*:
a cutover may publish them; every other difference makes a cutover unsafe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ops.chain_topic import Record, TopicSnapshot, content_hash
from sinks.store.rows import jsonable

_SHOWN = 20


class ChainDifference(StrEnum):
    MISSING = "missing in rebuild"
    EXTRA = "only in rebuild"
    OLDER = "older version in rebuild"
    NEWER = "newer version in rebuild"
    CONTENT = "same version, different content"


AHEAD = frozenset({ChainDifference.EXTRA, ChainDifference.NEWER})
"""What the rebuild computed beyond the live topic: safe to publish at a cutover."""


@dataclass(frozen=True)
class ChainFinding:
    batch_code: str
    kind: ChainDifference
    live_version: int | None
    rebuilt_version: int | None

    def describe(self) -> str:
        return (
            f"{self.batch_code}: {self.kind} "
            f"(live v{self.live_version or '-'}, rebuilt v{self.rebuilt_version or '-'})"
        )


@dataclass
class ChainComparison:
    """Counts, the differences found, and the verdict."""

    live_topic: str
    rebuilt_topic: str
    live_batches: int = 0
    rebuilt_batches: int = 0
    equal: int = 0
    findings: list[ChainFinding] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings and not self.undecodable

    def ahead(self) -> list[str]:
        """Batch codes the rebuild has newer than the live topic, or alone."""
        return [f.batch_code for f in self.findings if f.kind in AHEAD]

    def unsafe(self) -> list[ChainFinding]:
        """Differences a cutover must not paper over."""
        return [f for f in self.findings if f.kind not in AHEAD]

    def counts(self) -> dict[str, int]:
        by_kind = {kind.value: 0 for kind in ChainDifference}
        for finding in self.findings:
            by_kind[finding.kind.value] += 1
        return {
            "live batches": self.live_batches,
            "rebuilt batches": self.rebuilt_batches,
            "equal": self.equal,
            **by_kind,
            "undecodable records": len(self.undecodable),
        }

    def lines(self) -> list[str]:
        out = [f"rebuilt {self.rebuilt_topic} against live {self.live_topic}:"]
        out += [f"{name:<45} {count:>10}" for name, count in self.counts().items()]
        shown = self.findings[:_SHOWN]
        if shown:
            out.append(f"first {len(shown)} of {len(self.findings)} differences:")
            out.extend(f"  {f.describe()}" for f in shown)
        out.extend(f"  undecodable: {u}" for u in self.undecodable[:_SHOWN])
        out.append(f"verdict: {'OK' if self.ok else 'DIFFERENT'}")
        return out


def _compare_one(code: str, live: Record | None, rebuilt: Record | None) -> ChainFinding | None:
    """The difference of one batch present on at least one side (None: equal)."""
    live_version = None if live is None else int(live["version"])
    if rebuilt is None:
        return ChainFinding(code, ChainDifference.MISSING, live_version, None)
    rebuilt_version = int(rebuilt["version"])
    if live is None or live_version is None:
        return ChainFinding(code, ChainDifference.EXTRA, None, rebuilt_version)
    if rebuilt_version < live_version:
        return ChainFinding(code, ChainDifference.OLDER, live_version, rebuilt_version)
    if rebuilt_version > live_version:
        return ChainFinding(code, ChainDifference.NEWER, live_version, rebuilt_version)
    if content_hash(jsonable(rebuilt)) != content_hash(jsonable(live)):
        return ChainFinding(code, ChainDifference.CONTENT, live_version, rebuilt_version)
    return None


def compare_chains(
    live: TopicSnapshot, rebuilt: TopicSnapshot, live_topic: str, rebuilt_topic: str
) -> ChainComparison:
    """Pure: the report of the rebuilt topic's newest chains against the live topic's."""
    report = ChainComparison(
        live_topic,
        rebuilt_topic,
        len(live.latest),
        len(rebuilt.latest),
        undecodable=[*live.undecodable, *rebuilt.undecodable],
    )
    for code in sorted(set(live.latest) | set(rebuilt.latest)):
        finding = _compare_one(code, live.latest.get(code), rebuilt.latest.get(code))
        if finding is None:
            report.equal += 1
        else:
            report.findings.append(finding)
    return report
