"""My day in Chromium against a real server process: log in, start, pause,
resume and finish the day; a wrong password; two people in two browser contexts,
each seeing and changing only their own day; a head's team board following a
report's day live, and her approval of its edit. Few and broad: each test costs a
browser context."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.process

ADMIN_PASSWORD = "admin's secret"


@pytest.fixture(scope="module")
def people(web_server) -> dict[str, tuple[str, str]]:
    """Logins and passwords: the administrator and Olga."""
    web_server.cli("user", "password", "1", "--password", ADMIN_PASSWORD)
    olga = web_server.cli("user", "add", "--name", "Olga", "--last-name", "Berg")
    web_server.cli("user", "password", olga, "--password", "olga's pw")
    # Monday morning on the server's clock; frozen, so the tests move it.
    web_server.dev("/_b24local/clock", {"now": "2026-03-02T08:00:00+00:00", "freeze": True})
    return {"admin": ("1", ADMIN_PASSWORD), "olga": (olga, "olga's pw")}


def new_page(chromium, web_server, **options):
    context = chromium.new_context(ignore_https_errors=True, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    # What the console reports (a style or script the page's CSP blocked, a 404).
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message))
    page.on("pageerror", lambda error: page.errors.append(error))
    page.goto(web_server.url + "/")
    return page


def log_in(page, login: str, password: str) -> None:
    page.get_by_label("Login (e-mail or user ID)").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def state(page) -> str:
    return page.locator("#state").get_attribute("data-state")


def test_a_day_in_the_browser(chromium, web_server, people):
    page = new_page(chromium, web_server)
    assert page.url.endswith("/login")
    log_in(page, *people["admin"])
    page.wait_for_url("**/day")
    cookie = next(c for c in page.context.cookies() if c["name"] == "B24LOCAL_SESSION")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert state(page) == "NONE"

    page.get_by_role("button", name="Start the day").click()
    page.wait_for_url("**/day")
    assert state(page) == "OPENED"
    web_server.dev("/_b24local/clock/advance", {"seconds": 2 * 3600})
    # By keyboard: the pages are usable without a mouse.
    page.get_by_role("button", name="Take a break").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('#state[data-state="PAUSED"]')
    assert web_server.rest("timeman.status")["STATUS"] == "PAUSED"
    web_server.dev("/_b24local/clock/advance", {"seconds": 30 * 60})
    page.get_by_role("button", name="Back to work").click()
    page.wait_for_selector('#state[data-state="OPENED"]')
    web_server.dev("/_b24local/clock/advance", {"seconds": 3600})
    page.get_by_role("button", name="Finish the day").click()
    page.wait_for_selector('#state[data-state="CLOSED"]')

    finished = web_server.rest("timeman.status")
    assert (finished["STATUS"], finished["DURATION"], finished["TIME_LEAKS"]) == (
        "CLOSED", "03:00:00", "00:30:00",
    )  # fmt: skip
    assert page.locator("#worked").inner_text() == "3:00"
    events = page.locator(".events li").all_inner_texts()
    assert [text.split(" ", 1)[1] for text in events] == [
        "Started", "Break", "Back to work", "Finished",
    ]  # fmt: skip

    page.get_by_role("button", name="Do not disturb").click()
    page.wait_for_selector('button.dnd[aria-pressed="true"]')
    assert web_server.rest("im.user.status.get") == "dnd"

    assert page.errors == []
    # The script is there and ran: a button pressed once is disabled at once.
    assert page.evaluate("() => typeof sendOnce") == "function"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login")
    page.goto(web_server.url + "/day")
    assert page.url.endswith("/login")
    page.context.close()


def test_a_wrong_password_is_refused(chromium, web_server, people):
    page = new_page(chromium, web_server)
    log_in(page, people["olga"][0], "not olga's")
    assert page.get_by_role("alert").inner_text() == "Wrong login or password."
    assert page.url.endswith("/login")
    assert not [c for c in page.context.cookies() if c["name"] == "B24LOCAL_SESSION"]
    page.context.close()


def test_two_people_each_see_and_change_their_own_day(chromium, web_server, people):
    """At phone width: the administrator's day and Olga's, side by side; a form
    posted with someone else's user ID changes only one's own day."""
    phone = {"viewport": {"width": 390, "height": 844}}
    admin, olga = new_page(chromium, web_server, **phone), new_page(chromium, web_server, **phone)
    log_in(admin, *people["admin"])
    log_in(olga, *people["olga"])
    olga.wait_for_url("**/day")
    # Each page names its own user (hidden at phone width, but there).
    assert olga.locator(".who .name").text_content() == "Olga Berg"
    before = web_server.rest("timeman.status")["STATUS"]

    # Olga's page grows a field naming the administrator, then she starts her day.
    olga.evaluate(
        """() => {
            const form = document.querySelector('form[action="/day/start"]');
            for (const name of ["user_id", "USER_ID"]) {
                const field = document.createElement("input");
                field.type = "hidden"; field.name = name; field.value = "1";
                form.appendChild(field);
            }
        }"""
    )
    olga.get_by_role("button", name="Start the day").click()
    olga.wait_for_selector('#state[data-state="OPENED"]')
    assert web_server.rest("timeman.status")["STATUS"] == before
    assert web_server.rest("timeman.status", USER_ID=int(people["olga"][0]))["STATUS"] == "OPENED"

    admin.reload()
    assert state(admin) == before  # the administrator's own day, not Olga's
    assert admin.locator(".who .name").text_content() != "Olga Berg"
    # Phone width: nothing wider than the screen.
    width = olga.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
    admin.context.close()
    olga.context.close()


def test_a_head_sees_the_board_change_live_and_approves_an_edit(chromium, web_server):
    """The team board and the approvals queue: a head watches her board change
    while a report starts her day in a second browser context (no reload), then
    approves the report's edited finish."""
    # The next morning: after the days of the tests above.
    web_server.dev("/_b24local/clock", {"now": "2026-03-03T08:00:00+00:00", "freeze": True})
    hanna = web_server.cli("user", "add", "--name", "Hanna", "--last-name", "Hale")
    rita = web_server.cli("user", "add", "--name", "Rita", "--last-name", "Roe")
    sales = web_server.cli("department", "add", "--name", "Sales", "--head", hanna)
    web_server.cli("user", "update", rita, "--department", sales)
    for user in (hanna, rita):
        web_server.cli("user", "password", user, "--password", f"pw of {user}")

    phone = {"viewport": {"width": 390, "height": 844}}
    head, report = new_page(chromium, web_server), new_page(chromium, web_server, **phone)
    log_in(head, hanna, f"pw of {hanna}")
    head.wait_for_url("**/day")
    head.get_by_role("link", name="Team").click()
    head.wait_for_url("**/team")
    rita_row = head.locator(f'tr[data-user="{rita}"]')
    assert rita_row.locator('[data-cell="state"]').get_attribute("data-state") == "NONE"

    # Rita starts her day in her own browser; Hanna's board follows, no reload.
    log_in(report, rita, f"pw of {rita}")
    report.get_by_role("button", name="Start the day").click()
    report.wait_for_selector('#state[data-state="OPENED"]')
    rita_row.locator('[data-cell="state"][data-state="OPENED"]').wait_for()
    assert rita_row.locator('[data-cell="started"]').inner_text() == "08:00"
    assert head.locator('[data-count="OPENED"]').inner_text() == "1"

    # Four hours later she says she finished at 11:00, for a reason: an edit.
    web_server.dev("/_b24local/clock/advance", {"seconds": 4 * 3600})
    report.get_by_text("Finished earlier?").click()
    report.get_by_label("Time", exact=True).fill("11:00")
    report.get_by_label("Reason").fill("Doctor's appointment")
    report.get_by_role("button", name="Finish at this time").click()
    report.wait_for_selector('#state[data-state="CLOSED"]')
    rita_row.locator('[data-cell="awaiting"]:not([hidden])').wait_for()
    assert rita_row.locator('[data-cell="worked"]').inner_text() == "3:00"

    head.get_by_role("link", name="Approvals").click()
    head.wait_for_url("**/approvals")
    card = head.locator("section.approval")
    assert "Rita Roe" in card.inner_text() and "Doctor's appointment" in card.inner_text()
    card.get_by_role("button", name="Approve").click()
    head.wait_for_url("**/approvals?done=approve")
    assert head.get_by_role("status").inner_text() == "Approved: the claimed times stand."
    confirmed = web_server.rest("timeman.status", USER_ID=int(rita))
    assert (confirmed["ACTIVE"], confirmed["DURATION"]) == (True, "03:00:00")

    assert head.errors == [] and report.errors == []
    head.context.close()
    report.context.close()


