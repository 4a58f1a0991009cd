"""Tables of the trace store (SQLAlchemy Core), the same on SQLite and PostgreSQL.

``batches`` holds one row per batch or lot with the facts the queries filter on and the whole chain
as JSON for display. The child tables (genealogy edges, trace codes, shipments, holds, out-of-limit
parameters, inspections, complaints, stock) are derived from the chain and replaced as a whole
whenever a newer version of the batch is written. ``alerts`` is keyed by the alert id.
The Alembic revisions (``sinks/store/migrations``) create exactly these tables and indexes.

Quantities are exact on both databases (:class:`ExactDecimal`): SQLite has no decimal type and
would keep a NUMERIC as a float (``999999999999999.999`` read back as ``1000000000000000.000``), so
there they are bound as text, which SQLite's NUMERIC affinity keeps as text unless a float holds
it exactly, and read back as :class:`~decimal.Decimal` whichever form SQLite kept.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

metadata = MetaData()
_QUANTUM = Decimal("0.001")


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(18, 3)`` that loses no digit on SQLite (text there, a real NUMERIC elsewhere)."""

    impl = Numeric(18, 3, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(Numeric(18, 3, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return str(Decimal(value).quantize(_QUANTUM))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name != "sqlite":
            return Decimal(value)
        # SQLite keeps a value a float holds exactly as REAL or INTEGER: its repr is exact
        return Decimal(value if isinstance(value, str) else repr(value)).quantize(_QUANTUM)


def _qty(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, ExactDecimal(), nullable=nullable)


def _when(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


ChainJson = JSON().with_variant(JSONB(), "postgresql")

LOT_FACT_COLUMNS = (
    "batch_code",
    "product_code",
    "material_code",
    "on_hold",
    "reconciliation_status",
    "supplier_id",
    "supplier_lot",
)
"""The columns of ``ix_batches_lot_facts``: what a trace shows of every lot it meets."""

batches = Table(
    "batches",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("plant", String, nullable=False),
    Column("order_id", String),
    Column("product_code", String),
    Column("product_name", String),
    Column("material_code", String),
    Column("line_id", String),
    Column("shift", String),
    Column("team", String),
    _qty("produced_quantity"),
    Column("uom", String),
    Column("on_hold", Boolean, nullable=False),
    Column("reconciliation_status", String, nullable=False),
    _qty("mes_quantity"),
    _qty("wms_quantity"),
    _qty("erp_quantity"),
    Column("event_count", Integer, nullable=False),
    _when("started_at"),
    _when("completed_at"),
    _when("first_event_at"),
    _when("last_event_at"),
    _when("stored_at", nullable=False),
    Column("chain", ChainJson, nullable=False),
    # the ERP material receipt's supplier and supplier lot, kept out of the chain (migration r0004)
    Column("supplier_id", String),
    Column("supplier_lot", String),
    Index("ix_batches_product_code", "product_code"),
    Index("ix_batches_order_id", "order_id"),
    Index("ix_batches_on_hold", "on_hold"),
    # what a genealogy walk and a trace's lot facts read of each lot met, answered from the index
    # alone (migrations r0002, r0004)
    Index("ix_batches_lot_facts", *LOT_FACT_COLUMNS),
)

genealogy_edges = Table(
    "genealogy_edges",
    metadata,
    Column("child_code", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("consumption_id", String, nullable=False),
    Column("parent_lot", String, nullable=False),
    Column("material_code", String, nullable=False),
    _qty("quantity", nullable=False),
    Column("uom", String, nullable=False),
    Index("ix_genealogy_edges_parent_child", "parent_lot", "child_code"),
)

trace_codes = Table(
    "trace_codes",
    metadata,
    Column("trace_code", String, primary_key=True),
    Column("batch_code", String, nullable=False),
    Index("ix_trace_codes_batch_trace", "batch_code", "trace_code"),
)

shipments = Table(
    "shipments",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("delivery_id", String, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("ship_to", String, nullable=False),
    _qty("quantity", nullable=False),
    Column("ship_date", Date, nullable=False),
    Index("ix_shipments_delivery_id", "delivery_id"),
    Index("ix_shipments_customer_id", "customer_id"),
)

holds = Table(
    "holds",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("origin_code", String, primary_key=True),
    Column("hold_id", String, primary_key=True),
    Column("reason", String, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("inherited", Boolean, nullable=False),
    _when("changed_at", nullable=False),
    Column("disposition", String),
    Index("ix_holds_origin_code", "origin_code"),
)

parameters_out_of_limit = Table(
    "parameters_out_of_limit",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("equipment_id", String, nullable=False),
    Column("parameter", String, nullable=False),
    _when("recorded_at", nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String, nullable=False),
    Column("lower_limit", Float),
    Column("upper_limit", Float),
)

inspections = Table(
    "inspections",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("inspection_id", String, nullable=False),
    Column("plan", String, nullable=False),
    Column("verdict", String, nullable=False),
    Column("inspector", String, nullable=False),
    Column("failed_characteristics", Text, nullable=False),
    _when("recorded_at", nullable=False),
)

complaints = Table(
    "complaints",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("complaint_id", String, nullable=False),
    Column("customer_id", String, nullable=False),
    Column("trace_code", String),
    Column("defect", String, nullable=False),
    Column("severity", String, nullable=False),
    _when("received_at", nullable=False),
    Index("ix_complaints_complaint_id", "complaint_id"),
    Index("ix_complaints_trace_code", "trace_code"),
)

stock = Table(
    "stock",
    metadata,
    Column("batch_code", String, primary_key=True),
    Column("location", String, primary_key=True),
    _qty("quantity", nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String, primary_key=True),
    Column("batch_code", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("subject", String, nullable=False),
    Column("message", Text, nullable=False),
    Column("origin_code", String, nullable=False),
    _when("occurred_at", nullable=False),
    _when("stored_at", nullable=False),
    Index("ix_alerts_batch_code", "batch_code"),
)

CHILD_TABLES = (
    genealogy_edges,
    trace_codes,
    shipments,
    holds,
    parameters_out_of_limit,
    inspections,
    complaints,
    stock,
)
"""Tables whose rows belong to one batch (``batch_code``/``child_code``), replaced with it."""
