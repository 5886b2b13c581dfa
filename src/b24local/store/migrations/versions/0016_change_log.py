"""change log: triggers note every change to a cached table in store_changes, so every
process retires exactly the cached rows and callers that changed

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 15:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The tables as they were at this revision, with the columns naming a row's portal
#: and user (store/changes.py's TRACKED must agree; a test checks it).
TRACKED = {
    "portals": ("id", None),
    "users": ("portal_id", "id"),
    "user_departments": ("portal_id", "user_id"),
    "presence": ("portal_id", "user_id"),
    "webhooks": ("portal_id", "user_id"),
    "access_tokens": ("portal_id", "user_id"),
    "apps": ("portal_id", None),
    "workdays": ("portal_id", "user_id"),
    "timeman_settings": ("portal_id", "user_id"),
    "network_ranges": ("portal_id", None),
    "work_schedules": ("portal_id", None),
    "settings": ("portal_id", None),
    "timecontrol_records": ("portal_id", "user_id"),
}

_PG_FUNCTION = """
CREATE FUNCTION b24local_note_change() RETURNS trigger LANGUAGE plpgsql
-- As its owner: a role granted a table but not the log (a DBA's) may still write it;
-- with the built-in names only, so no writer's search_path lends it an operator.
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    user_column text := NULLIF(TG_ARGV[1], '');
    old_row jsonb;
    new_row jsonb;
BEGIN
    -- A restore puts back every row and then says so in one row of its own.
    IF current_setting('b24local.quiet', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        old_row := to_jsonb(OLD);
        INSERT INTO {log} (tbl, portal_id, user_id, xid, changed_at)
        VALUES (TG_TABLE_NAME, (old_row ->> TG_ARGV[0])::integer,
                (old_row ->> user_column)::integer,
                pg_current_xact_id()::text::bigint,
                extract(epoch FROM clock_timestamp()));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := to_jsonb(NEW);
        IF old_row IS NULL
           OR (old_row ->> TG_ARGV[0]) IS DISTINCT FROM (new_row ->> TG_ARGV[0])
           OR (old_row ->> user_column) IS DISTINCT FROM (new_row ->> user_column) THEN
            INSERT INTO {log} (tbl, portal_id, user_id, xid, changed_at)
            VALUES (TG_TABLE_NAME, (new_row ->> TG_ARGV[0])::integer,
                    (new_row ->> user_column)::integer,
                    pg_current_xact_id()::text::bigint,
                    extract(epoch FROM clock_timestamp()));
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""

#: ``TRUNCATE`` fires no row trigger: a statement trigger notes the whole table.
_PG_TRUNCATE_FUNCTION = """
CREATE FUNCTION b24local_note_truncate() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF current_setting('b24local.quiet', true) = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO {log} (tbl, portal_id, user_id, xid, changed_at)
    VALUES (TG_TABLE_NAME, NULL, NULL, pg_current_xact_id()::text::bigint,
            extract(epoch FROM clock_timestamp()));
    RETURN NULL;
END
$$
"""

_SQLITE_NOW = "(julianday('now') - 2440587.5) * 86400.0"


def _sqlite_triggers(table: str, portal: str, user: str | None) -> list[str]:
    def note(row: str) -> str:
        user_value = f"{row}.{user}" if user else "NULL"
        return (
            "INSERT INTO store_changes (tbl, portal_id, user_id, changed_at) "
            f"VALUES ('{table}', {row}.{portal}, {user_value}, {_SQLITE_NOW});"
        )

    moved = f"NEW.{portal} IS NOT OLD.{portal}" + (
        f" OR NEW.{user} IS NOT OLD.{user}" if user else ""
    )
    return [
        f"CREATE TRIGGER b24local_{table}_ins AFTER INSERT ON {table} BEGIN {note('NEW')} END",
        f"CREATE TRIGGER b24local_{table}_upd AFTER UPDATE ON {table} BEGIN {note('OLD')} END",
        f"CREATE TRIGGER b24local_{table}_mov AFTER UPDATE ON {table} WHEN {moved} "
        f"BEGIN {note('NEW')} END",
        f"CREATE TRIGGER b24local_{table}_del AFTER DELETE ON {table} BEGIN {note('OLD')} END",
    ]


def upgrade() -> None:
    op.create_table(
        "store_changes",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tbl", sa.String(length=64), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_store_changes")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_store_changes_xid"), "store_changes", ["xid"], unique=False)
    op.create_index(
        op.f("ix_store_changes_changed_at"), "store_changes", ["changed_at"], unique=False
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The function runs under the writer's search_path, which need not name
        # this schema (psql, another tool): it names the log by its schema.
        schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
        log = f"{bind.dialect.identifier_preparer.quote_schema(schema)}.store_changes"
        op.execute(_PG_FUNCTION.replace("{log}", log))
        op.execute(_PG_TRUNCATE_FUNCTION.replace("{log}", log))
        for table, (portal, user) in TRACKED.items():
            op.execute(
                f"CREATE TRIGGER b24local_changes AFTER INSERT OR UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION b24local_note_change('{portal}', '{user or ''}')"
            )
            op.execute(
                f"CREATE TRIGGER b24local_truncated AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION b24local_note_truncate()"
            )
        return
    for table, (portal, user) in TRACKED.items():
        for statement in _sqlite_triggers(table, portal, user):
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TRACKED:
            op.execute(f"DROP TRIGGER IF EXISTS b24local_changes ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS b24local_truncated ON {table}")
        op.execute("DROP FUNCTION IF EXISTS b24local_note_change()")
        op.execute("DROP FUNCTION IF EXISTS b24local_note_truncate()")
    else:
        for table in TRACKED:
            for kind in ("ins", "upd", "mov", "del"):
                op.execute(f"DROP TRIGGER IF EXISTS b24local_{table}_{kind}")
    op.drop_index(op.f("ix_store_changes_changed_at"), table_name="store_changes")
    op.drop_index(op.f("ix_store_changes_xid"), table_name="store_changes")
    op.drop_table("store_changes")
