"""A run names its task: a retrain, or a label-issue scan

Revision ID: e3a9b0c17d52
Revises: 5d2e8c41a7f3
Create Date: 2026-12-07 19:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a9b0c17d52'
down_revision = '5d2e8c41a7f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('task', sa.String(length=16), server_default='retrain', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.drop_column('task')
