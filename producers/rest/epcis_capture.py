"""``POST /v1/epcis/capture``: an EPCIS 2.0 JSON-LD document in, tracesync events out.

Each EPCIS event is mapped by :mod:`producers.epcis` onto contract events, which go through the
same checks and producer as ``/v1/{system}/events/batch`` (Avro validation naming the field,
idempotent publish, ``202`` only after the broker's acknowledgement). An EPCIS event is taken
whole or not at all: when one of its tracesync events is invalid none of them is published. The
key of the ``EPCIS`` entry in the API keys may publish the events of every system (a plant's
EPCIS repository speaks for all of them); a source system's own key only that system's events,
the others are refused with 403.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from producers.epcis import EpcisDocumentError, Mapped, Unmapped, map_document
from producers.rest.auth import API_KEY_HEADER, ApiKeys
from producers.rest.bodies import ERRORS, AcceptedEvent, FieldProblem
from producers.rest.events import Prepared, Rejected, RestIngest
from producers.rest.limits import batch_status, parse_json, read_limited_body
from producers.rest.problems import RequestRefusedError
from tracesync.gs1.identifiers import Identifiers
from tracesync.settings import IngestSettings

CAPTURE_ALL = "EPCIS"


class CapturedEvent(BaseModel):
    """An EPCIS event whose tracesync events the broker all acknowledged."""

    index: int = Field(description="position in `epcisBody.eventList`")
    epcis_event_id: str = Field(description="its eventID (the event hash when it had none)")
    events: list[AcceptedEvent] = Field(description="the tracesync events it became")


class RefusedEvent(BaseModel):
    """An EPCIS event not (or not wholly) captured, and why."""

    index: int = Field(description="position in `epcisBody.eventList`")
    epcis_event_id: str | None = Field(description="its eventID, when it had one")
    status: int = Field(description="403, 422, or 503 when the broker did not acknowledge")
    errors: list[FieldProblem] = Field(description="each offending field with the reason")


class CaptureResult(BaseModel):
    """Every EPCIS event of the document is either captured or refused."""

    captured: list[CapturedEvent]
    refused: list[RefusedEvent]


def _refused(
    index: int, epcis_id: str | None, status: int, problems: Sequence[tuple[str, str]]
) -> RefusedEvent:
    errors = [FieldProblem(field=f, reason=r) for f, r in problems]
    return RefusedEvent(index=index, epcis_event_id=epcis_id, status=status, errors=errors)


def _prepare(
    ingest: RestIngest, outcome: Mapped, owner: str
) -> tuple[list[Prepared], RefusedEvent | None]:
    prepared: list[Prepared] = []
    where = f"epcisBody.eventList[{outcome.index}]"
    for envelope in outcome.envelopes:
        system = envelope["source_system"] if owner == CAPTURE_ALL else owner
        checked = ingest.prepare(outcome.index, envelope, system)
        if isinstance(checked, Rejected):
            kind = envelope["event_type"]
            problems = [(f"{where} -> {kind}.{f}", r) for f, r in checked.problems]
            return [], _refused(outcome.index, outcome.epcis_event_id, checked.status, problems)
        prepared.append(checked)
    return prepared, None


def epcis_router(
    ingest: RestIngest, keys: ApiKeys, limits: IngestSettings, ids: Identifiers, plant: str
) -> APIRouter:
    """The capture endpoint."""
    router = APIRouter(tags=["EPCIS"])

    @router.post(
        "/v1/epcis/capture",
        status_code=202,
        response_model=CaptureResult,
        responses={**ERRORS, 422: {"model": CaptureResult, "description": "Nothing captured."}},
        summary="Capture an EPCIS 2.0 document",
    )
    async def capture(
        request: Request, api_key: str | None = Security(API_KEY_HEADER)
    ) -> JSONResponse:
        """Map each ObjectEvent (receiving, shipping, inspecting, holding) and
        TransformationEvent onto tracesync events and publish them; `202` once the broker
        acknowledged them, with every refused EPCIS event and its fields in `refused`."""
        owner = keys.system_of(api_key)
        if owner is None:
            raise RequestRefusedError(401, "missing or unknown API key (header X-API-Key)")
        document = parse_json(await read_limited_body(request, limits.max_body_bytes))
        try:
            outcomes = map_document(document, ids, plant)
        except EpcisDocumentError as exc:
            raise RequestRefusedError(422, "not an EPCIS 2.0 document", exc.problems) from exc
        captured: list[CapturedEvent] = []
        refused: list[RefusedEvent] = []
        for outcome in outcomes:
            if isinstance(outcome, Unmapped):
                refused.append(
                    _refused(outcome.index, outcome.epcis_event_id, 422, outcome.problems)
                )
                continue
            prepared, problem = _prepare(ingest, outcome, owner)
            if problem is not None:
                refused.append(problem)
                continue
            settled = await ingest.publish(prepared)
            failed = [s for s in settled if isinstance(s, Rejected)]
            if failed:
                problems = [p for f in failed for p in f.problems]
                refused.append(_refused(outcome.index, outcome.epcis_event_id, 503, problems))
                continue
            accepted = [s for s in settled if isinstance(s, AcceptedEvent)]
            captured.append(
                CapturedEvent(
                    index=outcome.index, epcis_event_id=outcome.epcis_event_id, events=accepted
                )
            )
        result = CaptureResult(captured=captured, refused=refused)
        status = batch_status(len(captured), refused)
        return JSONResponse(result.model_dump(mode="json"), status_code=status)

    return router
