"""Typed settings, built once at the entry point and passed down.

Values come from defaults, then ``TRACESYNC_*`` environment variables (nested with ``__``, e.g.
``TRACESYNC_KAFKA__BOOTSTRAP_SERVERS``). Nothing below the entry point reads the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracesync.apikeys import hash_key
from tracesync.errors import ConfigurationError
from tracesync.plant_time import zone_named

# re-exported: the worker's settings are part of these (their own module keeps this one short)
from tracesync.worker_settings import KAFKA_MESSAGE_LIMIT_BYTES as KAFKA_MESSAGE_LIMIT_BYTES  # noqa: PLC0414
from tracesync.worker_settings import RECORD_HEADROOM_BYTES as RECORD_HEADROOM_BYTES  # noqa: PLC0414
from tracesync.worker_settings import WorkerSettings as WorkerSettings  # noqa: PLC0414

SecurityProtocol = Literal["PLAINTEXT", "SASL_SSL"]


class KafkaSettings(BaseModel):
    """The Kafka broker the pipeline talks to, how this process logs in, how the local one runs.

    ``security_protocol = "SASL_SSL"``: TLS (the broker's certificate checked against
    ``ssl_ca_location``) and SASL/SCRAM-SHA-512 as ``sasl_username``; each component runs with
    its own principal (``tracesync kafka up --secure`` creates them, docs/runbook.md#security).
    """

    bootstrap_servers: str = "127.0.0.1:19092"
    security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", description="PLAINTEXT (demo, tests) or SASL_SSL"
    )
    sasl_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    sasl_username: str | None = Field(default=None, description="this component's principal")
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = Field(
        default=None, description="PEM file of the CA that signed the broker's certificate"
    )
    version: str = "4.4.0"
    host: str = "127.0.0.1"
    broker_port: int = 19092
    controller_port: int = 19093
    cluster_base_port: int = 19192
    heap: str = "768m"
    start_timeout_s: float = 90.0

    @model_validator(mode="after")
    def _credentials_for_sasl(self) -> KafkaSettings:
        if self.security_protocol == "SASL_SSL" and not (self.sasl_username and self.sasl_password):
            raise ValueError(
                "kafka.security_protocol SASL_SSL needs kafka.sasl_username and kafka.sasl_password"
            )
        return self


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
    batch_max_records: int = Field(default=2000, gt=0, description="records per transaction")
    batch_max_ms: int = Field(
        default=200,
        gt=0,
        description="collect a batch at most this long (sooner: the writer is free)",
    )
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


class HttpLimits(BaseModel):
    """Slow and surplus clients of an HTTP server (``ingest api``, ``serve``;
    :mod:`tracesync.http_limits`): a connection that trickles its headers or its body is closed,
    and the open connections are capped below the process's descriptor limit."""

    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="close a connection whose request headers are not complete this long after "
        "it opened or after its last answer (408 when it sent part of a request)",
    )
    body_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="408 and close when a request body is not complete this long after its "
        "headers; nothing of it is used",
    )
    keep_alive_s: int = Field(
        default=5, gt=0, description="close a connection idle this long between requests"
    )
    max_connections: int | None = Field(
        default=None,
        gt=0,
        description="open connections at most; more are answered 503 (Retry-After) and closed "
        "at once; unset = min(1000, 3/4 of the soft descriptor limit)",
    )


DEV_INGEST_KEYS = {s: f"dev-{s.lower()}-key" for s in ("MES", "ERP", "WMS", "QMS", "EPCIS")}
"""The demo's well-known ingest keys (EPCIS: capture for every system); only with demo_keys."""
DEV_SERVE_KEYS = {role: f"dev-{role}-key" for role in ("viewer", "compliance", "operator")}
"""The demo's well-known serve keys, one per role; only with demo_keys."""


class IngestSettings(BaseModel):
    """The ingest edge: REST API keys (one per source system) and request limits.

    No default keys: each is made with ``tracesync keys new`` and stored as its hash.
    """

    api_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="source system -> sha256: hash of its API key (README: API keys)",
    )
    api_keys_file: Path | None = Field(
        default=None, description="TOML [[key]] name/hash entries, re-read when it changes"
    )
    host: str = "127.0.0.1"
    port: int = 18080
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_batch_events: int = Field(default=1000, gt=0)
    http: HttpLimits = HttpLimits()


ServeRole = Literal["viewer", "compliance", "operator"]


class ServeKey(BaseModel):
    """One API key of the query API and console, and the role it grants."""

    key: SecretStr = Field(description="sha256: hash of the key")
    role: ServeRole