def test_an_administrator_adds_a_schedule_in_the_browser(chromium, web_server, people):
    """The schedule form by keyboard at desktop width, then read at phone width:
    saved through the page, seen over REST, nothing wider than the screen."""
    page = new_page(chromium, web_server, viewport={"width": 1280, "height": 900})
    log_in(page, *people["admin"])
    page.wait_for_url("**/day")
    page.goto(web_server.url + "/admin/schedules")
    page.get_by_role("link", name="Add a schedule").click()
    page.get_by_role("region", name="Add a schedule").get_by_label("Name").fill("Late shift")
    page.get_by_label("Type").select_option("SHIFT")
    shift = page.get_by_role("group", name="Shift 1")
    shift.get_by_label("Starts").fill("14:00")
    shift.get_by_label("Ends").fill("22:30")
    shift.get_by_label("Sat").check()
    page.get_by_label("Change allowed without approval").fill("00:10")
    page.get_by_role("button", name="Add the schedule").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/schedules/*?done=added")
    assert page.get_by_role("status").inner_text() == "The schedule was added."
    schedule_id = int(page.url.split("/")[-1].split("?")[0])
    found = web_server.rest("timeman.schedule.get", id=schedule_id)
    assert (found["NAME"], found["SCHEDULE_TYPE"]) == ("Late shift", "SHIFT")
    assert [
        (s["WORK_TIME_START"], s["WORK_TIME_END"], s["WORK_DAYS"]) for s in found["SHIFTS"]
    ] == [(14 * 3600, 22 * 3600 + 1800, "123456")]
    assert found["SCHEDULE_VIOLATION_RULES"]["MAX_ALLOWED_TO_EDIT_WORK_TIME"] == 600

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow
    assert page.errors == []
    page.context.close()
