"""The supplier and supplier lot of a lot get columns of their own, in the lot facts index.

A trace shows the supplier and the supplier's lot number of every upstream lot. They were read out
of the stored chain (``chain #>> '{material_receipt,supplier_id}'`` on PostgreSQL), which
decompresses the whole chain of every lot a trace meets. Now the store sink and ``tracesync store
rebuild`` write them into ``batches.supplier_id`` / ``supplier_lot``; this revision backfills
them from the chains already stored (only the rows with an ERP material receipt change), and
replaces ``ix_batches_code_facts`` (r0002) by ``ix_batches_lot_facts``, which also holds the
reconciliation status and the two new columns: the lot facts of a trace and the lookup of each lot
a genealogy walk meets are both answered from the index alone.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

SUPPLIER_COLUMNS = ("supplier_id", "supplier_lot")
LOT_FACTS = (
    "batch_code",
    "product_code",
    "material_code",
    "on_hold",
    "reconciliation_status",
    *SUPPLIER_COLUMNS,
)
CODE_FACTS = ("batch_code", "product_code", "material_code", "on_hold")

_batches = sa.table(
    "batches",
    sa.column("chain", sa.JSON().with_variant(JSONB(), "postgresql")),
    *(sa.column(name, sa.String()) for name in SUPPLIER_COLUMNS),
)


def _backfill() -> None:
    """Each stored chain's ERP material receipt supplier and supplier lot into the new columns
    (the same JSON paths the queries read before this revision)."""
    receipt = {
        name: _batches.c.chain[("material_receipt", name)].as_string() for name in SUPPLIER_COLUMNS
    }
    has_receipt = sa.or_(*(value.is_not(None) for value in receipt.values()))
    op.execute(_batches.update().where(has_receipt).values(**receipt))


def upgrade() -> None:
    for name in SUPPLIER_COLUMNS:
        op.add_column("batches", sa.Column(name, sa.String(), nullable=True))
    _backfill()
    op.create_index("ix_batches_lot_facts", "batches", list(LOT_FACTS))
    op.drop_index("ix_batches_code_facts", table_name="batches")
    op.execute("ANALYZE batches")


def downgrade() -> None:
    op.create_index("ix_batches_code_facts", "batches", list(CODE_FACTS))
    op.drop_index("ix_batches_lot_facts", table_name="batches")
    with op.batch_alter_table("batches") as batch:
        for name in SUPPLIER_COLUMNS:
            batch.drop_column(name)
