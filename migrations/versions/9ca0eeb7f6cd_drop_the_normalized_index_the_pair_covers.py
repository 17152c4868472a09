"""Drop ix_queries_normalized: ix_queries_normalized_client starts with the same column

Every lookup or grouping by the normalised question can use the pair index, so the single one
only cost a write: each stored query updated both.

Revision ID: 9ca0eeb7f6cd
Revises: c98b349a2f94
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9ca0eeb7f6cd'
down_revision = 'c98b349a2f94'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.drop_index('ix_queries_normalized')


def downgrade():
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.create_index('ix_queries_normalized', ['normalized'], unique=False)
