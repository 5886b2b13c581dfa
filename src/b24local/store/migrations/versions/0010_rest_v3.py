"""REST 3.0: Idempotency-Key answers; workday duration and break seconds in columns

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 06:10:00.000000
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _backfill() -> None:
    """Worked and break seconds of the days stored so far, as the rules count them
    (breaks clipped to the day; an unfinished day has worked 0)."""
    from b24local.store.types import UTCDateTime

    days = sa.table(
        "workdays",
        sa.column("id", sa.Integer),
        sa.column("started_at", UTCDateTime),
        sa.column("finished_at", UTCDateTime),
        sa.column("breaks", sa.JSON),
        sa.column("duration", sa.Integer),
        sa.column("break_length", sa.Integer),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(days.c.id, days.c.started_at, days.c.finished_at, days.c.breaks))
    for row in rows.all():
        finish = row.finished_at
        taken = 0.0
        for start, end in row.breaks or []:
            stop = _moment(end) if end else finish
            begin = _moment(start)
            if finish is not None and stop is not None:
                stop = min(stop, finish)
            if stop is not None and begin is not None and stop > begin:
                taken += (stop - begin).total_seconds()
        worked = (finish - row.started_at).total_seconds() - taken if finish else 0
        bind.execute(
            sa.update(days)
            .where(days.c.id == row.id)
            .values(duration=max(int(worked), 0), break_length=int(taken))
        )


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("portal_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("client", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("method", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "portal_id", "client", "user_id", "method", "key", name=op.f("pk_idempotency_keys")
        ),
    )
    op.create_index(
        op.f("ix_idempotency_keys_expires_at"), "idempotency_keys", ["expires_at"], unique=False
    )
    with op.batch_alter_table("workdays") as batch:
        batch.add_column(sa.Column("duration", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("break_length", sa.Integer(), server_default="0", nullable=False)
        )
    _backfill()
    op.create_index(
        op.f("ix_workdays_portal_id_user_id_duration_id"),
        "workdays",
        ["portal_id", "user_id", "duration", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_workdays_portal_id_user_id_duration_id"), table_name="workdays")
    with op.batch_alter_table("workdays") as batch:
        batch.drop_column("break_length")
        batch.drop_column("duration")
    op.drop_index(op.f("ix_idempotency_keys_expires_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
