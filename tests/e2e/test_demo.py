"""End to end: ``tracesync demo`` as an operator runs it, against the session's broker and registry.

The demo is a subprocess with its own ingest port and home; it must exit 0, print its three
answers each saying it matches the oracle, show its recovery (the store deleted, rebuilt and
verified, each step printed), and leave no process behind; with ``--keep-running`` (the faust
run) the console it leaves running answers with the viewer key it printed, and the test stops
the processes the demo listed. The test then opens the
trace store the demo wrote and checks it on its own against a fresh simulation of the same plant:
every chain equals the oracle and the reconciliation list is the oracle's list of discrepancies.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, select

from sinks.store import schema
from tests.fixtures.kafka import KafkaBroker
from tests.slot import free_port
from tracesync.devtools.demo.run import DEMO_RATES
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches

pytestmark = pytest.mark.e2e

TRACESYNC = str(Path(sys.executable).parent / "tracesync")
INGEST_PORT = free_port()
SERVE_PORT = free_port()
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
        "TRACESYNC_SERVE__PORT": str(SERVE_PORT),
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


def _left_running(out: str) -> list[int]:
    """The pids ``--keep-running`` printed ("  <name> pid <pid>")."""
    return [int(line.split(" pid ")[1]) for line in out.splitlines() if " pid " in line]


def _stop(pids: list[int]) -> None:
    for pid in pids:  # each component leads its own process group (supervise.Component)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.5)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def _check_console(out: str, tail: str) -> None:
    """The console the demo left running answers with the viewer key it printed."""
    line = next((x for x in out.splitlines() if "console: http" in x), None)
    assert line is not None and "viewer API key: " in line, f"no console line{tail}"
    url = line.split("console: ")[1].split()[0]
    key = line.split("viewer API key: ")[1].rstrip(")")
    sim = simulate(SimulationConfig(batches=BATCHES, seed=SEED, rates=DEMO_RATES))
    code = next(iter(sim.oracle.chains))
    answer = httpx.get(f"{url}v1/batches/{code}", headers={"X-API-Key": key}, timeout=10)
    assert answer.status_code == 200 and code in answer.text, answer.text
    with httpx.Client(base_url=url, timeout=10) as browser:
        logged_in = browser.post("/login", data={"key": key})
        assert logged_in.status_code == 303, logged_in.text
        page = browser.get("/")
        assert page.status_code == 200 and "<h1>Log in</h1>" not in page.text, page.text
    assert httpx.get(f"{url}v1/batches/{code}", timeout=10).status_code == 401


@pytest.mark.parametrize(
    ("engine", "keep_running"),
    [(None, False), ("faust", True)],
    ids=["default-engine", "faust-keep-running"],
)
def test_demo_answers_match_the_oracle(
    engine: str | None,
    keep_running: bool,
    kafka_broker: KafkaBroker,
    schema_registry: Any,
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    args = ["demo", "--batches", str(BATCHES), "--seed", str(SEED), "--timeout", "300"]
    args += ["--engine", engine] if engine else []
    args += ["--keep-running"] if keep_running else []
    done = subprocess.run(
        [TRACESYNC, *args],
        env=_demo_env(kafka_broker, schema_registry, home),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = done.stdout
    left = _left_running(out) if keep_running else []
    try:
        _check_demo(engine, home, out, done, keep_running)
    finally:
        _stop(left)


def _check_demo(
    engine: str | None,
    home: Path,
    out: str,
    done: subprocess.CompletedProcess[str],
    keep_running: bool,
) -> None:
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
    if keep_running:
        _check_console(out, tail)
    else:
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
