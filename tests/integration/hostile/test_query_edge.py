"""Hostile queries to the real ``tracesync serve`` process and the ``tracesync trace`` command.

Codes that are SQL, a path, very long, or hold a NUL, a control or a bidi character; lists paged
with a negative or huge limit; a report in an unknown format; no key or a guessed key. Each is a
4xx (or, for the CLI, an exit status with a message and no traceback) naming what was asked;
the server stays up and keeps answering the batch the pipeline stored. (A NUL in a code was
answered 500 on PostgreSQL before ``serve/hostile.py``.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from tests.integration.hostile.conftest import SERVE_PORT, Pipeline
from tests.integration.test_worker_pipeline import Plant, publish
from tracesync.devtools.supervise import TRACESYNC, settings_env, wait_for

URL = f"http://127.0.0.1:{SERVE_PORT}"
VIEWER = {"X-API-Key": "dev-viewer-key"}
CODES = {
    "SQL in a code": "Q-1' OR '1'='1",
    "a path in a code": "../../../etc/passwd",
    "a very long code": "Q" * 20_000,
    "a NUL in a code": "Q-\x00-1",
    "a control character in a code": "Q-\x1b[31m-1",
    "a bidi override in a code": "Q-\u202e1",
}


@pytest.fixture(scope="module")
def serve(hostile_pipeline: Pipeline) -> Iterator[httpx.Client]:
    plant = Plant()
    plant.batch("Q-GOOD-1", "10", [])
    publish(hostile_pipeline.settings, plant.events)
    hostile_pipeline.wait_stored({"Q-GOOD-1"})
    server = hostile_pipeline.start(
        "serve", ["serve", "--host", "127.0.0.1", "--port", str(SERVE_PORT)]
    )

    def up() -> bool:
        try:
            return httpx.get(f"{URL}/v1/holds", headers=VIEWER, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    assert wait_for(up, 60, alive=[server]), server.log_tail()
    with httpx.Client(base_url=URL, headers=VIEWER, timeout=30) as client:
        yield client


@pytest.mark.parametrize("kind", sorted(CODES))
@pytest.mark.parametrize("route", ["/v1/batches/{}", "/v1/trace/{}", "/v1/recall/{}"])
def test_a_hostile_code_is_a_4xx_and_the_server_goes_on(
    serve: httpx.Client, hostile_pipeline: Pipeline, route: str, kind: str
) -> None:
    answer = serve.get(route.format(quote(CODES[kind], safe="")))
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert answer.json()["detail"], answer.text[:300]
    assert serve.get("/v1/batches/Q-GOOD-1").status_code == 200
    assert hostile_pipeline.components["serve"].alive()


@pytest.mark.parametrize(
    "query",
    [
        "/v1/reconciliation?limit=-1",
        "/v1/reconciliation?limit=abc",
        "/v1/holds?offset=x",
        "/v1/alerts?limit=1e3",
        "/v1/reports/Q-GOOD-1.exe",
        "/v1/reconciliation?status=MISMATCH%00",
    ],
)
def test_bad_parameters_are_a_4xx_naming_the_parameter(serve: httpx.Client, query: str) -> None:
    answer = serve.get(query)
    assert 400 <= answer.status_code < 500, answer.text[:300]
    assert answer.text


def test_no_key_and_a_guessed_key_are_refused(serve: httpx.Client) -> None:
    assert httpx.get(f"{URL}/v1/holds").status_code == 401
    assert httpx.get(f"{URL}/v1/holds", headers={"X-API-Key": "' OR 1=1"}).status_code == 401


@pytest.mark.parametrize("kind", ["SQL in a code", "a NUL in a code", "a bidi override in a code"])
def test_the_trace_cli_answers_a_hostile_code_without_a_traceback(
    hostile_pipeline: Pipeline, kind: str
) -> None:
    code = CODES[kind].replace("\x00", "\\0")  # argv cannot hold a NUL; the escaped text can
    done = subprocess.run(
        [TRACESYNC, "trace", code],
        env=settings_env(hostile_pipeline.settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "is not a batch, lot, trace code" in done.stderr, done.stderr
