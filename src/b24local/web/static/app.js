// b24local's pages work without this script; it only adds comfort:
// the worked time keeps counting while the page is open, and a button,
// once pressed, cannot send its form twice.
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

document.addEventListener("DOMContentLoaded", () => {
  tickWorked();
  sendOnce();
});
