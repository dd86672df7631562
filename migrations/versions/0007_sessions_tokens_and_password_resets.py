"""Browser sessions kept apart from API tokens, student tokens that expire (and a salt for the
rejoin link derived from it), and one-time password-reset links.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("instructor_session") as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sqlmodel.sql.sqltypes.AutoString(length=8),
                nullable=False,
                server_default="browser",
            )
        )
    _add_student_token_columns()
    _create_password_reset()


def _add_student_token_columns() -> None:
    """A token already out counts as issued at its last visit; its link starts from its hash."""
    with op.batch_alter_table("student") as batch_op:
        batch_op.add_column(sa.Column("token_issued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("link_salt", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    op.execute("UPDATE student SET token_issued_at = last_seen, link_salt = token_hash")
    with op.batch_alter_table("student") as batch_op:
        batch_op.alter_column(
            "token_issued_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column(
            "link_salt", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False
        )


def _create_password_reset() -> None:
    op.create_table(
        "password_reset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["instructor_id"], ["instructor.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("password_reset") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_reset_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_password_reset_instructor_id"), ["instructor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_password_reset_token_hash"), ["token_hash"], unique=True
        )


def downgrade() -> None:
    op.drop_table("password_reset")
    with op.batch_alter_table("student") as batch_op:
        batch_op.drop_column("link_salt")
        batch_op.drop_column("token_issued_at")
    with op.batch_alter_table("instructor_session") as batch_op:
        batch_op.drop_column("kind")
