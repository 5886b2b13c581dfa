"""events: handlers, outgoing webhooks, the delivery outbox, offline queues; apps' application tokens

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 09:25:00.000000
"""

import secrets

import sqlalchemy as sa
from alembic import op

from b24local.store.migrate import drop_column

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("app_id", sa.Integer(), nullable=True),
        sa.Column("hook_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("handler_url", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("auth_user_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_answer", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_event_deliveries_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_deliveries")),
    )
    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_deliveries_portal_id_id"), ["portal_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_event_deliveries_state_due_at"), ["state", "due_at"], unique=False
        )

    op.create_table(
        "outgoing_webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("handler", sa.Text(), nullable=False),
        sa.Column("application_token", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_outgoing_webhooks_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_webhooks")),
    )
    op.create_table(
        "event_handlers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=True),
        sa.Column("hook_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("handler", sa.Text(), nullable=False),
        sa.Column("auth_type", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("connector", sa.String(length=255), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hook_id"],
            ["outgoing_webhooks.id"],
            name=op.f("fk_event_handlers_hook_id_outgoing_webhooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portal_id", "app_id"],
            ["apps.portal_id", "apps.id"],
            name=op.f("fk_event_handlers_portal_id_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"],
            ["portals.id"],
            name=op.f("fk_event_handlers_portal_id_portals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_handlers")),
    )
    with op.batch_alter_table("event_handlers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_handlers_portal_id_event"), ["portal_id", "event"], unique=False
        )

    op.create_table(
        "offline_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("connector", sa.String(length=255), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("process_id", sa.String(length=32), nullable=True),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id", "app_id"],
            ["apps.portal_id", "apps.id"],
            name=op.f("fk_offline_events_portal_id_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offline_events")),
    )
    with op.batch_alter_table("offline_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offline_events_portal_id_app_id_id"),
            ["portal_id", "app_id", "id"],
            unique=False,
        )

    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("application_token", sa.String(length=32), nullable=True))
    # Installed applications get their token now; new ones get it when installed.
    apps = sa.table(
        "apps",
        sa.column("portal_id", sa.Integer),
        sa.column("id", sa.Integer),
        sa.column("application_token", sa.String),
    )
    connection = op.get_bind()
    for portal_id, app_id in connection.execute(sa.select(apps.c.portal_id, apps.c.id)).all():
        connection.execute(
            apps.update()
            .where(apps.c.portal_id == portal_id, apps.c.id == app_id)
            .values(application_token=secrets.token_hex(16))
        )


def downgrade() -> None:
    # Natively: a batch rebuild of apps would take its options with it (CASCADE).
    drop_column("apps", "application_token")

    with op.batch_alter_table("offline_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offline_events_portal_id_app_id_id"))

    op.drop_table("offline_events")
    with op.batch_alter_table("event_handlers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_handlers_portal_id_event"))

    op.drop_table("event_handlers")
    op.drop_table("outgoing_webhooks")
    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_deliveries_state_due_at"))
        batch_op.drop_index(batch_op.f("ix_event_deliveries_portal_id_id"))

    op.drop_table("event_deliveries")
