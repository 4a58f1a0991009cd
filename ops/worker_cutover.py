"""Make a rebuilt worker the live one, without moving its state.

The rebuilt application keeps everything it built: its consumer group (offsets where the replay
stopped), its state (changelog topics named by its id) and its own repartition topics (Quix
Streams records in each changelog record the input offsets it came from, so a worker must keep
reading the same input topics). The cutover changes only where its outputs go, from the shadow
topics to the live ones, by settings:

1. **Refused** when the comparison found a difference other than *ahead* (the rebuilt chain is
   newer or the live topic lacks it: events that reached the sources after the live worker
   stopped), naming them, and while the live worker's group has active members.
2. **Ahead chains published** to the live chain topic (keyed by batch code: compaction keeps the
   newest, the store's version guard takes them), with their alerts from the shadow alerts topic
   (alert ids are stable: a repeat changes nothing downstream).
3. **Settings written** to ``<home>/worker/<new id>.env`` and returned: the application id and
   the internal prefix of the rebuilt worker, with the live outputs. Every worker is then started
   with them. The old application's group, changelogs and the shadow topics are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.chain_compare import ChainComparison
from ops.chain_topic import ChainTopicReader
from ops.replay import ActiveGroupError, GroupOffsets
from streams.bootstrap import worker_topics
from tracesync.bootstrap import record_serde
from tracesync.errors import TracesyncError
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import Settings

_CHUNK = 1000


class CutoverRefusedError(TracesyncError):
    """The rebuilt chains differ from the live ones in a way a cutover must not hide."""


@dataclass(frozen=True)
class CutoverResult:
    chains_published: int
    alerts_published: int
    env_file: Path
    env: dict[str, str]


def live_worker_env(rebuilt: Settings) -> dict[str, str]:
    """The worker settings that make the rebuilt application the live one."""
    ws = rebuilt.worker
    return {
        "TRACESYNC_WORKER__APP_ID": ws.app_id,
        "TRACESYNC_WORKER__INTERNAL_PREFIX": ws.internal_prefix,
        "TRACESYNC_WORKER__OUTPUT_PREFIX": "",
    }


def check_cutover(live: Settings, comparison: ChainComparison) -> None:
    """Raise when a cutover would be unsafe (differences, or the live worker still running)."""
    unsafe = comparison.unsafe()
    if unsafe or comparison.undecodable:
        shown = "; ".join(f.describe() for f in unsafe[:10])
        raise CutoverRefusedError(
            f"not cutting over: {len(unsafe)} batches differ other than by being ahead "
            f"({shown}), {len(comparison.undecodable)} undecodable records. Find out which "
            "side is right first (docs/runbook.md)."
        )
    group = GroupOffsets(live.kafka, live.worker.app_id)
    try:
        members = group.active_members()
    finally:
        group.close()
    if members:
        raise ActiveGroupError(live.worker.app_id, members)


def _alerts_of(rebuilt: Settings, batches: set[str]) -> list[dict[str, Any]]:
    topic = worker_topics(rebuilt).alerts
    reader = ChainTopicReader(rebuilt.kafka, topic, record_serde(rebuilt, "Alert", topic).decode)
    try:
        return [a for chunk in reader.batches() for a in chunk if a["batch_code"] in batches]
    finally:
        reader.close()


def _publish(live: Settings, chains: list[dict[str, Any]], alerts: list[dict[str, Any]]) -> None:
    topics = worker_topics(live)
    encode_chain = record_serde(live, "TraceChain", topics.chain).encode
    encode_alert = record_serde(live, "Alert", topics.alerts).encode
    records = [
        OutboundRecord.keyed_by_batch(topics.chain, str(c["batch_code"]), encode_chain(c))
        for c in chains
    ] + [
        OutboundRecord.keyed_by_batch(topics.alerts, str(a["batch_code"]), encode_alert(a))
        for a in alerts
    ]
    publisher = KafkaPublisher(live.kafka, live.producer)
    try:
        for start in range(0, len(records), _CHUNK):
            publisher.publish(records[start : start + _CHUNK])
    finally:
        publisher.close()


def cutover(
    live: Settings,
    rebuilt: Settings,
    comparison: ChainComparison,
    rebuilt_chains: dict[str, dict[str, Any]],
) -> CutoverResult:
    """Check, publish what the rebuild has ahead, write the new live settings. See the doc."""
    check_cutover(live, comparison)
    ahead = comparison.ahead()
    alerts = _alerts_of(rebuilt, set(ahead)) if ahead else []
    _publish(live, [rebuilt_chains[code] for code in ahead], alerts)
    env = live_worker_env(rebuilt)
    env_file = (live.home / "worker" / f"{rebuilt.worker.app_id}.env").resolve()
    env_file.parent.mkdir(parents=True, exist_ok=True)
    env_file.write_text("".join(f"{name}={value}\n" for name, value in env.items()))
    return CutoverResult(len(ahead), len(alerts), env_file, env)
