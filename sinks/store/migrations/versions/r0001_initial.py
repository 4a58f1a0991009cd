"""The trace store's first schema: batches, their child tables and alerts.

Revision ID: r0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _qty(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(18, 3), nullable=nullable)


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _code(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _pk(*names: str) -> list[sa.Column[object]]:
    return [
        sa.Column(n, sa.Integer() if n == "seq" else sa.String(), primary_key=True) for n in names
    ]


def upgrade() -> None:
    op.create_table(
        "batches",
        *_pk("batch_code"),
        sa.Column("version", sa.BigInteger(), nullable=False),
        _code("plant"),
        *(_code(n, True) for n in ("order_id", "product_code", "product_name", "material_code")),
        *(_code(n, True) for n in ("line_id", "shift", "team")),
        _qty("produced_quantity"),
        _code("uom", True),
        sa.Column("on_hold", sa.Boolean(), nullable=False),
        _code("reconciliation_status"),
        _qty("mes_quantity"),
        _qty("wms_quantity"),
        _qty("erp_quantity"),
        sa.Column("event_count", sa.Integer(), nullable=False),
        *(_when(n) for n in ("started_at", "completed_at", "first_event_at", "last_event_at")),
        _when("stored_at", False),
        sa.Column("chain", _JSON, nullable=False),
    )
    op.create_index("ix_batches_product_code", "batches", ["product_code"])
    op.create_index("ix_batches_order_id", "batches", ["order_id"])
    op.create_index("ix_batches_on_hold", "batches", ["on_hold"])

    op.create_table(
        "genealogy_edges",
        *_pk("child_code", "seq"),
        _code("consumption_id"),
        _code("parent_lot"),
        _code("material_code"),
        _qty("quantity", False),
        _code("uom"),
    )
    op.create_index(
        "ix_genealogy_edges_parent_child", "genealogy_edges", ["parent_lot", "child_code"]
    )

    op.create_table("trace_codes", *_pk("trace_code"), _code("batch_code"))
    op.create_index("ix_trace_codes_batch_code", "trace_codes", ["batch_code"])

    op.create_table(
        "shipments",
        *_pk("batch_code", "seq"),
        _code("delivery_id"),
        _code("customer_id"),
        _code("ship_to"),
        _qty("quantity", False),
        sa.Column("ship_date", sa.Date(), nullable=False),
    )
    op.create_index("ix_shipments_delivery_id", "shipments", ["delivery_id"])
    op.create_index("ix_shipments_customer_id", "shipments", ["customer_id"])

    op.create_table(
        "holds",
        *_pk("batch_code", "origin_code", "hold_id"),
        _code("reason"),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        _when("changed_at", False),
        _code("disposition", True),
    )
    op.create_index("ix_holds_origin_code", "holds", ["origin_code"])

    op.create_table(
        "parameters_out_of_limit",
        *_pk("batch_code", "seq"),
        _code("equipment_id"),
        _code("parameter"),
        _when("recorded_at", False),
        sa.Column("value", sa.Float(), nullable=False),
        _code("unit"),
        sa.Column("lower_limit", sa.Float(), nullable=True),
        sa.Column("upper_limit", sa.Float(), nullable=True),
    )

    op.create_table(
        "inspections",
        *_pk("batch_code", "seq"),
        _code("inspection_id"),
        _code("plan"),
        _code("verdict"),
        _code("inspector"),
        sa.Column("failed_characteristics", sa.Text(), nullable=False),
        _when("recorded_at", False),
    )

    op.create_table(
        "complaints",
        *_pk("batch_code", "seq"),
        _code("complaint_id"),
        _code("customer_id"),
        _code("trace_code", True),
        _code("defect"),
        _code("severity"),
        _when("received_at", False),
    )
    op.create_index("ix_complaints_complaint_id", "complaints", ["complaint_id"])
    op.create_index("ix_complaints_trace_code", "complaints", ["trace_code"])

    op.create_table("stock", *_pk("batch_code", "location"), _qty("quantity", False))

    op.create_table(
        "alerts",
        *_pk("alert_id"),
        _code("batch_code"),
        _code("kind"),
        _code("subject"),
        sa.Column("message", sa.Text(), nullable=False),
        _code("origin_code"),
        _when("occurred_at", False),
        _when("stored_at", False),
    )
    op.create_index("ix_alerts_batch_code", "alerts", ["batch_code"])


def downgrade() -> None:
    for table in (
        "alerts",
        "stock",
        "complaints",
        "inspections",
        "parameters_out_of_limit",
        "holds",
        "shipments",
        "trace_codes",
        "genealogy_edges",
        "batches",
    ):
        op.drop_table(table)
