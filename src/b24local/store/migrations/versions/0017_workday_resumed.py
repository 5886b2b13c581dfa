"""workdays: when the day last resumed, which a pause or close undone within the
same second leaves no break to show (time control starts absences there)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 15:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

from b24local.store.migrate import drop_column

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Days stored before stay NULL: their breaks say when work resumed, except
    # within a second, which no one can recover now.
    with op.batch_alter_table("workdays", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resumed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # Natively: a batch rebuild would drop the table's change-log triggers (0016).
    drop_column("workdays", "resumed_at")
