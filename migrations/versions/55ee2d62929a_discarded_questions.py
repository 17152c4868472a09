"""Discarded questions: texts a reviewer decided are not questions

Revision ID: 55ee2d62929a
Revises: 41bb414f07d9
Create Date: 2026-12-08 02:19:38.362554

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55ee2d62929a'
down_revision = '41bb414f07d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('discarded_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('normalized', sa.String(length=600), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('query_id', sa.Integer(), nullable=True),
    sa.Column('discarded_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['query_id'], ['queries.id'], name=op.f('fk_discarded_questions_query_id_queries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discarded_questions')),
    sa.UniqueConstraint('normalized', name=op.f('uq_discarded_questions_normalized'))
    )


def downgrade():
    op.drop_table('discarded_questions')
