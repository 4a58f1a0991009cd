"""The stream worker on the real broker: chains, hold propagation, dead letters, restarts.

``tracesync worker`` runs as a real process; events go in through the idempotent producer core
and chain/alert records are read back from Kafka and compared with what the pure domain says.
The engines' contract suite: every worker test runs on each engine (``quix`` and ``faust``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from streams.bootstrap import worker_topics
from streams.domain.chain import TraceChain, merge_all
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import view_of
from streams.records import chain_record
from streams.state import event_from_envelope
from tests.fixtures.kafka import KafkaBroker
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.devtools.supervise import Component, wait_for
from tracesync.errors import RecordOrigin
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import Settings

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def _q(value: str) -> dict[str, Any]:
    return {"value": Decimal(value), "uom": "KG"}


class Plant:
    """Hand-built envelopes for a small three-level plant."""

    def __init__(self, plant: str = "P1") -> None:
        self.plant = plant
        self.events: list[dict[str, Any]] = []

    def add(
        self,
        event_type: str,
        system: str,
        batch: str,
        payload: dict[str, Any],
        *,
        ref: str,
        seq: int = 1,
        minute: int = 0,
    ) -> dict[str, Any]:
        env = {
            "event_id": str(uuid.uuid4()),
            "event_type": event_type,
            "source_system": system,
            "source_ref": ref,
            "source_seq": seq,
            "batch_code": batch,
            "occurred_at": T0 + timedelta(minutes=minute),
            "recorded_at": T0 + timedelta(minutes=minute),
            "plant": self.plant,
            "payload": payload,
        }
        self.events.append(env)
        return env

    def batch(
        self,
        code: str,
        qty: str,
        parents: list[str],
        *,
        wms: str | None = None,
        erp: str | None = None,
        minute: int = 0,
    ) -> None:
        self.add(
            "BATCH_COMPLETED",
            "MES",
            code,
            {
                "order_id": f"PO-{code}",
                "product_code": "FG",
                "line_id": "L1",
                "shift": "A",
                "team": "T1",
                "operators": ["op1"],
                "equipment": ["MIX-1"],
                "trace_codes": [f"TC-{code}-1"],
                "produced_quantity": _q(qty),
                "scrapped_quantity": _q("0"),
            },
            ref=f"MES:BC:{code}",
            minute=minute,
        )
        for parent in parents:
            self.add(
                "MATERIAL_CONSUMED",
                "MES",
                code,
                {
                    "consumption_id": f"C-{code}-{parent}",
                    "parent_lot": parent,
                    "material_code": "M",
                    "quantity": _q("1"),
                },
                ref=f"MES:MC:{code}:{parent}",
                minute=minute,
            )
        self.add(
            "GOODS_RECEIVED",
            "WMS",
            code,
            {
                "receipt_id": f"GR-{code}",
                "quantity": _q(wms or qty),
                "location": "WH-A",
                "handling_unit": f"HU-{code}",
            },
            ref=f"WMS:GR:{code}",
            minute=minute + 1,
        )
        self.add(
            "PRODUCTION_RECEIPT_POSTED",
            "ERP",
            code,
            {
                "order_id": f"PO-{code}",
                "quantity": _q(erp or qty),
                "cost": Decimal("10.00"),
                "currency": "EUR",
            },
            ref=f"ERP:PR:{code}",
            minute=minute + 2,
        )

    def hold(self, code: str, hold_id: str, *, minute: int = 30) -> None:
        self.add(
            "HOLD_PLACED",
            "QMS",
            code,
            {
                "hold_id": hold_id,
                "target_type": "LOT",
                "reason": "supplier alert",
                "placed_by": "qa",
            },
            ref=f"QMS:HOLD:{hold_id}",
            minute=minute,
        )


ENGINES = ("quix", "faust")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def worker_settings(
    kafka_broker: KafkaBroker, tmp_path: Path, unique_group: Callable[..., str], engine: str
) -> Settings:
    prefix = f"{uuid.uuid4().hex[:8]}."
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=prefix,
        source_partitions=3,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
        worker={
            "engine": engine,
            "app_id": unique_group("worker"),
            "settle_s": 2.0,
            "take_within_s": 0.02,
        },
    )
    bootstrap.ensure_topics(settings)
    return settings


@pytest.fixture
def worker(worker_settings: Settings, tmp_path: Path) -> Iterator[Component]:
    proc = Component(
        ["worker", "--loglevel", "warning"], worker_settings, tmp_path / "worker.log"
    ).start()
    yield proc
    proc.stop()


def publish(
    settings: Settings, envelopes: list[dict[str, Any]], raw: list[tuple[str, bytes, bytes]] = ()
) -> None:  # type: ignore[assignment]
    serde = bootstrap.envelope_serde(settings)
    cat = bootstrap.catalog(settings)
    records = [
        OutboundRecord.keyed_by_batch(
            cat.source_topic(e["source_system"]), e["batch_code"], serde.encode(e)
        )
        for e in envelopes
    ]
    records += [OutboundRecord(topic, key, value) for topic, key, value in raw]
    with KafkaPublisher(settings.kafka, settings.producer) as publisher:
        publisher.publish(records)


def expected_records(
    envelopes: list[dict[str, Any]],
    rules: ReconciliationRules,
    extra: Callable[[str], list[Any]] = lambda code: [],
) -> dict[str, Any]:
    by_code: dict[str, list[Any]] = {}
    for env in envelopes:
        by_code.setdefault(env["batch_code"], []).append(event_from_envelope(env))
    out = {}
    for code, events in by_code.items():
        chain = merge_all(TraceChain(code), [*events, *extra(code)])
        out[code] = chain_record(view_of(chain, rules))
    return out


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "version"}


def test_worker_builds_every_chain_and_propagates_a_lot_hold(
    worker_settings: Settings, worker: Component
) -> None:
    plant = Plant()
    plant.batch("RAW-1", "500", [])
    plant.batch("INT-1", "100", ["RAW-1"], minute=10)
    plant.batch("FG-1", "50", ["INT-1"], minute=20)
    plant.batch("FG-2", "40", ["INT-1"], wms="30", minute=20)  # a mismatch
    plant.hold("RAW-1", "H-1")
    # duplicates and a stale correction, in a bad order
    plant.events.append(dict(plant.events[0]))
    publish(worker_settings, list(reversed(plant.events)))

    topics = worker_topics(worker_settings)
    chains = TopicReader(
        worker_settings,
        topics.chain,
        bootstrap.record_serde(worker_settings, "TraceChain", topics.chain).decode,
    )
    alerts = TopicReader(
        worker_settings,
        topics.alerts,
        bootstrap.record_serde(worker_settings, "Alert", topics.alerts).decode,
    )

    def held(code: str) -> bool:
        rec = chains.latest.get(code)
        return rec is not None and any(
            h["active"] and h["origin_code"] == "RAW-1" for h in rec["holds"]
        )

    def done() -> bool:
        chains.poll()
        return all(held(c) for c in ("RAW-1", "INT-1", "FG-1", "FG-2"))

    assert wait_for(done, 90, alive=[worker]), (
        f"chains not complete: {sorted(chains.latest)}\n{worker.log_tail()}"
    )
    assert worker.alive()
    for code in ("INT-1", "FG-1", "FG-2"):
        (hold,) = [h for h in chains.latest[code]["holds"] if h["active"]]
        assert hold["inherited"] and hold["hold_id"] == "H-1"
    assert chains.latest["FG-2"]["reconciliation"]["status"] == "MISMATCH"
    assert chains.latest["FG-2"]["reconciliation"]["wms_delta"] == Decimal("-10")
    assert chains.latest["FG-1"]["reconciliation"]["status"] == "MATCHED"
    # apart from inherited holds and version, each chain is what the pure domain computes
    rules = ReconciliationRules(tolerance=worker_settings.worker.tolerance)
    expected = expected_records(plant.events, rules)
    for code, want in expected.items():
        got = dict(chains.latest[code])
        got["holds"] = [h for h in got["holds"] if not h["inherited"]]
        assert _comparable(got) == _comparable(want), code

    def alerted() -> bool:
        alerts.poll()
        kinds = {(a["batch_code"], a["kind"]) for a in alerts.latest.values()}
        kinds |= {(m.key().decode(), alerts.decode(m.value())["kind"]) for m in alerts.messages}
        return {
            ("FG-1", "HOLD_INHERITED"),
            ("FG-2", "HOLD_INHERITED"),
            ("FG-2", "QUANTITY_MISMATCH"),
            ("RAW-1", "HOLD_PLACED"),
        } <= kinds

    assert wait_for(alerted, 30, alive=[worker]), worker.log_tail()
    chains.close()
    alerts.close()


def test_malformed_records_go_to_the_dead_letter_topic_and_the_worker_goes_on(
    worker_settings: Settings, worker: Component
) -> None:
    cat = bootstrap.catalog(worker_settings)
    mes = cat.source_topic("MES")
    plant = Plant()
    plant.batch("B-OK", "10", [])
    publish(
        worker_settings,
        [],
        raw=[(mes, b"B-BAD", b"not avro at all"), (mes, b"B-BAD2", b"\xc3\x01" + b"\x00" * 12)],
    )
    publish(worker_settings, plant.events)
    topics = worker_topics(worker_settings)
    dlq = TopicReader(worker_settings, topics.dead_letter, lambda v: v)
    chains = TopicReader(
        worker_settings,
        topics.chain,
        bootstrap.record_serde(worker_settings, "TraceChain", topics.chain).decode,
    )

    def both() -> bool:
        dlq.poll()
        chains.poll()
        return len(dlq.messages) >= 2 and "B-OK" in chains.latest

    assert wait_for(both, 90, alive=[worker]), worker.log_tail()
    headers = [dict(m.headers()) for m in dlq.messages]
    assert all(h["dlq.stage"] == b"streams" and h["dlq.topic"] == mes.encode() for h in headers)
    assert all(h["dlq.reason"] for h in headers)
    assert {m.key() for m in dlq.messages} == {b"B-BAD", b"B-BAD2"}
    assert worker.alive()
    dlq.close()
    chains.close()


def test_a_missing_side_becomes_a_discrepancy_after_the_settle_time(
    worker_settings: Settings, worker: Component
) -> None:
    plant = Plant()
    plant.batch("B-MISS", "10", [])
    plant.events = [e for e in plant.events if e["source_system"] != "ERP"]
    publish(worker_settings, plant.events)
    topics = worker_topics(worker_settings)
    chains = TopicReader(
        worker_settings,
        topics.chain,
        bootstrap.record_serde(worker_settings, "TraceChain", topics.chain).decode,
    )

    def missing() -> bool:
        chains.poll()
        rec = chains.latest.get("B-MISS")
        return rec is not None and rec["reconciliation"]["status"] == "MISSING_SIDE"

    assert wait_for(missing, 60, alive=[worker]), worker.log_tail()
    assert chains.latest["B-MISS"]["reconciliation"]["missing"] == ["ERP"]
    chains.close()


def test_decode_errors_name_the_origin() -> None:
    serde = bootstrap.envelope_serde(Settings(registry={"enabled": False}))
    with pytest.raises(Exception) as info:
        serde.decode(b"garbage", RecordOrigin("mes.events", 2, 17))
    assert "mes.events[2]@17" in str(info.value)
