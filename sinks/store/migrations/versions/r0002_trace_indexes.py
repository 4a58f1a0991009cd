"""Covering indexes for the trace queries on a large store.

A genealogy walk joins every lot it meets with ``batches`` for its product, material and hold
flag; ``ix_batches_code_facts`` holds exactly those columns, so the join is an index-only lookup
instead of one visit of the wide batch row (whole chain as JSON) per lot. The trace codes of a
batch come from ``ix_trace_codes_batch_trace`` alone, which replaces the index on ``batch_code``.

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_batches_code_facts",
        "batches",
        ["batch_code", "product_code", "material_code", "on_hold"],
    )
    op.create_index("ix_trace_codes_batch_trace", "trace_codes", ["batch_code", "trace_code"])
    op.drop_index("ix_trace_codes_batch_code", table_name="trace_codes")


def downgrade() -> None:
    op.create_index("ix_trace_codes_batch_code", "trace_codes", ["batch_code"])
    op.drop_index("ix_trace_codes_batch_trace", table_name="trace_codes")
    op.drop_index("ix_batches_code_facts", table_name="batches")
