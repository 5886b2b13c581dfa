"""offline events: who raised each queued event (EVENT_ADDITIONAL.user_id); deliveries by handler and time (ONOFFLINEEVENT's minTimeout)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 09:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offline_events") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("event_deliveries") as batch:
        batch.create_index(
            batch.f("ix_event_deliveries_handler_id_raised_at"),
            ["handler_id", "raised_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("event_deliveries") as batch:
        batch.drop_index(batch.f("ix_event_deliveries_handler_id_raised_at"))
    with op.batch_alter_table("offline_events") as batch:
        batch.drop_column("user_id")
