// The pair's chat, live over Socket.IO. Without JavaScript the form posts and the page reloads.
"use strict";

(function chat() {
  const section = document.getElementById("chat");
  const socket = window.alma && window.alma.socket;
  if (!section || !socket) {
    return;
  }
  const mentorshipId = Number(section.dataset.mentorship);
  const me = Number(section.dataset.me);
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const error = document.getElementById("chat-error");
  const linkPattern = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  const timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    dateStyle: "short",
    timeStyle: "short",
  });

  // Message text goes in as text nodes and links as anchors: never as HTML.
  function appendText(element, text) {
    let last = 0;
    for (const match of text.matchAll(linkPattern)) {
      element.append(text.slice(last, match.index));
      const link = document.createElement("a");
      link.href = match[0];
      link.textContent = match[0];
      link.rel = "nofollow noopener noreferrer";
      link.target = "_blank";
      element.append(link);
      last = match.index + match[0].length;
    }
    element.append(text.slice(last));
  }

  function render(message) {
    const item = document.createElement("li");
    item.className = "chat-message rounded p-2 " + (message.sender_id === me ? "chat-mine" : "chat-theirs");
    item.dataset.id = String(message.id);
    const meta = document.createElement("div");
    meta.className = "small text-muted";
    const time = document.createElement("time");
    time.dateTime = message.created_at;
    time.textContent = timeFormat.format(new Date(message.created_at));
    meta.append(message.sender + " · ", time);
    const body = document.createElement("div");
    appendText(body, message.body);
    item.append(meta, body);
    return item;
  }

  function show(message) {
    if (log.querySelector(`[data-id="${message.id}"]`)) {
      return; // already shown (our own, or a reconnect)
    }
    document.getElementById("chat-empty")?.remove();
    log.append(render(message));
    log.scrollTop = log.scrollHeight;
  }

  function join() {
    socket.emit("mentoring.join", { mentorship_id: mentorshipId });
  }

  socket.on("connect", join);
  if (socket.connected) {
    join();
  }
  socket.on("mentoring.message", (message) => {
    if (message.mentorship_id !== mentorshipId) {
      return;
    }
    show(message);
    if (message.sender_id !== me && document.visibilityState === "visible") {
      socket.emit("mentoring.read", { mentorship_id: mentorshipId, up_to_id: message.id });
    }
  });
  socket.on("mentoring.unread", (data) => {
    const badge = document.querySelector('[data-nav-badge="mentoring.index"]');
    if (badge) {
      badge.textContent = String(data.unread);
      badge.classList.toggle("d-none", !data.unread);
    }
  });

  if (form) {
    const input = form.querySelector("textarea");
    form.addEventListener("submit", (event) => {
      if (!socket.connected) {
        return; // fall back to the plain form post
      }
      event.preventDefault();
      const body = input.value.trim();
      if (!body) {
        return;
      }
      error.textContent = "";
      socket.emit("mentoring.send", { mentorship_id: mentorshipId, body }, (answer) => {
        if (answer && answer.ok) {
          input.value = "";
        } else {
          error.textContent = (answer && answer.error) || "";
        }
      });
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  const older = document.getElementById("chat-older");
  if (older) {
    older.addEventListener("click", async (event) => {
      event.preventDefault();
      const first = log.querySelector("[data-id]");
      const response = await fetch(`${section.dataset.olderUrl}?before=${first.dataset.id}`);
      const page = await response.json();
      const height = log.scrollHeight;
      log.prepend(...page.messages.map(render));
      log.scrollTop += log.scrollHeight - height;
      if (!page.has_older) {
        older.remove();
      }
    });
  }
  log.scrollTop = log.scrollHeight;
})();
