"""office networks: timeman.networkrange.* ranges per portal

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 03:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_ranges",
        sa.Column("portal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ip_range", sa.String(length=100), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_network_ranges_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portal_id", "position", name=op.f("pk_network_ranges")),
    )


def downgrade() -> None:
    op.drop_table("network_ranges")
