"""The demo's recovery, shown once after the answers: the trace store is lost and restored.

The steps are the runbook's (docs/runbook.md, "The trace store is lost or corrupted"), run as
an operator would, as ``tracesync`` commands with the demo's settings: the store sink is
stopped and the store file deleted, ``tracesync store rebuild`` builds it again from the
compacted chain topic, ``tracesync verify`` compares it with the topic batch by batch, and the
store sink is started again. Each step and the commands' own output are printed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select

from sinks.store import schema
from tracesync.devtools.pipeline import LocalPipeline
from tracesync.devtools.supervise import TRACESYNC, settings_env
from tracesync.settings import Settings

Echo = Callable[[str], None]
SINK = "sink-store"


@dataclass(frozen=True)
class Step:
    """One command of the recovery, its exit code and output."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str


def _run(settings: Settings, *args: str) -> Step:
    done = subprocess.run(  # noqa: S603 - our own tracesync CLI, no shell
        [TRACESYNC, *args],
        env=os.environ | settings_env(settings),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Step(args, done.returncode, done.stdout.strip(), done.stderr.strip())


def _show(echo: Echo, step: Step) -> None:
    echo(f"$ tracesync {' '.join(step.args)}")
    progress = step.stderr.split("\r")[-1].strip()  # a progress bar's last state only
    for line in [progress, *step.stdout.splitlines()] if progress else step.stdout.splitlines():
        echo(f"  {line}")


def stored_batches(store_url: str) -> int:
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.batches)).scalar_one())
    finally:
        engine.dispose()


def _delete_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def show_recovery(echo: Echo, settings: Settings, pipeline: LocalPipeline, store: Path) -> bool:
    """Lose the store, rebuild it, verify it, restart its sink; True when it verifies."""
    before = stored_batches(settings.store_url)
    pipeline.components[SINK].stop()
    _delete_store(store)
    echo(f"stopped the store sink and deleted the trace store {store} ({before} batches in it)")
    rebuilt = _run(settings, "store", "rebuild")
    _show(echo, rebuilt)
    verified = _run(settings, "verify")
    _show(echo, verified)
    pipeline.start(SINK, ["sink", "store"])
    after = stored_batches(settings.store_url)
    echo(f"store sink started again; the store holds {after} batches (before: {before})")
    ok = rebuilt.code == 0 and verified.code == 0 and after == before
    echo(f"=> recovered: {'OK' if ok else 'FAILED'}")
    return ok
