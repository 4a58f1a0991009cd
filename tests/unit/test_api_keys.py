"""API keys: none by default outside the demo, stored as hashes, rotated without a restart, and
never written to a log."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import HTTPException
from fastapi.testclient import TestClient
from pydantic import SecretStr

from producers.rest import RestIngest, create_app
from serve.auth import KeyRing as ServeKeyRing
from serve.auth import authenticate
from tests.rest_samples import mes_event
from tests.unit.test_rest_api import RecordingPublisher
from tracesync import apikeys, bootstrap
from tracesync.cli import main
from tracesync.errors import ConfigurationError
from tracesync.settings import IngestSettings, ServeKey, ServeSettings, Settings
from tracesync.topics import TopicCatalog

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)
OLD, NEW = apikeys.new_key(), apikeys.new_key()


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings as outside the demo: the tests' demo keys switched off."""
    monkeypatch.delenv("TRACESYNC_DEMO_KEYS", raising=False)


def _client(settings: Settings, publisher: RecordingPublisher) -> TestClient:
    serde = bootstrap.envelope_serde(
        Settings(registry={"enabled": False}), fastavro_validation=False
    )
    topics = TopicCatalog.from_settings(settings)
    ingest = RestIngest(publisher, serde, topics.source_topic, settings.plant, clock=lambda: NOW)
    return TestClient(create_app(settings, ingest))


def _keys_file(path: Path, *keys: tuple[str, str]) -> Path:
    entries = [
        f'[[key]]\nname = "{name}"\nhash = "{apikeys.hash_key(key)}"\n' for name, key in keys
    ]
    path.write_text("\n".join(entries))
    return path


@pytest.mark.usefixtures("production")
def test_outside_the_demo_there_is_no_default_key_and_nothing_starts_without_one() -> None:
    settings = Settings()
    assert settings.ingest.api_keys == {} and settings.serve.api_keys == {}
    with pytest.raises(ConfigurationError, match="no API keys configured"):
        _client(settings, RecordingPublisher())
    with pytest.raises(ConfigurationError, match="no API keys configured"):
        ServeKeyRing(settings.serve)


@pytest.mark.usefixtures("production")
def test_a_hashed_key_admits_its_key_and_not_its_hash() -> None:
    publisher = RecordingPublisher()
    digest = apikeys.hash_key(OLD)
    settings = Settings(ingest=IngestSettings(api_keys={"MES": SecretStr(digest)}))
    with _client(settings, publisher) as client:
        ok = client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": OLD})
        by_hash = client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": digest})
        demo = client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": "dev-mes-key"})
    assert ok.status_code == 202, ok.text
    assert (by_hash.status_code, demo.status_code) == (401, 401)
    assert len(publisher.records) == 1


@pytest.mark.usefixtures("production")
def test_keys_rotate_through_the_keys_file_without_a_restart(tmp_path: Path) -> None:
    clock = [0.0]
    keys_file = _keys_file(tmp_path / "keys.toml", ("MES", OLD))
    ring = apikeys.KeyRing([], keys_file, clock=lambda: clock[0])
    assert ring.match(OLD) is not None and ring.match(NEW) is None
    _keys_file(keys_file, ("MES", OLD), ("MES", NEW))  # rotation: both for a while
    clock[0] += 1.5
    assert ring.match(OLD) is not None and ring.match(NEW) is not None
    _keys_file(keys_file, ("MES", NEW))  # the old one revoked
    clock[0] += 1.5
    assert ring.match(OLD) is None and ring.match(NEW) is not None
    keys_file.write_text("[[key]]\nname = 1\n")  # a broken edit keeps the keys in effect
    clock[0] += 1.5
    assert ring.match(NEW) is not None


@pytest.mark.usefixtures("production")
def test_the_rest_ingest_picks_up_a_rotated_key_while_running(tmp_path: Path) -> None:
    keys_file = _keys_file(tmp_path / "keys.toml", ("MES", OLD))
    settings = Settings(ingest=IngestSettings(api_keys_file=keys_file))
    with _client(settings, RecordingPublisher()) as client:
        before = client.post("/v1/mes/events", json=mes_event("B-1"), headers={"X-API-Key": NEW})
        _keys_file(keys_file, ("MES", NEW))
        answers = []
        for attempt in range(40):  # the file is checked at most once a second
            response = client.post(
                "/v1/mes/events", json=mes_event(f"B-{attempt}"), headers={"X-API-Key": NEW}
            )
            answers.append(response.status_code)
            if response.status_code == 202:
                break
            _wait(0.1)
        old = client.post("/v1/mes/events", json=mes_event("B-2"), headers={"X-API-Key": OLD})
    assert before.status_code == 401
    assert answers[-1] == 202, answers
    assert old.status_code == 401


def _wait(seconds: float) -> None:
    import time  # noqa: PLC0415 - only this polling helper sleeps

    time.sleep(seconds)


@pytest.mark.usefixtures("production")
def test_serve_keys_are_hashed_and_carry_their_role() -> None:
    settings = ServeSettings(
        api_keys={"auditor": ServeKey(key=SecretStr(apikeys.hash_key(OLD)), role="compliance")}
    )
    ring = ServeKeyRing(settings)
    assert authenticate(ring, OLD, "export").role == "compliance"
    with pytest.raises(HTTPException) as refused:
        authenticate(ring, apikeys.hash_key(OLD), "read")
    assert refused.value.status_code == 401


def test_a_malformed_hash_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigurationError, match="'MES'"):
        apikeys.entry("MES", "sha256:abc")


def test_keys_new_and_hash_print_matching_values() -> None:
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "new", "MES"])
    assert made.exit_code == 0, made.output
    key = made.output.split("key:")[1].split()[0]
    digest = made.output.split("hash:")[1].split()[0]
    assert digest == apikeys.hash_key(key)
    hashed = runner.invoke(main, ["keys", "hash"], input=key + "\n")
    assert hashed.output.strip() == digest and key not in hashed.output


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


@pytest.mark.usefixtures("production")
def test_no_key_is_logged(tmp_path: Path, all_logs: pytest.LogCaptureFixture) -> None:
    plain = apikeys.new_key()
    keys_file = _keys_file(tmp_path / "keys.toml", ("ERP", NEW))
    settings = Settings(
        ingest=IngestSettings(api_keys={"MES": SecretStr(plain)}, api_keys_file=keys_file)
    )
    with _client(settings, RecordingPublisher()) as client:
        client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": plain})
        client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": NEW})
        client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": "wrong-key"})
    assert "stored as plain text" in all_logs.text  # a warning names the system, not the key
    for secret in (plain, NEW, "wrong-key", apikeys.hash_key(NEW)):
        assert secret not in all_logs.text
    assert plain not in repr(settings) and plain not in str(settings.model_dump())
