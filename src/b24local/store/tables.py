"""The schema. Every row belongs to a portal; IDs a client sees are per portal.

Keep this in step with the migrations: ``tests/unit/test_migrations.py`` fails
when the two disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

portals = Table(
    "portals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("domain", String(255), nullable=False, unique=True),
    Column("member_id", String(64), nullable=False, unique=True),
    Column("plan", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("last_user_id", Integer, nullable=False),
    Column("last_department_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("rate_threshold", Float, nullable=True),
    Column("rate_drain", Float, nullable=True),
    Column("last_app_id", Integer, nullable=False, server_default="0"),
    # How clients reach the portal behind a proxy (``https://host[:port][/path]``);
    # None: as each request's Host header says.
    Column("public_url", Text, nullable=True),
)

users = Table(
    "users",
    metadata,
    Column("portal_id", Integer, primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("active", Boolean, nullable=False),
    Column("is_admin", Boolean, nullable=False),
    Column("name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("second_name", String(100), nullable=False),
    Column("email", String(255), nullable=False),
    Column("xml_id", String(255), nullable=False),
    Column("user_type", String(16), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("work_position", String(255), nullable=False),
    Column("gender", String(1), nullable=False),
    Column("birthday", Date, nullable=True),
    Column("work_phone", String(64), nullable=False),
    Column("personal_mobile", String(64), nullable=False),
    Column("inner_phone", String(64), nullable=False),
    Column("website", String(255), nullable=False),
    Column("personal_city", String(255), nullable=False),
    Column("date_register", UTCDateTime, nullable=False),
    Column("last_login", UTCDateTime, nullable=True),
    Column("timestamp_x", UTCDateTime, nullable=False),
    # The rest of the profile user.add and user.update accept ({"WORK_COMPANY": ...});
    # a field never given is absent, and user.get leaves it out as the real one does.
    Column("profile", JSON, nullable=False, server_default="{}"),
    # scrypt of the user's password for the OAuth login page; None: cannot log in.
    Column("password_hash", String(255), nullable=True),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
    Index(None, "portal_id", "last_name"),
)

departments = Table(
    "departments",
    metadata,
    Column("portal_id", Integer, primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("parent_id", Integer, nullable=True),
    Column("head_user_id", Integer, nullable=True),
    Column("sort", Integer, nullable=False),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
)

user_departments = Table(
    "user_departments",
    metadata,
    Column("portal_id", Integer, primary_key=True),
    Column("user_id", Integer, primary_key=True),
    Column("department_id", Integer, primary_key=True),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
    ForeignKeyConstraint(
        ["portal_id", "department_id"],
        ["departments.portal_id", "departments.id"],
        ondelete="CASCADE",
    ),
    Index(None, "portal_id", "department_id"),
)

presence = Table(
    "presence",
    metadata,
    Column("portal_id", Integer, primary_key=True),
    Column("user_id", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("idle_since", UTCDateTime, nullable=True),
    Column("last_activity", UTCDateTime, nullable=True),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    # SHA-256 of the secret code: codes are random, so a fast hash is enough.
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("scopes", Text, nullable=False),
    Column("title", String(255), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("client_id", String(64), nullable=True),
    Column("scopes", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
)

apps = Table(
    "apps",
    metadata,
    Column("portal_id", Integer, primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("client_id", String(64), nullable=False, unique=True),
    # SHA-256 of the client secret: secrets are random, so a fast hash is enough.
    Column("secret_hash", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("handler", Text, nullable=False),
    Column("version", Integer, nullable=False),
    # The users the app is restricted to; None: every user of the portal.
    Column("allowed_users", JSON, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # The last day of a paid or trial period; None: no such period (a local app).
    Column("paid_until", Date, nullable=True),
    # What events carry as auth[application_token], so a handler knows the sender.
    Column("application_token", String(32), nullable=True),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
)

#: One-time OAuth secrets: authorization codes (``kind`` "code") and refresh tokens
#: ("refresh"). Each is spent by setting ``used_at``.
oauth_grants = Table(
    "oauth_grants",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("client_id", String(64), nullable=False, index=True),
    Column("scopes", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
)

#: Who is logged in to the OAuth login page (a cookie holds the secret).
login_sessions = Table(
    "login_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
)

#: Failed log-ins on the OAuth page, counted per login and per client address so
#: that passwords cannot be guessed at speed (:mod:`b24local.oauth.throttle`).
login_failures = Table(
    "login_failures",
    metadata,
    # SHA-256 of what is counted: a login as typed may be a mistyped password, so
    # none is kept in clear.
    Column("key_hash", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    # When the count starts over; once the limit is reached, when the lock ends.
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

settings = Table(
    "settings",
    metadata,
    # Portal 0 holds server-wide settings.
    Column("portal_id", Integer, primary_key=True, autoincrement=False),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- Time tracking --------------------------------------------------------------------

workdays = Table(
    "workdays",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("tz_offset", Integer, nullable=False),
    Column("zone", String(64), nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # [[start, end|null], ...] as UTC ISO strings; sorted, non-overlapping.
    Column("breaks", JSON, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("ip_open", String(64), nullable=False),
    Column("ip_close", String(64), nullable=False),
    Column("lat_open", Float, nullable=True),
    Column("lon_open", Float, nullable=True),
    Column("lat_close", Float, nullable=True),
    Column("lon_close", Float, nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    # When the day last resumed after a pause or a close (time control's absences
    # start no earlier); NULL until it does, and for days stored before 0017.
    Column("resumed_at", UTCDateTime, nullable=True),
    # Worked and break seconds as of the last change (REST 3.0 timeman.record.*
    # filters and sorts by them in SQL); a day still open has worked 0 so far.
    Column("duration", Integer, nullable=False, server_default="0"),
    Column("break_length", Integer, nullable=False, server_default="0"),
    ForeignKeyConstraint(
        ["portal_id", "user_id"], ["users.portal_id", "users.id"], ondelete="CASCADE"
    ),
    Index(None, "portal_id", "user_id", "started_at"),
    # REST 3.0 timeman.record.list sorts a user's records by duration.
    Index(None, "portal_id", "user_id", "duration", "id"),
)

#: Every transition and edit of a workday: who, when, from what, to what, and why.
workday_events = Table(
    "workday_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("workday_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=True),
    Column("needs_approval", Boolean, nullable=False),
    Column("report", Text, nullable=False),
    Column("ip", String(64), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    ForeignKeyConstraint(["workday_id"], ["workdays.id"], ondelete="CASCADE"),
    Index(None, "portal_id", "workday_id"),
)

#: Work-time settings; user 0 holds the portal's defaults, NULL means "inherit".
timeman_settings = Table(
    "timeman_settings",
    metadata,
    Column("portal_id", Integer, primary_key=True, autoincrement=False),
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("enabled", Boolean, nullable=True),
    Column("free", Boolean, nullable=True),
    Column("max_start", Integer, nullable=True),
    Column("min_finish", Integer, nullable=True),
    Column("min_duration", Integer, nullable=True),
    Column("allowed_delta", Integer, nullable=True),
)

#: Office networks (``timeman.networkrange.*``), in the order they were set.
network_ranges = Table(
    "network_ranges",
    metadata,
    Column("portal_id", Integer, primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    # "first-last" or one address: two IPv6 addresses in full fit.
    Column("ip_range", String(100), nullable=False),
    Column("name", Text, nullable=False),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
)

# --- work schedules (timeman.schedule.get) ------------------------------------------------

#: Work schedules; the nested parts (shifts, calendar exclusions, violation rules,
#: assignments) are small documents always read with their schedule.
work_schedules = Table(
    "work_schedules",
    metadata,
    Column("portal_id", Integer, primary_key=True, autoincrement=False),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", Text, nullable=False),
    Column("schedule_type", String(16), nullable=False),
    Column("report_period", String(16), nullable=False),
    Column("start_week_day", Integer, nullable=False),
    Column("for_all_users", Boolean, nullable=False),
    Column("browser", Boolean, nullable=False),
    Column("controlled_actions", Integer, nullable=False),
    Column("shifts", JSON, nullable=False),
    Column("exclusions", JSON, nullable=False),
    Column("rules", JSON, nullable=False),
    Column("assignments", JSON, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("created_by", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_by", Integer, nullable=False),
    Column("deleted_by", Integer, nullable=False),
    Column("deleted_at", UTCDateTime, nullable=True),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
)

# --- Time control (timeman.timecontrol.*) ----------------------------------------------

#: Absences found from presence (IDLE) and the marks of workday changes (TM_*), with the
#: addresses they were made from (whether those are in the office network is worked
#: out against the ranges when a report is read, as the real service does).
timecontrol_records = Table(
    "timecontrol_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("workday_id", Integer, nullable=False),
    Column("type", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    # NULL while the absence goes on.
    Column("finished_at", UTCDateTime, nullable=True),
    Column("source_start", String(32), nullable=False),
    Column("source_finish", String(32), nullable=False),
    Column("ip_start", String(64), nullable=False),
    Column("ip_finish", String(64), nullable=False),
    Column("report_type", String(16), nullable=False),
    Column("report_text", Text, nullable=True),
    Column("system_text", Text, nullable=True),
    Column("calendar", Boolean, nullable=False),
    ForeignKeyConstraint(["workday_id"], ["workdays.id"], ondelete="CASCADE"),
    Index(None, "portal_id", "user_id", "started_at"),
)

# --- REST 3.0 (restv3): Idempotency-Key answers --------------------------------------------

#: The first successful answer to a call made with an ``Idempotency-Key``, kept
#: until ``expires_at`` so that every process replays the same answer.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("portal_id", Integer, primary_key=True, autoincrement=False),
    # The webhook or application, and the user: a key is theirs alone.
    Column("client", String(100), primary_key=True),
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("method", String(100), primary_key=True),
    Column("key", String(255), primary_key=True),
    # SHA-256 of the call's parameters, to tell a repeat from a reuse.
    Column("body_hash", String(64), nullable=False),
    Column("answer", Text, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

# --- Application options: app.option.* and user.option.* ----------------------------------

#: Each application's options (``user_id`` 0) and each of its users' options,
#: one JSON object per row, as the real module keeps one PHP array each.
app_options = Table(
    "app_options",
    metadata,
    Column("portal_id", Integer, primary_key=True, autoincrement=False),
    Column("app_id", Integer, primary_key=True, autoincrement=False),
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("data", Text, nullable=False),
    ForeignKeyConstraint(
        ["portal_id", "app_id"], ["apps.portal_id", "apps.id"], ondelete="CASCADE"
    ),
)

# --- Events: handlers, outgoing webhooks, the delivery outbox, offline queues -------------

#: Outgoing webhooks: a handler URL subscribed to events from the portal's settings
#: (the CLI here), with the application token it receives.
outgoing_webhooks = Table(
    "outgoing_webhooks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("handler", Text, nullable=False),
    Column("application_token", String(32), nullable=False),
    Column("title", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
)

#: Who hears an event: an application's ``event.bind`` (``app_id``) or an outgoing
#: webhook (``hook_id``). ``auth_type`` 0 means the user whose action raised it.
event_handlers = Table(
    "event_handlers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("app_id", Integer, nullable=True),
    Column("hook_id", Integer, nullable=True),
    Column("event", String(255), nullable=False),
    Column("handler", Text, nullable=False),
    Column("auth_type", Integer, nullable=False),
    # The user who bound it: a non-administrator sees and unbinds only their own.
    Column("user_id", Integer, nullable=False),
    Column("offline", Boolean, nullable=False),
    Column("connector", String(255), nullable=False),
    Column("options", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["portal_id", "app_id"], ["apps.portal_id", "apps.id"], ondelete="CASCADE"
    ),
    ForeignKeyConstraint(["hook_id"], ["outgoing_webhooks.id"], ondelete="CASCADE"),
    Index(None, "portal_id", "event"),
)

#: The outbox: one row per online event and handler, written in the transaction of
#: the change it reports and sent after that commits. Rows stay as the record of
#: what was sent, answered and retried (the dev API lists them).
event_deliveries = Table(
    "event_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("handler_id", Integer, nullable=True),
    Column("app_id", Integer, nullable=True),
    Column("hook_id", Integer, nullable=True),
    Column("event", String(255), nullable=False),
    Column("handler_url", Text, nullable=False),
    Column("data", JSON, nullable=False),
    # Whose token goes in ``auth``; None: none (an outgoing webhook, or no user).
    Column("auth_user_id", Integer, nullable=True),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    # pending, delivered, failed (gave up)
    Column("state", String(16), nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_answer", Text, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    # The form body last sent, decoded, for the dev API.
    Column("payload", JSON, nullable=True),
    ForeignKeyConstraint(["portal_id"], ["portals.id"], ondelete="CASCADE"),
    # The sender's: due rows of free handlers, found in the index alone.
    Index(None, "state", "due_at", "handler_url"),
    Index(None, "portal_id", "id"),
    # ONOFFLINEEVENT's minTimeout: when was this handler last notified?
    Index(None, "handler_id", "raised_at"),
)

#: Offline events: queued per application until it reads them (event.offline.*).
offline_events = Table(
    "offline_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("portal_id", Integer, nullable=False),
    Column("app_id", Integer, nullable=False),
    Column("event", String(255), nullable=False),
    Column("data", JSON, nullable=False),
    # The auth_connector of the call that raised it ("" for none).
    Column("connector", String(255), nullable=False),
    Column("message_id", String(32), nullable=False),
    Column("process_id", String(32), nullable=True),
    Column("error", Boolean, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Whose action raised it (EVENT_ADDITIONAL.user_id); None: no user's.
    Column("user_id", Integer, nullable=True),
    ForeignKeyConstraint(
        ["portal_id", "app_id"], ["apps.portal_id", "apps.id"], ondelete="CASCADE"
    ),
    Index(None, "portal_id", "app_id", "id"),
)

#: The change log: a row per insert, update or delete on a cached table, written by
#: triggers (migration 0016; see store/changes.py). Not captured by snapshots: it
#: describes changes, not state.
store_changes = Table(
    "store_changes",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("tbl", String(64), nullable=False),
    Column("portal_id", Integer, nullable=True),
    Column("user_id", Integer, nullable=True),
    # PostgreSQL: the writing transaction's ID (pg_current_xact_id), which tells
    # readers which rows may still be uncommitted; SQLite commits in seq order.
    Column("xid", BigInteger, nullable=True),
    # Seconds since the epoch on the database's clock: rows older than the log's
    # retention are pruned.
    Column("changed_at", Float, nullable=False),
    Index(None, "xid"),
    Index(None, "changed_at"),
    sqlite_autoincrement=True,
    info={"captured": False},
)
