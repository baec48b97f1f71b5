// alma's page behaviour: live counts in the navigation, confirmation before destructive
// actions, one submission per form, and focus on the part of the page an address points at.
"use strict";

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
    return;
  }
  // A second click or tap while the next page loads would post the form again. The button
  // is disabled once the browser has read the form (a disabled button's name and value are
  // not sent), not for forms a script handles in the page (they prevent the default), and
  // for a while only: a request that never answers must not lock the form.
  const button = event.submitter;
  if (button) {
    setTimeout(() => {
      if (!event.defaultPrevented) {
        button.disabled = true;
        setTimeout(() => (button.disabled = false), 10000);
      }
    });
  }
});
// Back to a page from the browser's cache: its buttons work at once.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) {
    for (const button of document.querySelectorAll("form button[disabled]")) {
      button.disabled = false;
    }
  }
});

// A page opened at an anchor that can take focus (tabindex="-1", e.g. the forum reply just
// posted) gets it, so a screen reader reads it and Tab goes on from there.
(function focusTarget() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id && document.getElementById(id);
  if (target && target.getAttribute("tabindex") === "-1") {
    target.focus({ preventScroll: true });
  }
})();

(function liveCounts() {
  const alerts = document.getElementById("alert-count");
  if (!alerts || typeof window.io !== "function") {
    return;
  }
  const socket = window.io();
  function show(badge, count) {
    badge.textContent = String(count);
    badge.dataset.count = String(count);
    badge.classList.toggle("d-none", count === 0);
    // the phone's menu button shows the sum of the counts its collapsed menu hides
    const counts = document.querySelectorAll("#alert-count, [data-nav-badge]");
    const total = Array.from(counts).reduce((sum, each) => sum + Number(each.textContent), 0);
    for (const number of document.querySelectorAll("[data-menu-count]")) {
      number.textContent = String(total);
    }
    for (const part of document.querySelectorAll(".menu-count")) {
      part.classList.toggle("d-none", total === 0);
    }
  }
  socket.on("alerts", (data) => show(alerts, Number(data.unread) || 0));
  // A plugin's badge in the navigation ("My mentorships": unread messages), on every page.
  socket.on("badge", (data) => {
    const endpoint = CSS.escape(String(data && data.endpoint));
    for (const badge of document.querySelectorAll(`[data-nav-badge="${endpoint}"]`)) {
      show(badge, Number(data.count) || 0);
    }
  });
  let refusals = 0;
  socket.on("connect", () => {
    refusals = 0;
    document.body.dataset.live = socket.id; // this page follows the counts (tests wait on it)
  });
  // The server closes a member's connections when a session ends (a logout, a new password):
  // a tab whose session is still good connects again; one whose session ended is refused.
  socket.on("disconnect", (reason) => {
    delete document.body.dataset.live;
    if (reason === "io server disconnect") {
      socket.connect();
    }
  });
  // Refused (not a network error, which Socket.IO retries by itself): the session ended, or
  // it was renewed a moment later (a new password set in another tab of this browser sends
  // its new cookie after the connections closed). A few tries, further and further apart.
  socket.on("connect_error", () => {
    if (!socket.active && refusals < 3) {
      refusals += 1;
      setTimeout(() => socket.connect(), 1000 * refusals);
    }
  });
  window.alma = Object.assign(window.alma || {}, { socket });
})();
