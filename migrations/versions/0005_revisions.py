"""Revision counters on games and seats, so that a rendered page can be served again until something it
shows changes (app/revisions.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("game", "seat"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    for table in ("seat", "game"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("revision")
