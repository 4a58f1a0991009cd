"""Dead letters: what the ``dlq.*`` topics hold (reason, stage, origin), and redriving them.

``GET /v1/dead-letters?stage=…`` lists a stage's dead-letter topic (all three without ``stage``)
newest first, paged, with the ``dlq.*`` headers of :mod:`tracesync.deadletter` and whether the
redrive group has yet to examine each record. ``POST /v1/dead-letters/{stage}/redrive`` (role
``operator``) runs :func:`ops.redrive.redrive` with the CLI's default group, so the console and
``tracesync dlq redrive`` share one position. ``/dead-letters`` is the console's page of the same,
with a re-drive button for operators.

Each request reads the topics from the start (dead-letter topics are small and kept 30 days).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import RedirectResponse

from ops.redrive import (
    RedriveFilter,
    StoredDeadLetter,
    read_dead_letters,
    redrive,
    redrive_group,
)
from serve.auth import Caller, requires
from serve.deps import Paging
from serve.pages import caller_or_refusal, page
from serve.pipeline import Pipeline
from serve.reads import Page
from tracesync.errors import TracesyncError
from tracesync.publisher import KafkaPublisher

router = APIRouter()


def _pipeline(request: Request) -> Pipeline:
    found: Pipeline | None = request.app.state.pipeline
    if found is None:
        raise HTTPException(503, "this console is not connected to Kafka: no dead letters")
    return found


def _topics(pipeline: Pipeline, stage: str | None) -> dict[str, str]:
    if stage is None:
        return dict(pipeline.dead_letter_topics)
    if stage not in pipeline.dead_letter_topics:
        known = ", ".join(pipeline.dead_letter_topics)
        raise HTTPException(422, f"stage: {stage!r} is not one of {known}")
    return {stage: pipeline.dead_letter_topics[stage]}


def _item(stage: str, topic: str, letter: StoredDeadLetter) -> dict[str, Any]:
    info = letter.info
    return {
        "dead_letter_stage": stage,
        "topic": topic,
        "partition": letter.partition,
        "offset": letter.offset,
        "dead_lettered_at": datetime.fromtimestamp(letter.timestamp_ms / 1000, UTC).isoformat(),
        "key": letter.key.decode("utf-8", "replace"),
        "reason": info.reason,
        "stage": info.stage,
        "origin": info.origin(),
        "origin_topic": info.topic,
        "redriven": info.redriven,
        "headers": dict(info.extra),
        "value_bytes": letter.value_bytes,
        "pending": letter.pending,
    }


def list_dead_letters(pipeline: Pipeline, stage: str | None, paging: Page) -> dict[str, Any]:
    """The dead letters of one stage (or all), newest first, one page, with per-topic counts."""
    items: list[dict[str, Any]] = []
    summary = []
    for name, topic in _topics(pipeline, stage).items():
        try:
            letters = read_dead_letters(pipeline.kafka, topic, redrive_group(topic))
        except TracesyncError as exc:
            raise HTTPException(503, f"cannot read {topic}: {exc}") from exc
        pending = sum(letter.pending for letter in letters)
        summary.append({"stage": name, "topic": topic, "count": len(letters), "pending": pending})
        items.extend(_item(name, topic, letter) for letter in letters)
    items.sort(key=lambda i: (i["dead_lettered_at"], i["offset"]), reverse=True)
    window = items[paging.offset : paging.offset + paging.limit]
    return {
        "topics": summary,
        "total": len(items),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": window,
    }


def redrive_stage(
    pipeline: Pipeline, stage: str, reason_contains: str | None, limit: int | None
) -> dict[str, Any]:
    """Redrive a stage's pending dead letters to their origin (:func:`ops.redrive.redrive`)."""
    topic = _topics(pipeline, stage)[stage]
    wanted = RedriveFilter(reason_contains=reason_contains or None, limit=limit)
    publisher = KafkaPublisher(pipeline.kafka, pipeline.producer)
    try:
        report = redrive(
            pipeline.kafka, publisher, topic, group=redrive_group(topic), wanted=wanted
        )
    except TracesyncError as exc:
        raise HTTPException(503, f"cannot redrive {topic}: {exc}") from exc
    finally:
        publisher.close()
    answer = asdict(report)
    answer["to_topics"] = dict(report.to_topics)
    return {"stage": stage, "topic": topic, **answer}


@router.get("/v1/dead-letters", dependencies=[Depends(requires("read"))])
def get_dead_letters(
    pipeline: Annotated[Pipeline, Depends(_pipeline)], paging: Paging, stage: str | None = None
) -> Any:
    """Dead letters with reason, stage and origin, newest first (``?stage=streams`` for one)."""
    return list_dead_letters(pipeline, stage, paging)


@router.post("/v1/dead-letters/{stage}/redrive", dependencies=[Depends(requires("redrive"))])
def post_redrive(
    stage: str,
    pipeline: Annotated[Pipeline, Depends(_pipeline)],
    reason_contains: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """Send the stage's pending dead letters back to their origin topic (role ``operator``)."""
    return redrive_stage(pipeline, stage, reason_contains, limit)


def _list_page(
    request: Request, caller: Caller, stage: str | None, offset: int, redriven: int | None
) -> Response:
    pipeline: Pipeline | None = request.app.state.pipeline
    if pipeline is None:
        return page("dead_letters.html.j2", 503, listing=None, problem="not connected to Kafka")
    paging = Page(request.app.state.serve.page_limit, offset)
    try:
        listing = list_dead_letters(pipeline, stage, paging)
    except HTTPException as exc:
        return page("dead_letters.html.j2", exc.status_code, listing=None, problem=exc.detail)
    return page(
        "dead_letters.html.j2",
        listing=listing,
        stage=stage,
        stages=list(pipeline.dead_letter_topics),
        operator=caller.role == "operator",
        redriven=redriven,
    )


@router.get("/dead-letters", include_in_schema=False)
def dead_letters_page(
    request: Request,
    stage: str | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    redriven: int | None = None,
) -> Response:
    """The dead letters, newest first, with a re-drive button for operators."""
    caller = caller_or_refusal(request)
    if isinstance(caller, Response):
        return caller
    return _list_page(request, caller, stage or None, offset, redriven)


@router.post("/dead-letters/{stage}/redrive", include_in_schema=False)
def redrive_page(request: Request, stage: str) -> Response:
    """The re-drive button: redrive the stage's pending dead letters, then show the list."""
    caller = caller_or_refusal(request, "redrive")
    if isinstance(caller, Response):
        return caller
    pipeline: Pipeline | None = request.app.state.pipeline
    if pipeline is None:
        return page("dead_letters.html.j2", 503, listing=None, problem="not connected to Kafka")
    try:
        done = redrive_stage(pipeline, stage, None, None)
    except HTTPException as exc:
        return page("dead_letters.html.j2", exc.status_code, listing=None, problem=exc.detail)
    # after the POST, a GET: reloading the page must not redrive again
    query = urlencode({"stage": stage, "redriven": done["redriven"]})
    return RedirectResponse(f"/dead-letters?{query}", status_code=303)
