"""From assessment to service: the starting configuration of the recommended edges.

:func:`plan_config` turns an assessment into files (pure; the API keys come from ``token``):

* ``mappings/<system>_<event>.db.toml`` per event type of each database system (E2, E3, E5; with
  ``<name>.outbox.sql`` when the outbox is still to be added), for ``tracesync ingest db``;
* ``mappings/<system>_<event>.csv.toml`` / ``.xml.toml`` per event type of each file-exporting
  system (E6), for ``tracesync ingest files``;
* ``ingest.env``: an API key per REST-pushing source kind (``TRACESYNC_INGEST__API_KEYS__MES``
  ...) for ``tracesync ingest api``, and the database URL variable of each DB mapping (commented);
* ``routes.toml``: a target per receiving system and the routes of the flows, for
  ``tracesync sink targets``;
* ``README.md``: what to start, with which columns, and what is still open.

:func:`write_config` writes them and refuses to overwrite existing files unless told to.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tracesync.assess.assessment import Assessment
from tracesync.assess.edges import EdgeChoice
from tracesync.assess.emit_readme import readme
from tracesync.assess.emit_routes import routes_toml
from tracesync.assess.model import Inventory, Scenario, SystemBase, SystemKind
from tracesync.assess.skeleton import Skeleton, SourceKind, outbox_ddl, skeleton
from tracesync.errors import ConfigurationError

FileKind = Literal["db-mapping", "file-mapping", "outbox-ddl", "env", "routes", "readme"]

EVENTS: dict[tuple[SystemKind, Scenario], tuple[str, ...]] = {
    ("MES", "production_reporting"): ("BATCH_STARTED", "BATCH_COMPLETED", "MATERIAL_CONSUMED"),
    ("MES", "quality_alert"): ("PROCESS_PARAMETER_RECORDED",),
    ("QMS", "quality_alert"): ("INSPECTION_RECORDED", "HOLD_PLACED", "HOLD_RELEASED"),
    ("QMS", "quality_release"): ("INSPECTION_RECORDED", "HOLD_RELEASED"),
    ("QMS", "complaint_trace"): ("COMPLAINT_RECEIVED",),
    ("WMS", "warehouse_scan"): ("GOODS_RECEIVED", "GOODS_ISSUED"),
    ("WMS", "reconciliation"): ("GOODS_RECEIVED",),
    ("ERP", "material_receipt"): ("MATERIAL_RECEIPT_POSTED",),
    ("ERP", "shipping"): ("SHIPMENT_DISPATCHED",),
}
"""The event types a source must deliver for a flow's scenario."""
DEFAULT_EVENTS: dict[SystemKind, tuple[str, ...]] = {
    "MES": ("BATCH_COMPLETED",),
    "QMS": ("INSPECTION_RECORDED",),
    "WMS": ("GOODS_RECEIVED",),
    "ERP": ("PRODUCTION_RECEIPT_POSTED",),
}


@dataclass(frozen=True)
class ConfigFile:
    """One file of the emitted configuration."""

    path: str
    kind: FileKind
    text: str
    system: str | None = None
    secret: bool = False


def events_for(inventory: Inventory, system: SystemBase) -> tuple[str, ...]:
    """The event types a system's outgoing flows need, in first-use order."""
    found: dict[str, None] = {}
    for flow in inventory.flows:
        if flow.source == system.id:
            wanted = EVENTS.get((system.kind, flow.scenario)) or DEFAULT_EVENTS.get(system.kind, ())
            found.update(dict.fromkeys(wanted))
    return tuple(found)


def mapping_name(system_id: str, event_type: str) -> str:
    return f"{system_id}_{event_type}".lower().replace("-", "_")


def _header(a: Assessment, system: SystemBase, choice: EdgeChoice, command: str) -> str:
    option = choice.option
    rule = f"{option.rule}, {option.mode}" if option else ""
    return "\n".join(
        [
            f"# {system.id} ({system.kind}, {system.vendor}): skeleton from tracesync assess for "
            f"{a.inventory.organization.name} [{rule}].",
            "# Rename the columns to the source's own names; the file loads as it is.",
            f"# {command}",
        ]
    )


