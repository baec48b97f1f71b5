// alma's page behaviour: live alert count, and confirmation before destructive actions.
"use strict";

document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

(function liveAlertCount() {
  const badge = document.getElementById("alert-count");
  if (!badge || typeof window.io !== "function") {
    return;
  }
  const socket = window.io();
  socket.on("alerts", (data) => {
    const unread = Number(data.unread) || 0;
    badge.textContent = String(unread);
    badge.dataset.count = String(unread);
    badge.classList.toggle("d-none", unread === 0);
  });
  window.alma = Object.assign(window.alma || {}, { socket });
})();
