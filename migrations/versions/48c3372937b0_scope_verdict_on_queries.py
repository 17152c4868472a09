"""Scope verdict on queries: whether the text was an English question, and why not

Revision ID: 48c3372937b0
Revises: 0f0d1d839b6a
Create Date: 2026-12-01 12:59:19.318630

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '48c3372937b0'
down_revision = '0f0d1d839b6a'
branch_labels = None
depends_on = None


def upgrade():
    # Queries stored before the check existed count as in scope.
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_scope', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('scope_reason', sa.String(length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_queries_in_scope'), ['in_scope'], unique=False)


def downgrade():
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queries_in_scope'))
        batch_op.drop_column('scope_reason')
        batch_op.drop_column('in_scope')
