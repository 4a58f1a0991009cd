"""Delivery with retries, the sent-ledger, the retry policy and dead-letter headers (no I/O)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest

from ops.redrive import RedriveFilter, parse_since
from sinks.targets.base import Target
from sinks.targets.config import RetryPolicy
from sinks.targets.delivery import NoticeDelivery, SinkStats, SinkStoppedError
from sinks.targets.ledger import SentLedger
from sinks.targets.routing import Notice
from tracesync import deadletter
from tracesync.errors import RecordOrigin

NO_WAIT = RetryPolicy(attempts=4, initial_backoff_s=0.0, max_backoff_s=0.0, jitter=0.0)


class ScriptedTarget(Target):
    """Answers each send from a script: None = acknowledge, (reason, retriable) = fail."""

    transport: ClassVar[str] = "scripted"
    options: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, script: list[tuple[str, bool] | None]) -> None:
        super().__init__("scripted", {}, Path("."))
        self.script = script
        self.calls: list[str] = []

    def send(self, notice: Notice) -> None:
        self.calls.append(notice.key)
        step = self.script.pop(0) if self.script else None
        if step is not None:
            raise self.error(step[0], retriable=step[1])


def notice(key: str = "k1") -> Notice:
    return Notice("route", "scripted", "B1", "completed@1", key, 3, {"a": 1})


@pytest.fixture
def ledger() -> Iterator[SentLedger]:
    opened = SentLedger(Path(":memory:"))
    yield opened
    opened.close()


def delivery(
    target: Target, ledger: SentLedger, policy: RetryPolicy = NO_WAIT
) -> tuple[NoticeDelivery, SinkStats]:
    stats = SinkStats()
    return NoticeDelivery({"scripted": target}, ledger, policy, threading.Event(), stats), stats


def test_retriable_failures_are_retried_until_acknowledged_then_remembered(
    ledger: SentLedger,
) -> None:
    target = ScriptedTarget([("503", True), ("503", True), None])
    deliver, stats = delivery(target, ledger)
    assert deliver.deliver(notice()) is None
    assert target.calls == ["k1"] * 3
    assert ledger.was_sent("k1")
    assert deliver.deliver(notice()) is None  # again: the ledger answers, the target is not called
    assert target.calls == ["k1"] * 3
    assert stats.snapshot() == {
        "records": 0,
        "notices_sent": 1,
        "already_sent": 1,
        "stale_chains": 0,
        "attempts": 3,
        "dead_lettered": 0,
    }


def test_gives_up_after_the_configured_attempts_and_does_not_remember(ledger: SentLedger) -> None:
    target = ScriptedTarget([("503 busy", True)] * 10)
    deliver, _ = delivery(target, ledger)
    reason = deliver.deliver(notice())
    assert reason == "failed after 4 attempts: 503 busy"
    assert len(target.calls) == 4
    assert not ledger.was_sent("k1")


def test_a_refusal_is_not_retried(ledger: SentLedger) -> None:
    target = ScriptedTarget([("400 bad field", False)])
    deliver, _ = delivery(target, ledger)
    assert deliver.deliver(notice()) == "refused: 400 bad field"
    assert len(target.calls) == 1


def test_stop_during_backoff_interrupts_without_remembering(ledger: SentLedger) -> None:
    target = ScriptedTarget([("503", True)] * 3)
    policy = RetryPolicy(attempts=3, initial_backoff_s=60.0, max_backoff_s=60.0, jitter=0.0)
    deliver, _ = delivery(target, ledger, policy)
    deliver.stop.set()
    with pytest.raises(SinkStoppedError):
        deliver.deliver(notice())
    assert not ledger.was_sent("k1")


def test_backoff_doubles_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(attempts=9, initial_backoff_s=0.5, max_backoff_s=3.0, jitter=0.5)
    lowest = [policy.delay(n, lambda: 0.0) for n in range(1, 6)]
    highest = [policy.delay(n, lambda: 1.0) for n in range(1, 6)]
    assert highest == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert lowest == [h / 2 for h in highest]


def test_ledger_keeps_the_newest_version_per_batch(ledger: SentLedger) -> None:
    assert ledger.newest_version("B1") is None
    ledger.record_version("B1", 4)
    ledger.record_version("B1", 2)
    assert ledger.newest_version("B1") == 4


def test_dead_letter_headers_round_trip() -> None:
    headers = deadletter.build_headers(
        "failed after 5 attempts: 503",
        "targets",
        RecordOrigin("trace.chain", 2, 41),
        {deadletter.ROUTE: "wms-hold-block", deadletter.REDRIVEN: "1"},
    )
    info = deadletter.parse_headers([*headers, ("trace-id", b"abc")])
    assert (info.reason, info.stage, info.origin()) == (
        "failed after 5 attempts: 503",
        "targets",
        "trace.chain[2]@41",
    )
    assert info.redriven == 1
    assert info.extra == {deadletter.ROUTE: "wms-hold-block"}
    assert info.passthrough == (("trace-id", b"abc"),)
    assert deadletter.redriven_count({"dlq.redriven": "3"}) == 3
    assert deadletter.redriven_count(None) == 0


class _Read:
    topic, partition, offset = "mes.events", 1, 7


class _Letter:
    record = _Read()
    reason, stage = "bad envelope", "streams"


def test_stream_worker_letters_use_the_same_convention() -> None:
    info = deadletter.parse_headers(deadletter.dead_letter_headers(_Letter()))
    assert (info.reason, info.stage, info.topic, info.partition, info.offset) == (
        "bad envelope",
        "streams",
        "mes.events",
        1,
        7,
    )


def test_redrive_filter_and_since_parsing() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    noon_ms = int(now.timestamp() * 1000)
    assert parse_since("2h", now) == noon_ms - 2 * 3_600_000
    assert parse_since("2026-11-24T12:00:00", now) == noon_ms
    assert parse_since("2026-11-24T13:00:00+01:00", now) == noon_ms
    info = deadletter.parse_headers([(deadletter.REASON, b"failed after 5 attempts: 503")])
    assert RedriveFilter(reason_contains="ATTEMPTS").accepts(info, 0)
    assert not RedriveFilter(reason_contains="refused").accepts(info, 0)
    assert RedriveFilter(since_ms=noon_ms).accepts(info, noon_ms)
    assert not RedriveFilter(since_ms=noon_ms).accepts(info, noon_ms - 1)
