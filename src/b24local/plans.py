"""The plans a portal can be on, and what b24local makes of each.

A portal's plan decides whether it has the REST API at all, the size of its
request bucket (``rest/limits.py``) and the license ``app.info`` names. These are
the only plans b24local knows, so the only ones the CLI accepts.
"""

from __future__ import annotations

FREE = "free"
STANDARD = "standard"
PROFESSIONAL = "professional"
ENTERPRISE = "enterprise"

KNOWN = (FREE, STANDARD, PROFESSIONAL, ENTERPRISE)
DEFAULT = PROFESSIONAL
#: Plans on which the real service refuses the REST API.
NON_COMMERCIAL = frozenset({FREE})
#: ``LICENSE_FAMILY`` of ``app.info``: the plan's short name without a size suffix.
FAMILIES = {STANDARD: "std", PROFESSIONAL: "pro", ENTERPRISE: "ent"}

#: How many active employees ``user.add`` may bring a portal to (None: no limit); the
#: sizes of the real plans: Free is unlimited, the others 50, 100 and 250.
USER_LIMITS: dict[str, int | None] = {FREE: None, STANDARD: 50, PROFESSIONAL: 100, ENTERPRISE: 250}

#: What ``feature.get`` answers for the codes its page names. Both come with the
#: Professional plan and above: the offline-events page says so of ``auth_connector``
#: and only "certain plans" of the extended (confirmed) queue mode.
FEATURES: dict[str, frozenset[str]] = {
    "rest_offline_extended": frozenset({PROFESSIONAL, ENTERPRISE}),
    "rest_auth_connector": frozenset({PROFESSIONAL, ENTERPRISE}),
}


def has_feature(plan: str, code: str) -> bool:
    """Whether a portal on ``plan`` has the feature; an unknown code is no feature."""
    return plan in FEATURES.get(code, frozenset())
