"""Fault injection, controlled by rates, every injected fault recorded.

Two kinds of faults:

* data faults change what a source system reports, so they are applied to the ground truth before
  events are built (and the oracle sees them): cross-system quantity mismatches (a WMS receipt or
  the ERP production receipt off by 2-10 %, far beyond the 0.5 % tolerance) and missing sides (the
  ERP production receipt of a batch is never sent). Mismatch and missing batches are disjoint.
* transport faults change how events travel: duplicates (same event, same event_id, re-sent a
  little later), reordering (swaps within a small window, and seq 2 of a corrected record sent
  before seq 1), late events (moved far back in the stream) and malformed records (bytes that
  are not a valid envelope, each with its reason).

A rate is the share of candidates hit: ``round(rate * candidates)`` of them, at least one when the
rate is positive, chosen with a seeded ``random.Random``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from tracesync.devtools.simulator.events import TOPIC_OF_SYSTEM, Envelope
from tracesync.devtools.simulator.model import Plant
from tracesync.devtools.simulator.timing import scaled

MALFORMED_KINDS = ("garbage", "truncated", "bad_enum", "empty", "bad_header")
REORDER_WINDOW = 20
DUPLICATE_WINDOW = 50


@dataclass(frozen=True)
class FaultRates:
    duplicates: float = 0.02
    reorder: float = 0.05
    late: float = 0.01
    malformed: float = 0.005
    mismatch: float = 0.03
    missing: float = 0.01


@dataclass(frozen=True)
class Fault:
    """One injected fault: its kind, the code it touches, the event (if any) and what was done."""

    kind: str
    code: str
    event_id: str | None
    detail: str


@dataclass(frozen=True)
class Malformed:
    """A record that must fail to decode; its bytes are made by :func:`malformed_bytes`."""

    reason: str
    base: Envelope
    noise: bytes
    cut: float


@dataclass(frozen=True)
class OutRecord:
    """One record to send: a valid envelope, or a malformed one, on ``system``'s topic."""

    system: str
    key: str
    envelope: Envelope | None = None
    malformed: Malformed | None = None

    @property
    def topic(self) -> str:
        return TOPIC_OF_SYSTEM[self.system]


def _count(rate: float, candidates: int) -> int:
    if rate <= 0 or candidates == 0:
        return 0
    return min(candidates, max(1, round(rate * candidates)))


def inject_data_faults(plant: Plant, rates: FaultRates, seed: int) -> tuple[Plant, list[Fault]]:
    """Apply quantity mismatches and missing ERP receipts to the truth; return it and the faults."""
    rng = random.Random(f"data-faults:{seed}")
    codes = [b.code for b in plant.batches]
    produced = {b.code: b.produced_quantity for b in plant.batches}
    mismatched = rng.sample(codes, _count(rates.mismatch, len(codes)))
    rest = sorted(set(codes) - set(mismatched))
    missing = set(rng.sample(rest, _count(rates.missing, len(rest))))
    receipts = list(plant.receipts)
    production_receipts = list(plant.production_receipts)
    last_receipt = {r.code: i for i, r in enumerate(receipts)}
    erp_receipt = {r.code: i for i, r in enumerate(production_receipts)}
    faults = []
    for code in mismatched:
        factor = rng.uniform(0.02, 0.10)
        if rng.random() < 0.5:  # WMS books too much (never too little: stock stays >= 0)
            index = last_receipt[code]
            old = receipts[index]
            new = old.quantity + scaled(produced[code], factor, old.uom)
            receipts[index] = replace(old, quantity=new)
            detail = f"WMS receipt {old.receipt_id}: {old.quantity} -> {new}"
            faults.append(Fault("mismatch_wms", code, None, detail))
        else:
            index = erp_receipt[code]
            prod = production_receipts[index]
            sign = rng.choice((-1, 1))
            new = prod.quantity + sign * scaled(produced[code], factor, prod.uom)
            production_receipts[index] = replace(prod, quantity=new)
            detail = f"ERP receipt {prod.receipt_id}: {prod.quantity} -> {new}"
            faults.append(Fault("mismatch_erp", code, None, detail))
    for prod in production_receipts:
        if prod.code in missing:
            faults.append(Fault("missing_erp", prod.code, None, f"{prod.receipt_id} never sent"))
    production_receipts = [p for p in production_receipts if p.code not in missing]
    faulty = replace(
        plant, receipts=tuple(receipts), production_receipts=tuple(production_receipts)
    )
    return faulty, faults


@dataclass
class _Stream:
    """Records with float positions; faults move positions, the final order sorts by them."""

    rng: random.Random
    records: list[tuple[float, int, OutRecord]]
    faults: list[Fault]

    def add(self, position: float, record: OutRecord) -> None:
        self.records.append((position, len(self.records), record))

    def move(self, index: int, position: float) -> None:
        _, order, record = self.records[index]
        self.records[index] = (position, order, record)

    def record(self, index: int, kind: str, detail: str) -> None:
        record = self.records[index][2]
        envelope = record.envelope or {}
        self.faults.append(Fault(kind, record.key, envelope.get("event_id"), detail))

    def ordered(self) -> list[OutRecord]:
        return [record for _, _, record in sorted(self.records, key=lambda r: (r[0], r[1]))]


