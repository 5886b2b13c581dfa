"""application options: app.option.* and user.option.* per app and per app and user

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 07:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_options",
        sa.Column("portal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("app_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id", "app_id"],
            ["apps.portal_id", "apps.id"],
            name=op.f("fk_app_options_portal_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("portal_id", "app_id", "user_id", name=op.f("pk_app_options")),
    )


def downgrade() -> None:
    op.drop_table("app_options")
