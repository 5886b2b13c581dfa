"""What the real platform knows beyond what b24local implements.

``scope`` with ``full=true`` names every scope of the platform, not only ours:
SDKs compare it against the real list, so it is copied from the reference
(api-reference/scopes/permissions.md) rather than derived from the registry.
"""

from __future__ import annotations

#: Every scope of the permissions page, plus the versions it lists under ``user``
#: (``user_brief``, ``user_basic``), both names of the working-group row and the
#: three deprecated task scopes the page's footnote says are still granted.
PLATFORM_SCOPES: tuple[str, ...] = tuple(
    sorted(
        {
            "ai_admin",
            "biconnector",
            "bizproc",
            "booking",
            "calendar",
            "call",
            "cashbox",
            "catalog",
            "contact_center",
            "crm",
            "delivery",
            "department",
            "disk",
            "documentgenerator",
            "entity",
            "humanresources",
            "humanresources.hcmlink",
            "im",
            "imbot",
            "imconnector",
            "imopenlines",
            "intranet",
            "landing",
            "lists",
            "log",
            "mailservice",
            "main",
            "messageservice",
            "mobile",
            "pay_system",
            "placement",
            "pull",
            "rpa",
            "sale",
            "salescenter",
            "sign.b2e",
            "socialnetwork",
            "sonet_group",
            "task",
            "tasks",
            "tasks_extended",
            "tasksmobile",
            "telephony",
            "timeman",
            "user",
            "user.userfield",
            "user_basic",
            "user_brief",
            "userconsent",
            "userfieldconfig",
            "vote",
        }
    )
)