def _record_of(envelope: Envelope) -> OutRecord:
    return OutRecord(envelope["source_system"], envelope["batch_code"], envelope=envelope)


def inject_transport_faults(
    events: Sequence[Envelope], rates: FaultRates, seed: int
) -> tuple[list[OutRecord], list[Fault]]:
    """The records to send, in sending order, with duplicates, reordering, late and bad records."""
    rng = random.Random(f"transport-faults:{seed}")
    stream = _Stream(rng, [], [])
    for position, envelope in enumerate(events):
        stream.add(float(position), _record_of(envelope))
    n = len(events)
    _seq_two_first(stream, events, rates)
    for index in rng.sample(range(n), _count(rates.reorder, n)):
        other = min(n - 1, index + rng.randint(2, REORDER_WINDOW))
        here, there = stream.records[index][0], stream.records[other][0]
        stream.move(index, there + 0.1)
        stream.move(other, here - 0.1)
        stream.record(index, "reorder", f"swapped with the record at position {there:.0f}")
    for index in rng.sample(range(n), _count(rates.late, n)):
        delay = rng.randint(max(1, n // 10), max(2, n // 2))
        stream.move(index, stream.records[index][0] + delay)
        stream.record(index, "late", f"delayed by {delay} records")
    for index in rng.sample(range(n), _count(rates.duplicates, n)):
        original, _, record = stream.records[index]
        later = original + rng.randint(1, DUPLICATE_WINDOW) + 0.5
        stream.add(later, record)
        envelope = record.envelope or {}
        stream.faults.append(Fault("duplicate", record.key, envelope.get("event_id"), "re-sent"))
    for _ in range(_count(rates.malformed, n)):
        bad, reason = _malformed(rng, events[rng.randrange(n)])
        stream.add(rng.uniform(0, n), bad)
        stream.faults.append(Fault("malformed", bad.key, None, reason))
    return stream.ordered(), stream.faults


def _seq_two_first(stream: _Stream, events: Sequence[Envelope], rates: FaultRates) -> None:
    """Send seq 2 of some corrected source records before their seq 1."""
    first_at: dict[str, int] = {}
    pairs: list[tuple[int, int]] = []
    for index, envelope in enumerate(events):
        if envelope["source_seq"] == 1:
            first_at[envelope["source_ref"]] = index
        elif envelope["source_ref"] in first_at:
            pairs.append((first_at[envelope["source_ref"]], index))
    share = min(0.5, rates.reorder * 10)
    for first, second in stream.rng.sample(pairs, _count(share, len(pairs))):
        stream.move(second, first - 0.5)
        stream.record(second, "reorder_seq", "seq 2 sent before seq 1")


def _malformed(rng: random.Random, template: Envelope) -> tuple[OutRecord, str]:
    reason = rng.choice(MALFORMED_KINDS)
    base = {**template, "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4))}
    noise = bytes(rng.getrandbits(8) for _ in range(rng.randint(12, 80)))
    bad = Malformed(reason=reason, base=base, noise=noise, cut=rng.uniform(0.2, 0.8))
    return OutRecord(template["source_system"], template["batch_code"], malformed=bad), reason


def malformed_bytes(bad: Malformed, encode: Callable[[Envelope], bytes], attempt: int = 0) -> bytes:
    """The wire bytes of a malformed record (``attempt`` varies them if a variant still decodes)."""
    if bad.reason == "empty":
        return b""
    if bad.reason == "garbage":
        return bad.noise[attempt:] + bad.noise[:attempt]
    valid = encode(bad.base)
    if bad.reason == "truncated":
        return valid[: max(1, int(len(valid) * bad.cut) - attempt)]
    if bad.reason == "bad_header":  # a valid body behind a header no reader knows
        return b"\x7f" + bytes([attempt % 256]) + valid[2:]
    # bad_enum: the event_type index right after the event_id string points past the symbols
    marker = bad.base["event_id"].encode()
    end = valid.index(marker) + len(marker)
    return valid[:end] + bytes([0xC8 + 2 * attempt, 0x01]) + valid[end + 1 :]


def fault_summary(faults: Sequence[Fault]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for fault in faults:
        summary[fault.kind] = summary.get(fault.kind, 0) + 1
    return dict(sorted(summary.items()))


def describe(record: OutRecord) -> dict[str, Any]:
    """A short JSON-friendly description of a record, for dumps and logs."""
    if record.malformed is not None:
        return {"topic": record.topic, "key": record.key, "malformed": record.malformed.reason}
    envelope = record.envelope or {}
    return {"topic": record.topic, "key": record.key, "event_id": envelope.get("event_id")}
