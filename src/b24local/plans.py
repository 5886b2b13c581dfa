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
