"""User roles and prediction margins

Accounts get a role (existing ones stay admins); predictions keep the margin between their fine
label and the runner-up, which the review inbox ranks by. Existing predictions get theirs from
the alternatives they stored. Two indexes serve the inbox: margins, and questions with their
clients.

Revision ID: 9746cfbba460
Revises: 48c3372937b0
Create Date: 2026-12-01 12:56:26.434158

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9746cfbba460"
down_revision = "48c3372937b0"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade():
    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("margin", sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f("ix_predictions_margin"), ["margin"], unique=False)

    with op.batch_alter_table("queries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_queries_normalized_client", ["normalized", "client_hash"], unique=False
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("role", sa.String(length=16), server_default="admin", nullable=False)
        )

    predictions = sa.table(
        "predictions",
        sa.column("id", sa.Integer),
        sa.column("fine_confidence", sa.Float),
        sa.column("scores", sa.JSON),
        sa.column("margin", sa.Float),
    )
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(predictions.c.id, predictions.c.fine_confidence, predictions.c.scores)
            .where(predictions.c.id > last_id)
            .order_by(predictions.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        updates = []
        for row_id, confidence, scores in rows:
            alternatives = (scores or {}).get("alternatives") or []
            runner_up = max((float(a.get("confidence", 0)) for a in alternatives), default=0.0)
            updates.append({"row_id": row_id, "value": max(0.0, float(confidence) - runner_up)})
        connection.execute(
            predictions.update()
            .where(predictions.c.id == sa.bindparam("row_id"))
            .values(margin=sa.bindparam("value")),
            updates,
        )
        last_id = rows[-1][0]


def downgrade():
    with op.batch_alter_table("queries", schema=None) as batch_op:
        batch_op.drop_index("ix_queries_normalized_client")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("role")

    with op.batch_alter_table("predictions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_predictions_margin"))
        batch_op.drop_column("margin")
