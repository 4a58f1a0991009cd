"""End to end: ``tracesync demo`` as an operator runs it, against the session's broker and registry.

The demo is a subprocess with its own ingest port and home; it must exit 0, print its three
answers each saying it matches the oracle, show its recovery (the store deleted, rebuilt and
verified, each step printed), and leave no process behind. The test then opens the
trace store the demo wrote and checks it on its own against a fresh simulation of the same plant:
every chain equals the oracle and the reconciliation list is the oracle's list of discrepancies.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from sinks.store import schema
from tests.fixtures.kafka import KafkaBroker
from tracesync.devtools.demo.run import DEMO_RATES
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches

pytestmark = pytest.mark.e2e

TRACESYNC = str(Path(sys.executable).parent / "tracesync")
INGEST_PORT = 28120
BATCHES, SEED = 40, 11
ANSWERS = (
    "Reconciliation: where MES, WMS and ERP disagree",
    "Customer complaint: backward trace from a trace code",
    "Recall: forward trace from a raw-material lot",
)
MATCHES = "=> matches the simulator's oracle"
RECOVERY = "recovery: the trace store is lost, rebuilt and verified"


def _demo_env(kafka: KafkaBroker, registry: Any, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACESYNC_")}
    env |= {
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "TRACESYNC_REGISTRY__PORT": str(registry.settings.registry.port),
        "TRACESYNC_INGEST__PORT": str(INGEST_PORT),
        "TRACESYNC_HOME": str(home),
    }
    return env


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def _stored(store_url: str) -> tuple[dict[str, Any], dict[str, tuple[Any, ...]]]:
    engine = create_engine(store_url)
    b = schema.batches
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    b.c.batch_code,
                    b.c.chain,
                    b.c.reconciliation_status,
                    b.c.mes_quantity,
                    b.c.wms_quantity,
                    b.c.erp_quantity,
                )
            ).all()
    finally:
        engine.dispose()
    chains = {r.batch_code: r.chain for r in rows}
    flagged = {
        r.batch_code: (r.reconciliation_status, r.mes_quantity, r.wms_quantity, r.erp_quantity)
        for r in rows
        if r.reconciliation_status in ("MISMATCH", "MISSING_SIDE")
    }
    return chains, flagged


def _qty(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@pytest.mark.parametrize("engine", [None, "faust"], ids=["default-engine", "faust"])
def test_demo_answers_match_the_oracle(
    engine: str | None, kafka_broker: KafkaBroker, schema_registry: Any, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    args = ["demo", "--batches", str(BATCHES), "--seed", str(SEED), "--timeout", "300"]
    args += ["--engine", engine] if engine else []
    done = subprocess.run(
        [TRACESYNC, *args],
        env=_demo_env(kafka_broker, schema_registry, home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = done.stdout
    tail = f"\n--- stdout (tail):\n{out[-6000:]}\n--- stderr (tail):\n{done.stderr[-3000:]}"
    assert done.returncode == 0, tail
    sections = out.split("\n== ")
    for title in ANSWERS:
        section = next((s for s in sections if s.startswith(title)), None)
        assert section is not None, f"no answer {title!r}{tail}"
        assert MATCHES in section, f"{title}: does not say it matches the oracle{tail}"
    assert "DIFFERS" not in out
    recovery = next((s for s in sections if s.startswith(RECOVERY)), None)
    assert recovery is not None, f"no recovery section{tail}"
    assert "stopped the store sink and deleted the trace store" in recovery, tail
    assert "$ tracesync store rebuild" in recovery and "previous content kept as" in recovery, tail
    assert "$ tracesync verify" in recovery and "verdict: OK" in recovery, tail
    assert "=> recovered: OK" in recovery, tail
    assert f"worker on the {engine or 'quix'} engine" in out, tail
    assert "answered 422" in out and "payload.planned_quantity.value" in out, tail
    assert "payload.quantity.value" in out, "the CSV error report names the bad field" + tail

    (run_folder,) = (home / "demo").iterdir()
    assert not _processes_mentioning(str(run_folder)), "the demo left processes running"
    exports = run_folder / "exports"
    written = sorted(p.name for p in exports.iterdir())
    assert "fsma204.xlsx" in written and "epcis.jsonld" in written, written
    reports = [p for p in exports.iterdir() if p.suffix == ".pdf"]
    assert len(reports) == 1 and reports[0].read_bytes().startswith(b"%PDF"), written
    assert str(exports / "fsma204.xlsx") in out, tail
    sim = simulate(SimulationConfig(batches=BATCHES, seed=SEED, rates=DEMO_RATES))
    chains, flagged = _stored(f"sqlite:///{run_folder / 'trace.db'}")
    assert mismatches(sim.oracle, chains) == {}
    expected = {
        code: (r.status, r.mes_quantity, r.wms_quantity, r.erp_quantity)
        for code, r in sim.oracle.discrepancies().items()
    }
    got = {
        code: (status, _qty(mes), _qty(wms), _qty(erp))
        for code, (status, mes, wms, erp) in flagged.items()
    }
    assert expected, "the demo's faults must produce discrepancies to reconcile"
    assert got == expected
