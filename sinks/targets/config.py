"""The routes file of the targets sink: targets by name, routes in order, the retry policy.

:func:`load_routes` reads and checks a TOML routes file (``deploy/routes/example.toml``);
``--target TARGET.OPTION=VALUE`` overrides (:func:`parse_override`) replace target options by
name; :func:`open_targets` opens the transports the routes use.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sinks.targets.base import Target
from sinks.targets.file_target import FileTarget
from sinks.targets.http_target import HttpTarget
from sinks.targets.routing import Route, Source, build_route
from sinks.targets.table_target import TableTarget
from tracesync.errors import ConfigurationError, TracesyncError

TRANSPORTS: dict[str, type[Target]] = {
    t.transport: t for t in (HttpTarget, TableTarget, FileTarget)
}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a notice is tried before it is dead-lettered."""

    attempts: int = 5
    initial_backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    jitter: float = 0.5
    """Share of each delay that is random, so that retries of many batches do not align."""

    def delay(self, failed_attempts: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the n-th failed attempt."""
        base = min(self.max_backoff_s, self.initial_backoff_s * 2.0 ** (failed_attempts - 1))
        return base * (1 - self.jitter) + base * self.jitter * rand()


@dataclass(frozen=True)
class RoutesConfig:
    """A parsed routes file: the targets (by name), the routes in order, the retry policy."""

    targets: Mapping[str, Mapping[str, Any]]
    routes: tuple[Route, ...]
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def sources(self) -> set[Source]:
        return {route.source for route in self.routes}


def parse_routes(
    data: Mapping[str, Any], overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> RoutesConfig:
    """A routes config from the TOML data; ``overrides`` replace target options by name."""
    unknown = set(data) - {"retry", "targets", "routes"}
    if unknown:
        raise ConfigurationError(f"routes file: unknown sections {sorted(unknown)}")
    targets = {name: dict(spec) for name, spec in dict(data.get("targets") or {}).items()}
    for name, changes in (overrides or {}).items():
        if name not in targets:
            raise ConfigurationError(f"override for unknown target {name!r}")
        targets[name].update(changes)
    for name, spec in targets.items():
        if spec.get("transport") not in TRANSPORTS:
            raise ConfigurationError(
                f"target {name!r}: transport must be one of {sorted(TRANSPORTS)}"
            )
    routes_data = data.get("routes") or []
    if not routes_data:
        raise ConfigurationError("routes file: no [[routes]]")
    routes = tuple(build_route(str(r.get("name")), r, list(targets)) for r in routes_data)
    names = [route.name for route in routes]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"routes file: route names must be unique, got {names}")
    try:
        retry = RetryPolicy(**dict(data.get("retry") or {}))
    except TypeError as exc:
        raise ConfigurationError(f"routes file: [retry]: {exc}") from exc
    if retry.attempts < 1 or not 0 <= retry.jitter <= 1:
        raise ConfigurationError("routes file: [retry] needs attempts >= 1 and 0 <= jitter <= 1")
    return RoutesConfig(targets, routes, retry)


def load_routes(
    path: Path, overrides: Mapping[str, Mapping[str, Any]] | None = None
) -> RoutesConfig:
    """Read and check a routes file (TOML)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read routes file {path}: {exc}") from exc
    return parse_routes(data, overrides)


def parse_override(text: str) -> tuple[str, str, str]:
    """``TARGET.OPTION=VALUE`` (from the command line) -> (target, option, value)."""
    name, sep, value = text.partition("=")
    target, dot, option = name.partition(".")
    if not sep or not dot or not target or not option:
        raise ConfigurationError(f"override {text!r} is not TARGET.OPTION=VALUE")
    return target, option, value


def open_targets(config: RoutesConfig, home: Path) -> dict[str, Target]:
    """Open the transports the routes use (connections, tables, files)."""
    used = {route.target for route in config.routes}
    opened: dict[str, Target] = {}
    try:
        for name in sorted(used):
            spec = config.targets[name]
            opened[name] = TRANSPORTS[str(spec["transport"])](name, spec, home)
    except TracesyncError:
        for target in opened.values():
            target.close()
        raise
    return opened
