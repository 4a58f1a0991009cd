"""Typed settings, built once at the entry point and passed down.

Values come from defaults, then ``TRACESYNC_*`` environment variables (nested with ``__``, e.g.
``TRACESYNC_KAFKA__BOOTSTRAP_SERVERS``). Nothing below the entry point reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        return f"http://{self.host}:{self.port}/apis/ccompat/v7"


class PostgresSettings(BaseModel):
    """The PostgreSQL server the project's scripts install and start."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "tracesync"
    password: SecretStr = SecretStr("tracesync")
    database: str = "tracesync"


class StoreSettings(BaseModel):
    """The trace store: a SQLAlchemy URL; SQLite file under the home folder by default."""

    url: SecretStr | None = None


class Settings(BaseSettings):
    """All of tracesync's settings."""

    model_config = SettingsConfigDict(
        env_prefix="TRACESYNC_", env_nested_delimiter="__", extra="ignore"
    )

    home: Path = Field(default=Path("var"), description="runtime state: data, logs, caches")
    plant: str = "PLANT-01"
    kafka: KafkaSettings = KafkaSettings()
    registry: RegistrySettings = RegistrySettings()
    postgres: PostgresSettings = PostgresSettings()
    store: StoreSettings = StoreSettings()

    @property
    def store_url(self) -> str:
        if self.store.url is not None:
            return self.store.url.get_secret_value()
        return f"sqlite:///{(self.home / 'store' / 'trace.db').resolve()}"


def load_settings() -> Settings:
    """Build the settings from defaults and the environment; call this only at entry points."""
    return Settings()
