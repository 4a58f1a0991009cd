"""Turn the ground-truth plant into envelope dicts exactly per the event contract.

Values are Avro-ready.

Every envelope: ``event_id`` (UUID4 string drawn from a seeded generator, so runs repeat),
``event_type``, ``source_system``, ``source_ref`` (stable per source record), ``source_seq``
(1, then 2 for a later correction of the same record), ``batch_code`` (the Kafka key),
``occurred_at``/``recorded_at`` (UTC datetimes, whole milliseconds), ``plant`` and ``payload``.
Decimals are ``decimal.Decimal``, dates ``datetime.date``. The list is sorted by ``recorded_at``,
which interleaves the four systems the way they would reach the hub.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from tracesync.devtools.simulator.erp_events import erp_drafts
from tracesync.devtools.simulator.mes_events import mes_drafts
from tracesync.devtools.simulator.model import Plant
from tracesync.devtools.simulator.qms_events import qms_drafts
from tracesync.devtools.simulator.timing import after
from tracesync.devtools.simulator.wms_events import wms_drafts

Envelope = dict[str, Any]

TOPIC_OF_SYSTEM = {
    "MES": "mes.events",
    "ERP": "erp.events",
    "WMS": "wms.events",
    "QMS": "qms.events",
}
RECORDING_DELAY_S = {
    "MES": (0.05, 5.0),
    "WMS": (1.0, 60.0),
    "ERP": (60.0, 1800.0),
    "QMS": (10.0, 600.0),
}


def build_events(plant: Plant, seed: int) -> list[Envelope]:
    """All envelopes of the plant in ``recorded_at`` order, with reproducible event ids."""
    rng = random.Random(f"events:{seed}")
    timed = []
    for draft in mes_drafts(plant) + qms_drafts(plant) + wms_drafts(plant) + erp_drafts(plant):
        recorded = draft.recorded_at
        if recorded is None:
            recorded = after(rng, draft.occurred_at, *RECORDING_DELAY_S[draft.system])
        timed.append((recorded, draft))
    timed.sort(key=lambda pair: (pair[0], pair[1].source_ref, pair[1].source_seq))
    return [
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_type": draft.event_type,
            "source_system": draft.system,
            "source_ref": draft.source_ref,
            "source_seq": draft.source_seq,
            "batch_code": draft.code,
            "occurred_at": draft.occurred_at,
            "recorded_at": recorded,
            "plant": plant.plant_id,
            "payload": draft.payload,
        }
        for recorded, draft in timed
    ]
