"""Training runs record their kind, why, and each step's duration

Revision ID: dde33ef5771d
Revises: 9746cfbba460
Create Date: 2026-12-01 13:13:54.471518

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dde33ef5771d'
down_revision = '9746cfbba460'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('kind_reason', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('step_seconds', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.drop_column('step_seconds')
        batch_op.drop_column('kind_reason')
        batch_op.drop_column('kind')
