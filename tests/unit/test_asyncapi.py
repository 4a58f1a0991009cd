"""docs/asyncapi.yaml: current with the catalog and the schemas, valid AsyncAPI 3.0, complete.

The AsyncAPI JSON Schema comes from npm's ``@asyncapi/specs`` (deploy/asyncapi, installed by
``make deps``); its definitions refer to each other by ``$id``, so they are loaded into a
``referencing`` registry and the document is validated with ``jsonschema``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.slot import REPO_ROOT
from tracesync.cli import main
from tracesync.contracts import asyncapi
from tracesync.deadletter import CONVENTION
from tracesync.topics import PUBLIC_ROLES, TopicCatalog

SPECS = REPO_ROOT / "deploy" / "asyncapi" / "node_modules" / "@asyncapi" / "specs" / "schemas"


@cache
def _validator() -> jsonschema.Draft7Validator:
    path = SPECS / "3.0.0.json"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make deps` (npm ci in deploy/asyncapi)")
    schema = json.loads(path.read_text(encoding="utf-8"))
    resources = [
        (uri, Resource.from_contents(contents, default_specification=DRAFT7))
        for uri, contents in schema["definitions"].items()
    ]
    registry: Registry[Any] = Registry().with_resources(resources)
    return jsonschema.Draft7Validator(schema, registry=registry)


def _committed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(asyncapi.DOC_PATH.read_text(encoding="utf-8"))
    return loaded


def _errors(doc: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _validator().iter_errors(doc)
    ]


def test_the_committed_document_is_current() -> None:
    assert asyncapi.is_current(), "docs/asyncapi.yaml is stale: run `tracesync topics docs`"


def test_the_document_is_valid_asyncapi_3() -> None:
    assert _committed()["asyncapi"] == "3.0.0"
    assert _errors(_committed()) == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("operations", "workerReceiveMesEvents", "action"), "subscribe"),  # AsyncAPI 2 verb
        (("channels", "traceChain", "bindings", "kafka", "partitions"), 0),
        (
            ("channels", "traceChain", "bindings", "kafka", "topicConfiguration", "cleanup.policy"),
            ["compacted"],
        ),
    ],
)
def test_the_validator_refuses_a_broken_document(path: tuple[str, ...], value: Any) -> None:
    doc = copy.deepcopy(_committed())
    node = doc
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    assert _errors(doc), f"a document with {'/'.join(path)}={value!r} passed validation"


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for step in ref[2:].split("/"):
        node = node[step]
    return node


def test_every_topic_is_a_channel_with_its_layout() -> None:
    doc = _committed()
    by_address = {c["address"]: c for c in doc["channels"].values()}
    for spec in TopicCatalog.build():
        channel = by_address[spec.name]
        kafka = channel["bindings"]["kafka"]
        assert kafka["partitions"] == spec.partitions
        assert kafka["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy]
        assert kafka["topicConfiguration"].get("retention.ms") == spec.retention_ms
        assert f"Key: {spec.key}." in channel["description"]
        (message_ref,) = channel["messages"].values()
        message = _resolve(doc, message_ref["$ref"])
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
        assert ("tags" in channel) == (spec.role in PUBLIC_ROLES)


def test_avro_messages_refer_to_existing_schema_files() -> None:
    doc = _committed()
    avro = {"Envelope", "TraceChain", "Alert", "FileReceipt"}
    for name in avro:
        payload = doc["components"]["messages"][name]["payload"]
        assert payload["schemaFormat"].startswith("application/vnd.apache.avro")
        target = (asyncapi.DOC_PATH.parent / payload["schema"]["$ref"]).resolve()
        assert target == (REPO_ROOT / "avro" / f"{name}.avsc").resolve()
        assert target.is_file()


def test_dead_letters_carry_the_header_convention() -> None:
    headers = _committed()["components"]["messages"]["DeadLetter"]["headers"]
    assert set(headers["properties"]) == {spec.name for spec in CONVENTION}
    assert headers["required"] == ["dlq.reason", "dlq.stage"]
    assert headers["properties"]["dlq.offset"]["pattern"] == "^-?[0-9]+$"


def test_operations_say_who_publishes_and_consumes_each_topic() -> None:
    doc = _committed()
    uses: set[tuple[str, str, str]] = set()
    for operation in doc["operations"].values():
        channel = _resolve(doc, operation["channel"]["$ref"])
        for message in operation["messages"]:
            assert _resolve(doc, message["$ref"]) in channel["messages"].values()
        uses.add((operation["tags"][0]["name"], operation["action"], channel["address"]))
    expected = {
        (c.value, action, spec.name)
        for spec in TopicCatalog.build()
        for action, components in (("send", spec.published_by), ("receive", spec.consumed_by))
        for c in components
    }
    assert uses == expected
    assert ("worker", "send", "trace.chain") in uses
    assert ("store-sink", "receive", "trace.chain") in uses
    assert ("ingest-files", "send", "ingest.receipts") in uses


def test_a_hand_edited_document_is_stale_until_regenerated(tmp_path: Path) -> None:
    copy_of = tmp_path / "asyncapi.yaml"
    copy_of.write_text(asyncapi.DOC_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert asyncapi.is_current(copy_of)
    copy_of.write_text(copy_of.read_text().replace("partitions: 6", "partitions: 12", 1))
    assert not asyncapi.is_current(copy_of)
    assert asyncapi.write(copy_of) is True
    assert asyncapi.is_current(copy_of)


def test_the_consumer_guide_names_the_public_topics_and_where_the_registry_is() -> None:
    guide = (REPO_ROOT / "docs" / "consumers.md").read_text(encoding="utf-8")
    for spec in TopicCatalog.build():
        if spec.role in PUBLIC_ROLES:
            assert f"`{spec.name}`" in guide, spec.name
            assert f"`{spec.value}`" in guide, spec.value
    registry = yaml.safe_load(asyncapi.render(asyncapi.document()))["servers"]["local"]
    assert registry["bindings"]["kafka"]["schemaRegistryUrl"] in guide
    assert registry["host"] in guide


def test_topics_docs_check_says_current_or_stale(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["topics", "docs", "--check"]).exit_code == 0
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text("asyncapi: 3.0.0\n")
    result = runner.invoke(main, ["topics", "docs", "--check", "--output", str(stale)])
    assert result.exit_code == 1
    assert "stale" in result.output
    assert runner.invoke(main, ["topics", "docs", "--output", str(stale)]).exit_code == 0
    assert asyncapi.is_current(stale)
