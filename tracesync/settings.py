"""Typed settings, built once at the entry point and passed down.

Values come from defaults, then ``TRACESYNC_*`` environment variables (nested with ``__``, e.g.
``TRACESYNC_KAFKA__BOOTSTRAP_SERVERS``). Nothing below the entry point reads the environment.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KAFKA_MESSAGE_LIMIT_BYTES = 1_000_000
"""The largest record any client of the pipeline may produce: librdkafka's ``message.max.bytes``
default (key, value and headers, before compression), below the broker's and topics' default
``message.max.bytes`` of 1,048,588 (deploy/ and :mod:`tracesync.topics` set no other)."""
RECORD_HEADROOM_BYTES = 64 * 1024
"""Room left in a record for its key and headers (dead-letter reasons, Quix changelog headers)."""


class KafkaSettings(BaseModel):
    """The Kafka broker the pipeline talks to, and how the local one is run."""

    bootstrap_servers: str = "127.0.0.1:19092"
    version: str = "4.4.0"
    host: str = "127.0.0.1"
    broker_port: int = 19092
    controller_port: int = 19093
    cluster_base_port: int = 19192
    heap: str = "768m"
    start_timeout_s: float = 90.0


class RegistrySettings(BaseModel):
    """The schema registry (Confluent-compatible API) and how the local one is run."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 18081
    heap: str = "512m"
    start_timeout_s: float = 180.0

    @property
    def url(self) -> str:
        """The Confluent-compatible API (what confluent-kafka and tracesync use)."""
        return f"http://{self.host}:{self.port}/apis/ccompat/v7"

    @property
    def core_url(self) -> str:
        """Apicurio's own API (what Apicurio's Java serdes take); same schemas, same ids."""
        return f"http://{self.host}:{self.port}/apis/registry/v3"


