"""The settings and folder of one demo run: fresh topics, store, groups and state.

Every run gets a topic prefix ``demo-<yyyymmddHHMMSS>.``, its own folder under
``<home>/demo/<run>`` (the components' home: trace store, worker state, ingest ledgers, target
ledger, logs, the ERP database and the drop folder) and its own consumer groups, so a run never
reads what an earlier one left. The broker and registry keep the base home (their data and the
fetched jars live there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from tracesync.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
MAPPINGS = REPO_ROOT / "deploy" / "mappings"
ROUTES_TEMPLATE = REPO_ROOT / "deploy" / "routes" / "demo.toml"
DB_MAPPINGS = ("erp_receipts", "erp_production_receipts", "erp_shipments")
FILE_MAPPINGS = ("wms_receipts.csv", "qms_inspections.xml")
WORKER_SETTLE_S = 8.0
"""A missing ERP/WMS side shows after this long (the production default is 30 s)."""


@dataclass(frozen=True)
class DemoRun:
    """One run: its name, folder and the settings handed to every component."""

    name: str
    folder: Path
    settings: Settings
    infra_settings: Settings

    @property
    def logs(self) -> Path:
        return self.folder / "logs"

    @property
    def erp_db(self) -> Path:
        return self.folder / "erp.db"

    @property
    def drop(self) -> Path:
        return self.folder / "drop"

    @property
    def routes_file(self) -> Path:
        return self.folder / "routes.toml"

    @property
    def store_path(self) -> Path:
        return self.folder / "trace.db"

    @property
    def targets_group(self) -> str:
        return f"demo-{self.name}-targets"

    def db_mapping_files(self) -> list[Path]:
        return [MAPPINGS / f"{name}.db.toml" for name in DB_MAPPINGS]

    def file_mapping_files(self) -> list[Path]:
        return [MAPPINGS / f"{name}.toml" for name in FILE_MAPPINGS]


def run_name(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%d%H%M%S")


def demo_run(base: Settings, name: str) -> DemoRun:
    """The run's settings, derived from the settings given at the entry point."""
    folder = (base.home / "demo" / name).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    erp_url = SecretStr(f"sqlite:///{folder / 'erp.db'}")
    settings = base.model_copy(
        update={
            "home": folder,
            "topic_prefix": f"demo-{name}.",
            "store": base.store.model_copy(
                update={
                    "url": SecretStr(f"sqlite:///{folder / 'trace.db'}"),
                    "sink_group": f"demo-{name}-store",
                }
            ),
            "worker": base.worker.model_copy(
                update={"app_id": f"demo-{name}-worker", "settle_s": WORKER_SETTLE_S}
            ),
            "ingest_db": base.ingest_db.model_copy(
                update={
                    "source_urls": {mapping: erp_url for mapping in DB_MAPPINGS},
                    "poll_interval_s": 0.5,
                }
            ),
            "ingest_files": base.ingest_files.model_copy(update={"poll_interval_s": 0.5}),
        }
    )
    infra = settings.model_copy(update={"home": base.home.resolve()})
    return DemoRun(name, folder, settings, infra)
