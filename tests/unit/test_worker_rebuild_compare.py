"""The pure parts of ``tracesync worker rebuild``: the chain comparison and its verdict, which
differences a cutover may publish, the rebuild's names and topics, and what the demo prints to
open the console with ``--keep-running``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ops.chain_compare import ChainDifference, compare_chains
from ops.chain_topic import TopicSnapshot
from ops.rebuild_worker import rebuild_app_id, rebuild_settings
from ops.worker_cutover import live_worker_env
from streams.bootstrap import prefixed_worker_catalog, worker_topics
from tracesync.apikeys import hash_key
from tracesync.devtools.demo.console import console_lines
from tracesync.settings import Settings

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _chain(code: str, version: int, quantity: str = "10") -> dict[str, Any]:
    return {"batch_code": code, "version": version, "qty": Decimal(quantity), "at": AT}


def _snapshot(*chains: dict[str, Any]) -> TopicSnapshot:
    return TopicSnapshot(latest={str(c["batch_code"]): c for c in chains})


def test_equal_topics_verify() -> None:
    live = _snapshot(_chain("A", 2), _chain("B", 1))
    rebuilt = _snapshot(_chain("A", 2), _chain("B", 1))
    report = compare_chains(live, rebuilt, "trace.chain", "x.trace.chain")
    assert report.ok and report.equal == 2
    assert report.lines()[-1] == "verdict: OK"


def test_each_difference_is_named_and_only_ahead_ones_are_safe() -> None:
    live = _snapshot(_chain("MISS", 1), _chain("OLD", 3), _chain("NEW", 1), _chain("HASH", 2))
    rebuilt = _snapshot(
        _chain("OLD", 2), _chain("NEW", 4), _chain("HASH", 2, "11"), _chain("ONLY", 1)
    )
    report = compare_chains(live, rebuilt, "trace.chain", "x.trace.chain")
    kinds = {f.batch_code: f.kind for f in report.findings}
    assert kinds == {
        "MISS": ChainDifference.MISSING,
        "OLD": ChainDifference.OLDER,
        "NEW": ChainDifference.NEWER,
        "HASH": ChainDifference.CONTENT,
        "ONLY": ChainDifference.EXTRA,
    }
    assert not report.ok and report.lines()[-1] == "verdict: DIFFERENT"
    assert sorted(report.ahead()) == ["NEW", "ONLY"]
    assert sorted(f.batch_code for f in report.unsafe()) == ["HASH", "MISS", "OLD"]
    assert "HASH: same version, different content (live v2, rebuilt v2)" in "\n".join(
        report.lines()
    )


def test_undecodable_records_fail_the_verdict() -> None:
    live = TopicSnapshot(latest={}, undecodable=["t[0]@3: ValueError: bad"])
    report = compare_chains(live, _snapshot(), "trace.chain", "x.trace.chain")
    assert not report.ok and report.counts()["undecodable records"] == 1


def test_a_rebuild_writes_only_its_own_topics_and_cutover_keeps_its_internal_ones() -> None:
    live = Settings(topic_prefix="p.", worker={"app_id": "w"})
    app_id = rebuild_app_id("w-rebuild-20261201000000", datetime(2026, 12, 2, 1, 2, 3, tzinfo=UTC))
    assert app_id == "w-rebuild-20261202010203"
    rebuilt = rebuild_settings(live, app_id)
    topics, live_topics = worker_topics(rebuilt), worker_topics(live)
    assert topics.sources == live_topics.sources
    assert topics.chain == f"p.{app_id}.trace.chain" and live_topics.chain == "p.trace.chain"
    assert topics.derived == f"p.{app_id}.trace.derived"
    assert {spec.name for spec in prefixed_worker_catalog(rebuilt)} == {
        f"p.{app_id}.{name}"
        for name in (
            "trace.chain",
            "trace.alerts",
            "dlq.streams",
            "trace.derived",
            "trace.genealogy",
        )
    }
    assert not prefixed_worker_catalog(live).topics
    env = live_worker_env(rebuilt)
    cut_over = Settings(
        topic_prefix="p.",
        worker={"app_id": env["TRACESYNC_WORKER__APP_ID"], "internal_prefix": f"{app_id}."},
    )
    assert worker_topics(cut_over).chain == "p.trace.chain"
    assert worker_topics(cut_over).derived == topics.derived


def test_the_demo_prints_the_console_url_and_a_viewer_key() -> None:
    demo = Settings(demo_keys=True, serve={"host": "127.0.0.1", "port": 18091})
    lines = "\n".join(console_lines(demo))
    assert "console: http://127.0.0.1:18091/" in lines
    assert "viewer API key: dev-viewer-key" in lines
    assert "X-API-Key" in lines
    hashed = {"alice": {"key": hash_key("secret"), "role": "viewer"}}
    only_hashes = Settings(demo_keys=False, serve={"api_keys": hashed})
    assert "log in with a viewer key" in "\n".join(console_lines(only_hashes))