class PostgresSettings(BaseModel):
    """The PostgreSQL server the project's scripts install and start."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "tracesync"
    password: SecretStr = SecretStr("tracesync")
    database: str = "tracesync"


class StoreSettings(BaseModel):
    """The trace store: a SQLAlchemy URL (SQLite file under the home folder by default) and
    how the store sink batches its writes and retries an unreachable database."""

    url: SecretStr | None = None
    sink_group: str = Field(default="tracesync-store-sink", description="consumer group id")
    batch_max_records: int = Field(default=500, gt=0, description="records per transaction")
    batch_max_ms: int = Field(default=200, gt=0, description="wait this long to fill a batch")
    retry_initial_s: float = Field(default=0.5, gt=0, description="first wait on a DB failure")
    retry_max_s: float = Field(default=10.0, gt=0, description="longest wait between retries")
    write_method: Literal["auto", "values", "copy"] = Field(
        default="auto",
        description="how rows reach the database: multi-row VALUES, or COPY into staging tables "
        "(PostgreSQL only); auto = COPY on PostgreSQL, VALUES on SQLite",
    )
    session_timeout_ms: int = Field(
        default=45_000, ge=6_000, description="a dead sink's partitions move after this long"
    )


class ProducerSettings(BaseModel):
    """How the shared confluent-kafka producer batches, compresses and waits for the broker."""

    linger_ms: int = Field(default=5, ge=0, description="wait this long to fill a batch")
    compression: Literal["lz4", "zstd", "gzip", "snappy", "none"] = "lz4"
    batch_size: int = Field(default=1_000_000, gt=0, description="max bytes of one batch")
    delivery_timeout_ms: int = Field(
        default=30_000, gt=0, description="give up on a record not acknowledged by then"
    )
    flush_timeout_s: float = Field(default=15.0, ge=0, description="wait on shutdown")


def _dev_api_keys() -> dict[str, SecretStr]:
    systems = ("MES", "ERP", "WMS", "QMS", "EPCIS")  # EPCIS: capture for every system
    return {system: SecretStr(f"dev-{system.lower()}-key") for system in systems}


class IngestSettings(BaseModel):
    """The ingest edge: REST API keys (one per source system) and request limits."""

    api_keys: dict[str, SecretStr] = Field(
        default_factory=_dev_api_keys,
        description="source system -> API key; the dev defaults are for the demo only",
    )
    host: str = "127.0.0.1"
    port: int = 18080
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_batch_events: int = Field(default=1000, gt=0)


ServeRole = Literal["viewer", "compliance", "operator"]


class ServeKey(BaseModel):
    """One API key of the query API and console, and the role it grants."""

    key: SecretStr
    role: ServeRole


def _dev_serve_keys() -> dict[str, ServeKey]:
    roles: tuple[ServeRole, ...] = ("viewer", "compliance", "operator")
    return {role: ServeKey(key=SecretStr(f"dev-{role}-key"), role=role) for role in roles}


class ServeSettings(BaseModel):
    """``tracesync serve``: the query API and web console (address, API keys with roles)."""

    api_keys: dict[str, ServeKey] = Field(
        default_factory=_dev_serve_keys,
        description="key name -> key and role; the dev defaults are for the demo only",
    )
    host: str = "127.0.0.1"
    port: int = 18090
    page_limit: int = Field(default=100, gt=0, description="list rows per page by default")
    max_page_limit: int = Field(default=1000, gt=0, description="list rows per page at most")


class IngestDbSettings(BaseModel):
    """Database change capture (``tracesync ingest db``): polling and the source databases."""

    poll_interval_s: float = Field(default=1.0, gt=0, description="wait when a source is drained")
    batch_size: int = Field(default=500, gt=0, description="rows read and published per step")
    retry_backoff_s: float = Field(default=2.0, gt=0, description="wait after a failed step")
    source_urls: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="mapping name -> SQLAlchemy URL of its source database (overrides the file)",
    )


class IngestFilesSettings(BaseModel):
    """File drops (``tracesync ingest files``): how a file is known complete, how often to look."""

    poll_interval_s: float = Field(default=1.0, gt=0, description="how often the folder is listed")
    completion: Literal["marker", "rename", "settled"] = Field(
        default="marker",
        description="when a dropped file is complete: marker = its <name>.done exists; rename = "
        "at once (the writer renames it into place); settled = size and mtime unchanged for "
        "settle_s (opt-in: cannot tell a paused writer from a finished one)",
    )
    settle_s: float = Field(
        default=2.0, ge=0, description="completion = settled: unchanged this long = complete"
    )
    publish_chunk: int = Field(default=1000, gt=0, description="rows per publish call")


class WorkerSettings(BaseModel):
    """The stream worker: engine, identity, state, checkpoints, buffering and the domain rules."""

    engine: Literal["quix", "faust"] = Field(
        default="quix", description="stream engine: Quix Streams (default) or faust-streaming"
    )
    app_id: str = Field(default="tracesync-worker", description="consumer group and app id")
    instance: str = Field(
        default="main",
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="names this process's state folder; give each worker on one host its own",
    )
    processing_guarantee: Literal["at-least-once", "exactly-once"] = Field(
        default="at-least-once",
        description="exactly-once (Kafka transactions) is for the quix engine only",
    )
    checkpoint_interval_s: float = Field(
        default=0.25, gt=0, description="quix: merge, write state and commit this often"
    )
    checkpoint_max_records: int = Field(
        default=20_000, gt=0, description="quix: or after this many records, whichever is first"
    )
    poll_timeout_s: float = Field(
        default=0.05, gt=0, description="quix: longest wait for a record before checkpointing"
    )
    session_timeout_ms: int = Field(
        default=45_000, ge=6_000, description="a dead worker's partitions move after this long"
    )
    transaction_timeout_ms: int = Field(
        default=10_000,
        ge=1_000,
        description="quix exactly-once: a dead worker's open transaction is aborted after this",
    )
    store: str = Field(
        default="rocksdb://", description="faust table store: rocksdb:// or memory://"
    )
    replication_factor: int = Field(default=1, ge=1, description="of the worker's internal topics")
    take_max: int = Field(default=1000, gt=0, description="faust: records merged per buffer")
    take_within_s: float = Field(
        default=0.05, gt=0, description="faust: wait this long to fill a buffer"
    )
    cache_size: int = Field(default=2048, ge=0, description="chains kept decoded in memory")
    tolerance: Decimal = Field(
        default=Decimal("0.005"), ge=0, description="relative, MES vs WMS/ERP"
    )
    settle_s: float = Field(default=30.0, ge=0, description="wait this long for a missing side")
    settle_check_s: float = Field(
        default=1.0, gt=0, description="how often overdue sides are looked for"
    )
    max_field_bytes: int = Field(
        default=64 * 1024,
        gt=0,
        description="longest text value in an event (UTF-8 bytes); a longer one is dead-lettered",
    )
    max_event_bytes: int = Field(
        default=768 * 1024,
        gt=0,
        description="largest encoded event merged (REST answers 413 above); larger: dead letter",
    )
    max_chain_bytes: int = Field(
        default=900_000,
        gt=0,
        le=KAFKA_MESSAGE_LIMIT_BYTES - RECORD_HEADROOM_BYTES,
        description="largest encoded chain; an event that would grow it beyond is dead-lettered",
    )

    @model_validator(mode="after")
    def _limits_nest(self) -> WorkerSettings:
        if not self.max_field_bytes <= self.max_event_bytes <= self.max_chain_bytes:
            raise ValueError("need max_field_bytes <= max_event_bytes <= max_chain_bytes")
        return self


class ExportSettings(BaseModel):
    """Compliance exports: GS1 master data for Digital Link and EPCIS identifiers."""

    gs1_master_data: Path | None = Field(
        default=None, description="TOML file with [gtins] (product -> GTIN) and [glns] tables"
    )
    gtins: dict[str, str] = Field(default_factory=dict, description="product code -> GTIN")
    glns: dict[str, str] = Field(default_factory=dict, description="plant/party id -> GLN")


class Settings(BaseSettings):
    """All of tracesync's settings."""

    model_config = SettingsConfigDict(
        env_prefix="TRACESYNC_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(default=Path("var"), description="runtime state: data, logs, caches")
    plant: str = "PLANT-01"
    topic_prefix: str = Field(default="", description="prepended to every topic name (tests)")
    source_partitions: int = Field(default=6, gt=0, description="of each co-partitioned topic")
    kafka: KafkaSettings = KafkaSettings()
    registry: RegistrySettings = RegistrySettings()
    postgres: PostgresSettings = PostgresSettings()
    store: StoreSettings = StoreSettings()
    producer: ProducerSettings = ProducerSettings()
    ingest: IngestSettings = IngestSettings()
    ingest_db: IngestDbSettings = IngestDbSettings()
    ingest_files: IngestFilesSettings = IngestFilesSettings()
    worker: WorkerSettings = WorkerSettings()
    exports: ExportSettings = ExportSettings()
    serve: ServeSettings = ServeSettings()

    @property
    def store_url(self) -> str:
        if self.store.url is not None:
            return self.store.url.get_secret_value()
        return f"sqlite:///{(self.home / 'store' / 'trace.db').resolve()}"


def load_settings() -> Settings:
    """Build the settings from defaults and the environment; call this only at entry points."""
    return Settings()
