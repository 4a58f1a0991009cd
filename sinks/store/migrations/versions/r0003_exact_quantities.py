"""Exact quantities on SQLite: the quantity columns hold decimal text (TEXT affinity).

SQLite has no decimal type; a NUMERIC column turns ``999999999999999.999`` into the float
``1e15``. On SQLite the quantity columns become VARCHAR (the tables are rebuilt, existing values
kept as their text), and :class:`sinks.store.schema.ExactDecimal` binds and reads them as
decimals. PostgreSQL keeps its exact ``NUMERIC(18, 3)``: nothing changes there.

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

QUANTITIES = {
    "batches": ("produced_quantity", "mes_quantity", "wms_quantity", "erp_quantity"),
    "genealogy_edges": ("quantity",),
    "shipments": ("quantity",),
    "stock": ("quantity",),
}


def _retype(old: sa.types.TypeEngine[Any], new: sa.types.TypeEngine[Any]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table, columns in QUANTITIES.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.alter_column(column, existing_type=old, type_=new)


def upgrade() -> None:
    _retype(sa.Numeric(18, 3), sa.String())


def downgrade() -> None:
    _retype(sa.String(), sa.Numeric(18, 3))
