"""login hardening: failed log-in counters, portals' public URL

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 02:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_expires_at"), ["expires_at"], unique=False
        )
    with op.batch_alter_table("portals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("portals", schema=None) as batch_op:
        batch_op.drop_column("public_url")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_expires_at"))
    op.drop_table("login_failures")
