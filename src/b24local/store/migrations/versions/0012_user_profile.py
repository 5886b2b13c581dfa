"""users: the rest of the profile (user.add / user.update fields without a column)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

from b24local.store.migrate import drop_column

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("profile", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    drop_column("users", "profile")