class ServeSettings(BaseModel):
    """``tracesync serve``: the query API and web console (address, API keys with roles)."""

    api_keys: dict[str, ServeKey] = Field(
        default_factory=dict,
        description="key name -> sha256: hash of the key and its role (README: API keys)",
    )
    api_keys_file: Path | None = Field(
        default=None, description="TOML [[key]] name/hash/role entries, re-read when it changes"
    )
    host: str = "127.0.0.1"
    port: int = 18090
    page_limit: int = Field(default=100, gt=0, description="list rows per page by default")
    max_page_limit: int = Field(default=1000, gt=0, description="list rows per page at most")
    session_hours: float = Field(default=12.0, gt=0, description="console login lasts this long")
    session_secret: SecretStr | None = Field(
        default=None, description="signs session and stream tokens; random per process if unset"
    )
    stream_token_s: float = Field(default=60.0, gt=0, description="life of a ?token= for SSE")
    live_replay: int = Field(
        default=200, ge=0, description="live alerts kept for pages that (re)connect"
    )
    http: HttpLimits = HttpLimits()


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


class ExportSettings(BaseModel):
    """Compliance exports: GS1 master data for Digital Link and EPCIS identifiers."""

    gs1_master_data: Path | None = Field(
        default=None, description="TOML file with [gtins] (product -> GTIN) and [glns] tables"
    )
    gtins: dict[str, str] = Field(default_factory=dict, description="product code -> GTIN")
    glns: dict[str, str] = Field(default_factory=dict, description="plant/party id -> GLN")


class MetricsSettings(BaseModel):
    """``/metrics``, ``/healthz`` and ``/readyz`` of the components without an HTTP server of their
    own (``ingest db``, ``ingest files``, ``worker``, ``sink store``, ``sink targets``; ``ingest
    api`` and ``serve`` answer them on their own port). Each command's ``--metrics-port``
    overrides ``port``."""

    host: str = Field(default="127.0.0.1", description="address the metrics server binds")
    port: int = Field(default=0, ge=0, le=65535, description="0 = no metrics server")
    stats_interval_ms: int = Field(
        default=5000, ge=100, description="librdkafka statistics (consumer lag) this often"
    )


class Settings(BaseSettings):
    """All of tracesync's settings."""

    model_config = SettingsConfigDict(
        env_prefix="TRACESYNC_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(default=Path("var"), description="runtime state: data, logs, caches")
    plant: str = "PLANT-01"
    time_zone: str = Field(
        default="UTC",
        description="the plant's time zone (UTC or an IANA name such as Europe/Berlin): "
        "trace, recall and serve show times in it, with the offset",
    )
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
    metrics: MetricsSettings = MetricsSettings()
    startup_timeout_s: float | None = Field(
        default=None,
        ge=0,
        description="how long a long-running command waits at start-up for the broker, the "
        "registry and its database (retrying with backoff); unset = forever, 0 = fail at once",
    )
    startup_backoff_max_s: float = Field(
        default=10.0, gt=0, description="longest wait between two start-up attempts"
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="of the long-running commands; --log-format overrides it"
    )
    demo_keys: bool = Field(
        default=False,
        description="accept the demo's well-known API keys (dev-mes-key ...) where none are "
        "configured; for the demo and tests only",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            zone_named(name)
        except ConfigurationError as exc:
            raise ValueError(str(exc)) from exc
        return name.strip()

    @model_validator(mode="after")
    def _demo_keys(self) -> Settings:
        if self.demo_keys and not self.ingest.api_keys:
            self.ingest = self.ingest.model_copy(update={"api_keys": _demo_ingest_keys()})
        if self.demo_keys and not self.serve.api_keys:
            self.serve = self.serve.model_copy(update={"api_keys": _demo_serve_keys()})
        return self

    @property
    def store_url(self) -> str:
        if self.store.url is not None:
            return self.store.url.get_secret_value()
        return f"sqlite:///{(self.home / 'store' / 'trace.db').resolve()}"


def _demo_ingest_keys() -> dict[str, SecretStr]:
    return {system: SecretStr(hash_key(key)) for system, key in DEV_INGEST_KEYS.items()}


def _demo_serve_keys() -> dict[str, ServeKey]:
    roles: dict[str, ServeRole] = {"viewer": "viewer", "compliance": "compliance"}
    roles["operator"] = "operator"
    return {
        name: ServeKey(key=SecretStr(hash_key(key)), role=roles[name])
        for name, key in DEV_SERVE_KEYS.items()
    }


def with_demo_keys(settings: Settings) -> Settings:
    """``settings`` accepting the demo's well-known API keys and no others (demo, benchmark)."""
    ingest = settings.ingest.model_copy(update={"api_keys": _demo_ingest_keys()})
    serve = settings.serve.model_copy(update={"api_keys": _demo_serve_keys()})
    return settings.model_copy(update={"ingest": ingest, "serve": serve, "demo_keys": True})


def load_settings() -> Settings:
    """Build the settings from defaults and the environment; call this only at entry points."""
    return Settings()