def mapping_skeletons(a: Assessment) -> list[tuple[ConfigFile, Skeleton]]:
    """The mapping files of the DB and file edges, each with the skeleton (its columns)."""
    out = []
    for system_id, choice in a.choices.items():
        option = choice.option
        if option is None or option.kind == "api":
            continue
        system = a.inventory.system(system_id)
        for event_type in events_for(a.inventory, system):
            name = mapping_name(system_id, event_type)
            if option.kind == "db":
                source: SourceKind = "sequence" if option.rule == "E3" else "outbox"
                path = f"mappings/{name}.db.toml"
                command = f"tracesync ingest db --mapping {path} --url <SQLAlchemy URL>"
                kind: FileKind = "db-mapping"
            else:
                source = "xml" if option.mode == "xml" else "csv"
                path = f"mappings/{name}.{source}.toml"
                command = f"tracesync ingest files --mapping {path} --watch <drop folder>"
                kind = "file-mapping"
            header = _header(a, system, choice, command)
            outline = skeleton(
                name,
                event_type,
                source,
                plant=system.plant,
                header=header,
                outbox_to_add=option.rule == "E5",
            )
            out.append((ConfigFile(path, kind, outline.text, system_id), outline))
    return out


def _outboxes(a: Assessment, mappings: Sequence[tuple[ConfigFile, Skeleton]]) -> list[ConfigFile]:
    files = []
    for config, outline in mappings:
        choice = a.choices[str(config.system)]
        system = a.inventory.system(str(config.system))
        if choice.option is None or choice.option.rule != "E5" or system.database is None:
            continue
        ddl = outbox_ddl(outline, system.database.engine)
        files.append(
            ConfigFile(f"mappings/{outline.name}.outbox.sql", "outbox-ddl", ddl, config.system)
        )
    return files


def _env(
    a: Assessment, mappings: Sequence[tuple[ConfigFile, Skeleton]], token: Callable[[], str]
) -> ConfigFile | None:
    pushing: dict[str, list[str]] = {}
    for system_id, choice in a.choices.items():
        if choice.option is not None and choice.option.kind == "api":
            pushing.setdefault(a.inventory.system(system_id).kind, []).append(system_id)
    db = [outline.name for config, outline in mappings if config.kind == "db-mapping"]
    if not pushing and not db:
        return None
    lines = [
        f"# Settings of the tracesync edges for {a.inventory.organization.name}.",
        "# Load before starting them: set -a; . ./ingest.env; set +a  (or systemd "
        "EnvironmentFile=). Keep it secret.",
    ]
    if pushing:
        lines += [
            "#",
            "# REST push (tracesync ingest api): one key per source-system kind, sent "
            "as X-API-Key; a key may publish only its kind's events.",
        ]
        for kind, systems in pushing.items():
            lines.append(f"# {', '.join(systems)} -> POST /v1/{kind.lower()}/events")
            lines.append(f"TRACESYNC_INGEST__API_KEYS__{kind}={token()}")
    if db:
        lines += [
            "#",
            "# Database change capture (tracesync ingest db): the source database "
            "of each mapping; fill in and uncomment (or pass --url).",
        ]
        for name in db:
            lines.append(
                f"# TRACESYNC_INGEST_DB__SOURCE_URLS__{name.upper()}="
                "postgresql+psycopg://USER:PASSWORD@HOST:5432/DBNAME"
            )
    return ConfigFile("ingest.env", "env", "\n".join(lines) + "\n", secret=True)


def plan_config(a: Assessment, token: Callable[[], str] | None = None) -> list[ConfigFile]:
    """Every file of the starting configuration (pure but for ``token``)."""
    make_token = token or (lambda: secrets.token_urlsafe(32))
    mappings = mapping_skeletons(a)
    files = [config for config, _ in mappings]
    files += _outboxes(a, mappings)
    env = _env(a, mappings, make_token)
    if env is not None:
        files.append(env)
    routes = routes_toml(a)
    if routes is not None:
        files.append(ConfigFile("routes.toml", "routes", routes))
    files.append(ConfigFile("README.md", "readme", readme(a, mappings, files)))
    return files


def write_config(
    files: Sequence[ConfigFile], directory: Path, *, force: bool = False
) -> list[Path]:
    """Write the files under ``directory``; existing ones are kept unless ``force``."""
    targets = [(directory / f.path, f) for f in files]
    existing = [str(path) for path, _ in targets if path.exists()]
    if existing and not force:
        raise ConfigurationError(
            f"{len(existing)} file(s) exist already (use --force to replace them): "
            + ", ".join(existing[:5])
        )
    written = []
    for path, config in targets:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            mode = 0o600 if config.secret else 0o644
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(descriptor, "w", encoding="utf-8") as out:
                out.write(config.text)
            os.chmod(path, mode)  # an existing file keeps its mode on O_CREAT
        except OSError as exc:
            raise ConfigurationError(f"cannot write {path}: {exc}") from exc
        written.append(path)
    return written
