"""One table of counted tries for every limit (app/services/throttle.py) in place of the sign-in
attempts; students get a comparable name key and remember the token a PIN rejoin or reset replaced.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STUDENT_COLUMNS = ("name_key", "replaced_token_hash", "replaced_at", "replaced_by")


def upgrade() -> None:
    op.create_table(
        "attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attempt") as batch_op:
        batch_op.create_index("ix_attempt_kind_key", ["kind", "key"], unique=False)
        batch_op.create_index(batch_op.f("ix_attempt_attempted_at"), ["attempted_at"], unique=False)
    _drop_sign_in_attempts()
    with op.batch_alter_table("student") as batch_op:
        batch_op.add_column(
            sa.Column(
                "name_key",
                sqlmodel.sql.sqltypes.AutoString(length=240),
                nullable=False,
                server_default="",
            )
        )
        batch_op.add_column(
            sa.Column(
                "replaced_token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
        batch_op.add_column(sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("replaced_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_student_name_key"), ["name_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_student_replaced_token_hash"), ["replaced_token_hash"], unique=False
        )
    _fill_name_keys()


def _fill_name_keys() -> None:
    """The key of every existing name, by the rule of app/services/students.py at this revision."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, display_name FROM student")).all()
    for student_id, name in rows:
        key = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
        connection.execute(
            sa.text("UPDATE student SET name_key = :key WHERE id = :id"),
            {"key": " ".join(key.split()), "id": student_id},
        )


def _drop_sign_in_attempts() -> None:
    with op.batch_alter_table("sign_in_attempt") as batch_op:
        for column in ("email", "client_ip", "attempted_at"):
            batch_op.drop_index(f"ix_sign_in_attempt_{column}")
    op.drop_table("sign_in_attempt")


def downgrade() -> None:
    with op.batch_alter_table("student") as batch_op:
        batch_op.drop_index(batch_op.f("ix_student_replaced_token_hash"))
        batch_op.drop_index(batch_op.f("ix_student_name_key"))
        for column in reversed(STUDENT_COLUMNS):
            batch_op.drop_column(column)
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("client_ip", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_attempt") as batch_op:
        for column in ("attempted_at", "client_ip", "email"):
            batch_op.create_index(f"ix_sign_in_attempt_{column}", [column], unique=False)
    with op.batch_alter_table("attempt") as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempt_attempted_at"))
        batch_op.drop_index("ix_attempt_kind_key")
    op.drop_table("attempt")
