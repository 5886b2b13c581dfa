// b24local's pages work without this script; it only adds comfort:
// the worked time keeps counting while the page is open, a button,
// once pressed, cannot send its form twice, and the team board keeps
// itself current by asking /team/live for its rows.
"use strict";

function tickWorked() {
  const worked = document.getElementById("worked");
  if (!worked || worked.dataset.running !== "1") return;
  const base = Number(worked.dataset.seconds);
  const shown = performance.now();
  const show = () => {
    const seconds = base + Math.floor((performance.now() - shown) / 1000);
    const minutes = Math.floor(seconds / 60);
    worked.textContent = `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`;
  };
  setInterval(show, 15000);
}

function sendOnce() {
  for (const form of document.querySelectorAll("form[method=post]")) {
    form.addEventListener("submit", () => {
      for (const button of form.querySelectorAll("button")) {
        // Disabled after this turn, so the pressed button's value is still sent.
        setTimeout(() => { button.disabled = true; }, 0);
      }
    });
  }
}

// A page the browser brings back with "Back" keeps its disabled buttons: free them.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const button of document.querySelectorAll("form button")) button.disabled = false;
});

// The team board: fill each row's cells from /team/live every few seconds; when
// people come or go (a filter, a new colleague), the page is simply reloaded.
function liveBoard() {
  const table = document.getElementById("board");
  if (!table) return;
  const every = Math.max(Number(table.dataset.poll) || 5, 1) * 1000;
  const setCell = (tr, name, update) => {
    const cell = tr.querySelector(`[data-cell="${name}"]`);
    if (cell) update(cell);
  };
  const refresh = async () => {
    let answer;
    try {
      answer = await fetch(table.dataset.live, { headers: { Accept: "application/json" } });
    } catch {
      return; // offline for a moment: try again next time
    }
    if (!answer.ok || !answer.headers.get("content-type")?.includes("json")) return;
    const board = await answer.json();
    const shown = [...table.tBodies[0].rows].map((tr) => tr.dataset.user).join();
    if (board.rows.map((row) => String(row.id)).join() !== shown) {
      window.location.reload();
      return;
    }
    for (const row of board.rows) {
      const tr = table.querySelector(`tr[data-user="${row.id}"]`);
      setCell(tr, "state", (cell) => {
        cell.textContent = row.stateText;
        cell.dataset.state = row.state;
        cell.className = `pill state-${row.state.toLowerCase()}`;
      });
      setCell(tr, "awaiting", (cell) => { cell.hidden = !row.awaiting; });
      setCell(tr, "started", (cell) => { cell.textContent = row.started; });
      setCell(tr, "worked", (cell) => { cell.textContent = row.worked; });
      setCell(tr, "status", (cell) => {
        cell.textContent = row.statusText;
        cell.dataset.status = row.status;
        cell.className = `dot ${row.status}`;
      });
      setCell(tr, "idle", (cell) => { cell.textContent = row.idle; });
    }
    for (const [state, count] of Object.entries(board.counts)) {
      const shownCount = document.querySelector(`[data-count="${state}"]`);
      if (shownCount) shownCount.textContent = count;
    }
    const time = document.getElementById("board-time");
    if (time) time.textContent = board.time;
  };
  setInterval(refresh, every);
}

document.addEventListener("DOMContentLoaded", () => {
  tickWorked();
  sendOnce();
  liveBoard();
});
