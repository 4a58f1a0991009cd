"""The bench's parts: the CLI's list is the session's, and --only / --skip choose among them."""

from __future__ import annotations

from click.testing import CliRunner

from tracesync.cli import main
from tracesync.commands.bench import PARTS as CLI_PARTS
from tracesync.devtools.bench.session import PARTS, choose_parts, peak_rss


def test_the_cli_offers_the_sessions_parts_in_order() -> None:
    assert CLI_PARTS == PARTS


def test_only_and_skip_choose_the_parts() -> None:
    assert choose_parts((), (), 100) == frozenset(PARTS)
    assert choose_parts(("store", "rest"), ("rest",), 100) == {"store"}
    assert choose_parts((), ("rest", "store"), 0) == set(PARTS) - {"rest", "store", "worker"}


def test_an_unknown_part_is_refused_by_name() -> None:
    result = CliRunner().invoke(main, ["bench", "--only", "nothing"])
    assert result.exit_code == 2
    assert "--only" in result.output and "nothing" in result.output


def test_peak_memory_is_the_peak_of_each_component_over_the_parts() -> None:
    measured = {
        "throughput": {"peak_rss_mib": {"worker": 300.0, "sink-store": 150.0}},
        "latency": {"peak_rss_mib": {"worker": 320.5, "sink-store": 120.0}},
        "rest": {"server_peak_rss_mib": 90.0},
    }
    peaks = peak_rss(measured)
    assert peaks["worker"] == 320.5 and peaks["sink-store"] == 150.0
    assert peaks["ingest-api"] == 90.0 and peaks["bench"] > 0
