"""Artifact blobs every host reads, pinned versions, queued runs' heartbeat

Revision ID: c98b349a2f94
Revises: dde33ef5771d
Create Date: 2026-12-01 15:55:03.475344

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c98b349a2f94'
down_revision = 'dde33ef5771d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'artifact_blobs',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('chunk_count', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_artifact_blobs')),
    )
    op.create_table(
        'artifact_chunks',
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ['sha256'], ['artifact_blobs.sha256'],
            name=op.f('fk_artifact_chunks_sha256_artifact_blobs'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('sha256', 'seq', name=op.f('pk_artifact_chunks')),
    )
    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        # sa.false() renders as 0 on SQLite and false on PostgreSQL.
        batch_op.add_column(
            sa.Column('pinned', sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runner', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('host', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('training_runs', schema=None) as batch_op:
        batch_op.drop_column('host')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('runner')

    with op.batch_alter_table('model_versions', schema=None) as batch_op:
        batch_op.drop_column('pinned')

    op.drop_table('artifact_chunks')
    op.drop_table('artifact_blobs')
