"""The faust engine waits out a registry outage on the buffer it holds instead of letting go of it.

Faust acks every event of a take buffer when the agent leaves it, also by an exception; so the
processor's escaping InfrastructureError (a good record whose schema the registry cannot give
now, issue 15's fault runs) would commit the buffer unprocessed. The engine retries the buffer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from streams.engines.faust import process_when_decodable
from streams.processor import Incoming, StepResult
from tracesync.contracts.registry_client import RegistryError

RECORDS = [Incoming(b"B1", b"x", "mes.events", 0, 1)]


def test_the_buffer_is_processed_once_the_registry_answers_again() -> None:
    calls: list[int] = []
    waits: list[float] = []
    done = StepResult()

    def process(records: Sequence[Incoming]) -> StepResult:
        calls.append(len(records))
        if len(calls) < 3:
            raise RegistryError("registry at http://127.0.0.1:1 unreachable (get schema id 3)")
        return done

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert asyncio.run(process_when_decodable(process, RECORDS, sleep)) is done
    assert calls == [1, 1, 1]
    assert waits == [0.5, 1.0]


def test_other_errors_are_not_retried() -> None:
    def process(records: Sequence[Incoming]) -> StepResult:
        raise RuntimeError("a bug")

    async def sleep(seconds: float) -> None:
        raise AssertionError("no retry expected")

    with pytest.raises(RuntimeError):
        asyncio.run(process_when_decodable(process, RECORDS, sleep))
