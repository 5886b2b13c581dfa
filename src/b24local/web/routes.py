"""The pages' routes, added after the REST, OAuth and ``/_b24local`` ones."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import (
    admin_apps,
    admin_dev,
    admin_hooks,
    admin_networks,
    admin_people,
    admin_schedules,
    admin_structure,
    admin_worktime,
    approvals,
    pages,
    report_pages,
    team,
)

#: Where the style sheet and scripts are served from (shipped in the package).
STATIC = "/static"


def web_routes() -> list[BaseRoute]:
    return [
        Route("/", pages.home),
        Route("/login", pages.login, methods=["GET", "POST"]),
        Route("/logout", pages.logout, methods=["POST"]),
        Route("/day", pages.my_day),
        Route("/day/{action}", pages.day_action, methods=["POST"]),
        Route("/status", pages.my_status, methods=["POST"]),
        Route("/team", team.team),
        Route("/team/live", team.team_live),
        # After /team/live: "live" is no one's ID.
        Route("/team/{user}", pages.person_day),
        Route("/team/{user}/{action}", pages.person_action, methods=["POST"]),
        Route("/approvals", approvals.approvals_page),
        Route("/approvals/{workday}/{decision}", approvals.decide, methods=["POST"]),
        Route("/reports", report_pages.reports_page),
        Route("/reports.csv", report_pages.reports_csv),
        Route("/reports.xlsx", report_pages.reports_xlsx),
        Route("/admin", admin_people.admin_home),
        Route("/admin/people", admin_people.people_page, methods=["GET", "POST"]),
        Route("/admin/people/{user}", admin_people.person_page, methods=["GET", "POST"]),
        Route("/admin/departments", admin_structure.departments_page, methods=["GET", "POST"]),
        Route(
            "/admin/departments/{department}",
            admin_structure.department_page,
            methods=["GET", "POST"],
        ),
        Route(
            "/admin/departments/{department}/delete",
            admin_structure.delete_department,
            methods=["POST"],
        ),
        Route("/admin/webhooks", admin_hooks.webhooks_page, methods=["GET", "POST"]),
        Route("/admin/webhooks/{webhook}/delete", admin_hooks.remove_webhook, methods=["POST"]),
        Route("/admin/worktime", admin_worktime.worktime_page, methods=["GET", "POST"]),
        Route("/admin/networks", admin_networks.networks_page, methods=["GET", "POST"]),
        Route("/admin/schedules", admin_schedules.schedules_page),
        # Before the one below: "new" is no schedule's ID.
        Route("/admin/schedules/new", admin_schedules.new_schedule_page, methods=["GET", "POST"]),
        Route(
            "/admin/schedules/{schedule}", admin_schedules.schedule_page, methods=["GET", "POST"]
        ),
        Route(
            "/admin/schedules/{schedule}/delete",
            admin_schedules.delete_schedule,
            methods=["POST"],
        ),
        Route("/admin/apps", admin_apps.apps_page),
        Route("/admin/apps/{client}/delete", admin_apps.remove_app, methods=["POST"]),
        Route("/admin/calls", admin_dev.calls_page),
        Route("/admin/deliveries", admin_dev.deliveries_page),
        Mount(STATIC, StaticFiles(packages=[("b24local.web", "static")]), name="static"),
    ]
