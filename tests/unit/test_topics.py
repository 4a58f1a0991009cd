"""The topic catalog and the plan comparing it with a broker's topics (no broker here)."""

from __future__ import annotations

from tracesync.settings import Settings
from tracesync.topics import TopicCatalog, TopicRole, TopicState, plan


def test_catalog_from_settings_uses_prefix_and_source_partitions() -> None:
    catalog = TopicCatalog.from_settings(Settings(topic_prefix="t1.", source_partitions=4))
    names = [spec.name for spec in catalog]
    assert names == [
        "t1.mes.events",
        "t1.erp.events",
        "t1.wms.events",
        "t1.qms.events",
        "t1.trace.chain",
        "t1.trace.alerts",
        "t1.trace.derived",
        "t1.trace.genealogy",
        "t1.ingest.receipts",
        "t1.dlq.ingest",
        "t1.dlq.streams",
        "t1.dlq.sinks",
    ]
    assert {s.partitions for s in catalog.by_role(TopicRole.SOURCE)} == {4}
    assert catalog.topic("trace.chain").cleanup_policy == "compact"
    assert catalog.topic("trace.chain").config() == {"cleanup.policy": "compact"}
    assert catalog.source_topic("QMS") == "t1.qms.events"
    assert catalog.dlq("sinks") == "t1.dlq.sinks"


def _as_wanted(catalog: TopicCatalog) -> dict[str, TopicState]:
    return {s.name: TopicState(s.partitions, s.cleanup_policy) for s in catalog}


def test_plan_creates_what_is_missing_and_nothing_else() -> None:
    catalog = TopicCatalog.build()
    existing = _as_wanted(catalog)
    del existing["dlq.sinks"]
    steps = plan(catalog, existing)
    assert [s.name for s in steps.create] == ["dlq.sinks"]
    assert steps.problems == ()
    assert plan(catalog, _as_wanted(catalog)).create == ()


def test_plan_refuses_source_topics_that_are_not_co_partitioned() -> None:
    catalog = TopicCatalog.build()
    steps = plan(
        catalog, {"mes.events": TopicState(3, "delete"), "erp.events": TopicState(6, "delete")}
    )
    text = "\n".join(steps.problems)
    assert "not co-partitioned (erp.events=6, mes.events=3" in text
    assert "TRACESYNC_SOURCE_PARTITIONS" in text
    assert "topic mes.events has 3 partitions, the catalog wants 6" in text


def test_plan_refuses_a_chain_topic_that_is_not_compacted() -> None:
    catalog = TopicCatalog.build()
    existing = _as_wanted(catalog) | {"trace.chain": TopicState(6, "delete")}
    (problem,) = plan(catalog, existing).problems
    assert "trace.chain has cleanup.policy=delete" in problem
    assert "cleanup.policy=compact" in problem
