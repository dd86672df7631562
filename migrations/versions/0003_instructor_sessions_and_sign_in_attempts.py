"""Instructor sessions (hashed cookie tokens) and failed sign-in attempts (for the rate limit).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 08:04:51.753449
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_in_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_attempted_at'), ['attempted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_client_ip'), ['client_ip'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_attempt_email'), ['email'], unique=False)

    op.create_table('instructor_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instructor_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructor.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('instructor_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instructor_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_instructor_session_instructor_id'), ['instructor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_instructor_session_token_hash'), ['token_hash'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('instructor_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instructor_session_token_hash'))
        batch_op.drop_index(batch_op.f('ix_instructor_session_instructor_id'))
        batch_op.drop_index(batch_op.f('ix_instructor_session_expires_at'))

    op.drop_table('instructor_session')
    with op.batch_alter_table('sign_in_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_attempt_email'))
        batch_op.drop_index(batch_op.f('ix_sign_in_attempt_client_ip'))
        batch_op.drop_index(batch_op.f('ix_sign_in_attempt_attempted_at'))

    op.drop_table('sign_in_attempt')
