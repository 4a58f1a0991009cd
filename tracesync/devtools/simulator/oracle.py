"""The oracle: the expected final facts per code (:mod:`.expected`) plus what must reach the
pipeline.

The oracle holds the expected chain of every code, the set of event ids that must reach the
pipeline (each once after dedup), how many malformed records were sent, and every injected fault.
It is saved as indented JSON with sorted keys and Decimals as strings (see :meth:`Oracle.save`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from tracesync.devtools.simulator.events import Envelope
from tracesync.devtools.simulator.expected import ExpectedChain, Reconciliation, expected_chains
from tracesync.devtools.simulator.faults import Fault, OutRecord
from tracesync.devtools.simulator.model import Plant
from tracesync.devtools.simulator.oracle_json import chain_from_json, chain_to_json

FORMAT = "tracesync-oracle/1"
DEFAULT_TOLERANCE = Decimal("0.005")


@dataclass(frozen=True)
class Oracle:
    seed: int
    batches: int
    plant: str
    tolerance: Decimal
    chains: Mapping[str, ExpectedChain]
    expected_event_ids: frozenset[str]
    expected_malformed: int
    records_sent: int
    records_by_topic: Mapping[str, int]
    faults: tuple[Fault, ...]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_oracle_to_json(self), indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> Oracle:
        return _oracle_from_json(json.loads(path.read_text()))

    def discrepancies(self) -> dict[str, Reconciliation]:
        return {
            code: chain.reconciliation
            for code, chain in self.chains.items()
            if chain.reconciliation.status in ("MISMATCH", "MISSING_SIDE")
        }


def build_oracle(
    *,
    seed: int,
    batches: int,
    plant: Plant,
    events: Sequence[Envelope],
    records: Sequence[OutRecord],
    faults: Sequence[Fault],
    tolerance: Decimal = DEFAULT_TOLERANCE,
) -> Oracle:
    by_topic: dict[str, int] = defaultdict(int)
    for record in records:
        by_topic[record.topic] += 1
    return Oracle(
        seed=seed,
        batches=batches,
        plant=plant.plant_id,
        tolerance=tolerance,
        chains=expected_chains(plant, tolerance),
        expected_event_ids=frozenset(e["event_id"] for e in events),
        expected_malformed=sum(1 for r in records if r.malformed is not None),
        records_sent=len(records),
        records_by_topic=dict(sorted(by_topic.items())),
        faults=tuple(faults),
    )


def _oracle_to_json(oracle: Oracle) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "seed": oracle.seed,
        "batches": oracle.batches,
        "plant": oracle.plant,
        "tolerance": str(oracle.tolerance),
        "expected_malformed": oracle.expected_malformed,
        "records_sent": oracle.records_sent,
        "records_by_topic": dict(oracle.records_by_topic),
        "expected_event_ids": sorted(oracle.expected_event_ids),
        "faults": [asdict(f) for f in oracle.faults],
        "chains": {code: chain_to_json(chain) for code, chain in sorted(oracle.chains.items())},
    }


def _oracle_from_json(obj: dict[str, Any]) -> Oracle:
    if obj.get("format") != FORMAT:
        raise ValueError(f"not a tracesync oracle ({FORMAT}): format={obj.get('format')!r}")
    return Oracle(
        seed=obj["seed"],
        batches=obj["batches"],
        plant=obj["plant"],
        tolerance=Decimal(obj["tolerance"]),
        chains={code: chain_from_json(c) for code, c in obj["chains"].items()},
        expected_event_ids=frozenset(obj["expected_event_ids"]),
        expected_malformed=obj["expected_malformed"],
        records_sent=obj["records_sent"],
        records_by_topic=obj["records_by_topic"],
        faults=tuple(Fault(**f) for f in obj["faults"]),
    )
