"""event deliveries: the sender's index covers the handler URL, so finding due rows
of handlers that are free reads the index alone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 10:10:00.000000
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_deliveries") as batch:
        batch.drop_index(batch.f("ix_event_deliveries_state_due_at"))
        batch.create_index(
            batch.f("ix_event_deliveries_state_due_at_handler_url"),
            ["state", "due_at", "handler_url"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("event_deliveries") as batch:
        batch.drop_index(batch.f("ix_event_deliveries_state_due_at_handler_url"))
        batch.create_index(
            batch.f("ix_event_deliveries_state_due_at"), ["state", "due_at"], unique=False
        )
