"""Queries get an unguessable public token; existing rows are given one

Revision ID: b7c41e9a2d15
Revises: 4fe7ed49ba4b
Create Date: 2026-12-01 13:10:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7c41e9a2d15'
down_revision = '4fe7ed49ba4b'
branch_labels = None
depends_on = None

BATCH = 1000


def new_token() -> str:
    # The same shape as the application's tokens: 144 random bits, never a leading "-".
    while True:
        token = secrets.token_urlsafe(18)
        if token[0].isalnum():
            return token


def upgrade():
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=32), nullable=True))

    queries = sa.table('queries', sa.column('id', sa.Integer()), sa.column('token', sa.String()))
    connection = op.get_bind()
    ids = connection.execute(sa.select(queries.c.id).where(queries.c.token.is_(None))).scalars().all()
    update = (
        queries.update()
        .where(queries.c.id == sa.bindparam('row_id'))
        .values(token=sa.bindparam('new_token'))
    )
    for start in range(0, len(ids), BATCH):
        connection.execute(
            update, [{'row_id': row_id, 'new_token': new_token()} for row_id in ids[start:start + BATCH]]
        )

    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_queries_token'), ['token'])


def downgrade():
    with op.batch_alter_table('queries', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_queries_token'), type_='unique')
        batch_op.drop_column('token')
