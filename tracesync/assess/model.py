"""The inventory of one plant (or group) as a typed model: what the assessment reads.

The TOML file (see ``docs/assess.md`` and ``deploy/assess/*.toml``) has these tables:
``[organization]``, ``[[systems]]`` (with ``[systems.rest_api]``, ``[systems.database]``,
``[systems.file_export]`` for each way data can get out of the system; none of them means the
system has no interface), ``[[flows]]``, ``[team]``, ``[budget]``, ``[growth]`` (with
``[[growth.plants]]`` and ``[[growth.systems]]``), ``[vendor]`` and optionally ``[assumptions]``
(the effort model's constants). Every model forbids unknown keys, so a typo is named with its path.
Durations are written ``"5s"``, ``"10min"``, ``"2h"``, ``"1d"`` or as a number of seconds.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

SystemKind = Literal["MES", "ERP", "WMS", "QMS", "CRM", "OTHER"]
Industry = Literal["food", "pharma", "auto_parts", "other"]
DocsQuality = Literal["good", "partial", "poor"]
DbEngine = Literal["postgresql", "sqlite", "mssql", "oracle", "mysql", "other"]
ChangeTracking = Literal["outbox", "sequence", "timestamp", "none"]
FileFormat = Literal["csv", "xml", "xlsx", "json", "fixed_width", "other"]
Scenario = Literal[
    "production_reporting",
    "warehouse_scan",
    "quality_alert",
    "quality_release",
    "complaint_trace",
    "material_receipt",
    "shipping",
    "reconciliation",
    "financial_close",
    "management_report",
    "compliance_report",
    "other",
]
Skill = Literal["rest", "sql", "python", "java", "linux", "kafka", "integration_platform"]
BudgetModel = Literal["capex", "opex", "balanced"]
Service = Literal["planning", "implementation", "operations"]
Support = Literal["24x7", "business_hours", "none"]

_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")
DURATION_PATTERN = (
    r"^\s*\d+(\.\d+)?\s*(ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$"
)


def parse_duration(value: Any) -> Any:
    """``"5s"``, ``"10 min"``, ``"2h"``, ``"1d"`` or a number of seconds -> seconds (float)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '5s', '10min', '2h' or '1d', not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value.lower())
        if match is None or match.group(2) not in _UNITS:
            raise ValueError(f"not a duration: {value!r} (write e.g. '5s', '10min', '2h', '1d')")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        return value  # pydantic names the wrong type
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": DURATION_PATTERN},
            ],
            "description": "seconds, or text such as '5s', '10min', '2h', '1d'",
        }
    ),
]
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
"""Ids of systems and flows: lower case, digits, ``-`` and ``_`` (they name emitted files)."""
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


IDENT_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
Targets = Annotated[
    tuple[Ident, ...],
    BeforeValidator(_one_or_many),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": IDENT_PATTERN},
                {
                    "type": "array",
                    "items": {"type": "string", "pattern": IDENT_PATTERN},
                    "minItems": 1,
                },
            ],
            "description": "id of the receiving system, or a list of them",
        }
    ),
]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Organization(_Table):
    """Who is assessed: name, industry, and the plant codes of today."""

    name: Text
    industry: Industry
    plants: tuple[Text, ...] = Field(
        min_length=1, description="plant codes today (the envelope's `plant`)"
    )


class RestApi(_Table):
    """The system offers a REST API."""

    docs: DocsQuality = Field(description="how complete and correct its documentation is")
    webhooks: bool = Field(
        default=False,
        description="it can call out (webhook / outbound HTTP) when something happens",
    )


class Database(_Table):
    """Read access to the system's database can be had."""

    engine: DbEngine
    change_tracking: ChangeTracking = Field(
        description="outbox: a transactional outbox table; sequence: a change id increasing in "
        "commit order; timestamp: only an updated_at column; none: nothing marks changes"
    )


class FileExport(_Table):
    """The system writes export files (and may read files dropped for it)."""

    formats: tuple[FileFormat, ...] = Field(min_length=1)
    every: Duration = Field(description="how often files are written (and read)")
    imports: bool = Field(
        default=False, description="it also reads files dropped for it, at the same cadence"
    )


