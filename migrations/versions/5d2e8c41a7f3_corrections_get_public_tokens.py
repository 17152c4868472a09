"""Corrections get an unguessable public token; existing rows are given one

Revision ID: 5d2e8c41a7f3
Revises: 9ca0eeb7f6cd
Create Date: 2026-12-07 19:40:00.000000

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d2e8c41a7f3'
down_revision = '9ca0eeb7f6cd'
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
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=32), nullable=True))

    corrections = sa.table(
        'corrections', sa.column('id', sa.Integer()), sa.column('token', sa.String())
    )
    connection = op.get_bind()
    ids = connection.execute(
        sa.select(corrections.c.id).where(corrections.c.token.is_(None))
    ).scalars().all()
    update = (
        corrections.update()
        .where(corrections.c.id == sa.bindparam('row_id'))
        .values(token=sa.bindparam('new_token'))
    )
    for start in range(0, len(ids), BATCH):
        connection.execute(
            update, [{'row_id': row_id, 'new_token': new_token()} for row_id in ids[start:start + BATCH]]
        )

    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.alter_column('token', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_corrections_token'), ['token'])


def downgrade():
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_corrections_token'), type_='unique')
        batch_op.drop_column('token')
