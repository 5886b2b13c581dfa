"""time control: timeman.timecontrol.* absences and workday marks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 06:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "timecontrol_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("workday_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("source_start", sa.String(length=32), nullable=False),
        sa.Column("source_finish", sa.String(length=32), nullable=False),
        sa.Column("ip_start", sa.String(length=64), nullable=False),
        sa.Column("ip_finish", sa.String(length=64), nullable=False),
        sa.Column("report_type", sa.String(length=16), nullable=False),
        sa.Column("report_text", sa.Text(), nullable=True),
        sa.Column("system_text", sa.Text(), nullable=True),
        sa.Column("calendar", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workday_id"],
            ["workdays.id"],
            name=op.f("fk_timecontrol_records_workday_id_workdays"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timecontrol_records")),
    )
    op.create_index(
        op.f("ix_timecontrol_records_portal_id_user_id_started_at"),
        "timecontrol_records",
        ["portal_id", "user_id", "started_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_timecontrol_records_portal_id_user_id_started_at"),
        table_name="timecontrol_records",
    )
    op.drop_table("timecontrol_records")