class SystemBase(_Table):
    """A business system and the ways data gets out of (and into) it."""

    id: Ident
    kind: SystemKind
    vendor: Text
    product: Text | None = None
    plant: Text | None = Field(default=None, description="plant code; none = serves all plants")
    rest_api: RestApi | None = None
    database: Database | None = None
    file_export: FileExport | None = None

    @property
    def has_interface(self) -> bool:
        return any(i is not None for i in (self.rest_api, self.database, self.file_export))


class System(SystemBase):
    """A system in service today."""


class PlannedSystem(SystemBase):
    """A system planned within the horizon, possibly replacing one of today's."""

    in_year: int = Field(ge=1, description="years from now")
    replaces: Ident | None = Field(default=None, description="id of the system it replaces")


class NewPlant(_Table):
    """A plant planned within the horizon, with the local systems it brings."""

    code: Text
    in_year: int = Field(ge=1)
    lines: int = Field(default=0, ge=0)
    systems: tuple[SystemKind, ...] = Field(
        default=(), description="kinds of the plant's own system instances (e.g. MES, WMS)"
    )


class Flow(_Table):
    """Data that must get from one system to others, for a business scenario."""

    id: Ident
    source: Ident = Field(alias="from")
    to: Targets = Field(min_length=1)
    scenario: Scenario
    latency: Duration | None = Field(
        default=None, description="the delay the business accepts; default: the scenario's"
    )
    description: Text | None = None


class Team(_Table):
    """The in-house IT team."""

    developers: int = Field(ge=0)
    operations: int = Field(ge=0)
    skills: tuple[Skill, ...] = ()


class Budget(_Table):
    """How integration spending is approved."""

    model: BudgetModel = Field(
        description="capex: a one-time project investment; opex: a yearly running budget"
    )
    initial_budget: float | None = Field(default=None, gt=0)
    day_rate: float | None = Field(default=None, gt=0, description="cost of one person-day")
    currency: Text = "EUR"


class Growth(_Table):
    """What the next years bring."""

    horizon_years: int = Field(default=5, ge=1, le=10)
    new_lines: int = Field(default=0, ge=0, description="production lines added at today's plants")
    plants: tuple[NewPlant, ...] = ()
    systems: tuple[PlannedSystem, ...] = ()


class Vendor(_Table):
    """The implementation partner (or the in-house team when ``in_house``)."""

    name: Text
    in_house: bool = False
    industry_references: int = Field(default=0, ge=0, description="projects in this industry")
    references_verified: bool = False
    services: tuple[Service, ...] = ()
    support: Support = "none"
    compliance: tuple[Text, ...] = Field(
        default=(), description="regulations it has delivered for (GMP Annex 11, FSMA 204 ...)"
    )


class Assumptions(_Table):
    """The effort model, in person-days; the defaults put the cost crossover at 4-5 systems."""

    p2p_build_days: float = Field(default=6.0, gt=0, description="build one point-to-point API")
    p2p_upkeep_days: float = Field(default=2.0, ge=0, description="per interface and year")
    hub_setup_days: float = Field(default=30.0, ge=0, description="install and run-in the hub")
    hub_edge_days: float = Field(default=3.0, ge=0, description="connect one system to the hub")
    hub_base_days: float = Field(default=15.0, ge=0, description="operate the hub, per year")
    hub_system_days: float = Field(default=1.0, ge=0, description="per connected system and year")
    file_build_days: float = Field(default=2.0, ge=0, description="one file exchange job")
    file_upkeep_days: float = Field(default=1.5, ge=0, description="per exchange and year")
    file_every: Duration = Field(default=3600.0, description="cadence of new file exchanges")
    forwarder_every: Duration = Field(default=5.0, description="poll of a REST forwarder")
    pipeline: Duration = Field(default=1.0, description="worker + sink, source topic to target")


class Inventory(_Table):
    """One inventory file."""

    organization: Organization
    systems: tuple[System, ...] = Field(min_length=2)
    flows: tuple[Flow, ...] = Field(min_length=1)
    team: Team
    budget: Budget
    growth: Growth = Growth()
    vendor: Vendor
    assumptions: Assumptions = Assumptions()

    def system(self, system_id: str) -> System:
        return next(s for s in self.systems if s.id == system_id)
