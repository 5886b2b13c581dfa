"""Plain records shared by the store and the scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Portal:
    id: int
    domain: str
    member_id: str
    plan: str
    status: str
    time_zone: str
    is_default: bool
    #: The portal's own leaky-bucket settings, overriding its plan's.
    rate_threshold: float | None = None
    rate_drain: float | None = None
    #: How clients reach the portal (``https://host[:port][/path]``); None: by ``Host``.
    public_url: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def today(self, now: datetime) -> date:
        """The portal's calendar date at ``now``."""
        return now.astimezone(self.zone).date()


@dataclass(frozen=True, slots=True)
class User:
    portal_id: int
    id: int
    active: bool
    is_admin: bool
    name: str
    last_name: str
    second_name: str = ""
    email: str = ""
    xml_id: str = ""
    user_type: str = "employee"
    time_zone: str = ""
    work_position: str = ""
    gender: str = ""
    birthday: date | None = None
    work_phone: str = ""
    personal_mobile: str = ""
    inner_phone: str = ""
    website: str = ""
    personal_city: str = ""
    date_register: datetime | None = None
    last_login: datetime | None = None
    timestamp_x: datetime | None = None
    #: The other profile fields that were given, as (FIELD, value) pairs in field order.
    profile: tuple[tuple[str, str], ...] = ()
    departments: tuple[int, ...] = field(default=())

    def profile_value(self, name: str) -> str | None:
        """A profile field (``"WORK_COMPANY"``) if it was ever given."""
        return dict(self.profile).get(name)

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    portal_id: int
    user_id: int
    scopes: frozenset[str]
    title: str
    active: bool
    created_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class App:
    """A local application installed in a portal: the OAuth client behind ``auth``."""

    portal_id: int
    id: int
    client_id: str
    name: str
    scopes: frozenset[str]
    redirect_uri: str
    handler: str
    version: int
    #: The only users who may use the app; None: every user of the portal.
    allowed_users: frozenset[int] | None
    created_at: datetime
    #: The last day of the app's paid or trial period; None: it has none.
    paid_until: date | None = None
    #: What the app's events carry as ``auth[application_token]``.
    application_token: str | None = None

    def admits(self, user_id: int) -> bool:
        return self.allowed_users is None or user_id in self.allowed_users

    def paid_days_left(self, today: date) -> int | None:
        """Days of the paid period left after ``today`` (``app.info``'s ``DAYS``):
        0 on its last day, negative once it is over; None without one."""
        return None if self.paid_until is None else (self.paid_until - today).days

    def payment_expired(self, today: date) -> bool:
        days = self.paid_days_left(today)
        return days is not None and days < 0
