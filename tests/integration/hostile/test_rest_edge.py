"""Hostile requests to the real ``tracesync ingest api`` process, in front of the whole pipeline.

Every bad event is answered with a 4xx naming the field (413 for one too large: a retry cannot
succeed, so never 503), alone and inside a batch whose good events are still accepted; the good
events sent around the bad ones reach the store, and the REST server, the worker and the store
sink stay up. The same probes run without a broker in tests/unit/test_rest_hostile.py, with
Hypothesis fuzzing; here they cross the real process, broker and store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.hostile.conftest import REST_PORT, Pipeline
from tests.rest_samples import mes_event
from tracesync.devtools.supervise import wait_for

URL = f"http://127.0.0.1:{REST_PORT}"
MES_KEY = {"X-API-Key": "dev-mes-key", "Content-Type": "application/json"}


def _with(**payload: Any) -> dict[str, Any]:
    return mes_event("R-BAD", payload={**mes_event()["payload"], **payload})


NESTED = orjson.dumps(mes_event("R-BAD")).replace(b'"PO-1"', b'{"a":' * 400 + b"1" + b"}" * 400)
PROBES: dict[str, tuple[bytes, int, str]] = {
    # kind -> (body, status, the field the answer names)
    "timestamp beyond 64 bits of ms": (
        orjson.dumps(mes_event("R-BAD", occurred_at=2**63)),
        422,
        "occurred_at",
    ),
    "offset past year 9999": (
        orjson.dumps(mes_event("R-BAD", occurred_at="9999-12-31T23:00:00-05:00")),
        422,
        "occurred_at",
    ),
    "deeply nested object in a field": (NESTED, 422, "payload.order_id"),
    "digit separators": (orjson.dumps(mes_event("R-BAD", source_seq="1_000")), 422, "source_seq"),
    "non-ASCII digits in a decimal": (
        orjson.dumps(
            mes_event(
                "R-BAD",
                event_type="BATCH_COMPLETED",
                payload={
                    **mes_event()["payload"],
                    "produced_quantity": {"value": "١٢٣", "uom": "KG"},
                    "scrapped_quantity": {"value": "0", "uom": "KG"},
                    "trace_codes": [],
                },
            )
        ),
        422,
        "payload.produced_quantity.value",
    ),
    "blank batch code": (orjson.dumps(mes_event("  ")), 422, "batch_code"),
    "bidi override in a batch code": (orjson.dumps(mes_event("R-\u202eDAB")), 422, "batch_code"),
    "NUL in a field": (orjson.dumps(_with(order_id="PO\x00")), 422, "payload.order_id"),
    "field over the field limit": (
        orjson.dumps(_with(order_id="o" * 5000)),
        422,
        "payload.order_id",
    ),
    "event over the event limit": (
        orjson.dumps(_with(operators=["o" * 4000] * 200)),
        413,
        "<event>",
    ),
    "unknown field": (orjson.dumps(mes_event("R-BAD", colour="red")), 422, "colour"),
    "wrong type": (orjson.dumps(_with(operators="op-1")), 422, "payload.operators"),
}


@pytest.fixture(scope="module")
def rest(hostile_pipeline: Pipeline) -> Iterator[httpx.Client]:
    server = hostile_pipeline.start(
        "ingest-api", ["ingest", "api", "--host", "127.0.0.1", "--port", str(REST_PORT)]
    )

    def up() -> bool:
        try:
            return httpx.get(f"{URL}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    assert wait_for(up, 60, alive=[server]), server.log_tail()
    with httpx.Client(base_url=URL, headers=MES_KEY, timeout=30) as client:
        yield client


@pytest.mark.parametrize("kind", sorted(PROBES))
def test_a_bad_event_is_answered_with_a_4xx_naming_the_field(rest: httpx.Client, kind: str) -> None:
    body, status, field = PROBES[kind]
    response = rest.post("/v1/mes/events", content=body)
    assert response.status_code == status, response.text
    assert field in {e["field"] for e in response.json()["errors"]}, response.text


def test_good_events_around_the_bad_ones_reach_the_store(
    rest: httpx.Client, hostile_pipeline: Pipeline
) -> None:
    good = [orjson.dumps(mes_event(f"R-GOOD-{i}")) for i in range(3)]
    bad = [body for body, _, _ in PROBES.values()]
    batch = (
        b"["
        + b",".join([good[0], *bad[: len(bad) // 2], good[1], *bad[len(bad) // 2 :], good[2]])
        + b"]"
    )
    response = rest.post("/v1/mes/events/batch", content=batch)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert len(answer["accepted"]) == 3 and len(answer["rejected"]) == len(bad)
    assert all(r["status"] in (413, 422) and r["errors"] for r in answer["rejected"])
    for single in (b"{not json", b"[]", b'{"events": 5}'):
        assert rest.post("/v1/mes/events/batch", content=single).status_code in (400, 422)
    assert (
        rest.post("/v1/mes/events", content=good[0], headers={"X-API-Key": "x"}).status_code == 401
    )
    hostile_pipeline.wait_stored({"R-GOOD-0", "R-GOOD-1", "R-GOOD-2"})
    assert "R-BAD" not in hostile_pipeline.stored()
    assert hostile_pipeline.all_alive(), hostile_pipeline.log_tails()
