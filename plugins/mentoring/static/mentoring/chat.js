// The pair's chat over Socket.IO (alma.js keeps the unread count in the navigation live).
// Without JavaScript the chat form posts and the page reloads.
"use strict";

(function mentoring() {
  const socket = window.alma && window.alma.socket;
  if (!socket) {
    return; // a visitor, or no Socket.IO: the pages work without it
  }

  const section = document.getElementById("chat");
  if (!section) {
    return;
  }
  const mentorshipId = Number(section.dataset.mentorship);
  const me = Number(section.dataset.me);
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const error = document.getElementById("chat-error");
  const linkPattern = /https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;
  // Times in the member's own time zone (from their profile), as the server shows them.
  const timeOptions = { dateStyle: "medium", timeStyle: "short" };
  if (section.dataset.timezone) {
    timeOptions.timeZone = section.dataset.timezone;
  }
  let timeFormat;
  try {
    timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, timeOptions);
  } catch {
    delete timeOptions.timeZone; // a zone this browser does not know: its own zone then
    timeFormat = new Intl.DateTimeFormat(document.documentElement.lang || undefined, timeOptions);
  }

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
    const mine = message.sender_id === me;
    const item = document.createElement("li");
    item.className = "chat-message " + (mine ? "chat-mine" : "chat-theirs");
    item.dataset.id = String(message.id);
    const meta = document.createElement("div");
    meta.className = "chat-meta";
    const sender = document.createElement("span");
    sender.className = "chat-sender";
    sender.textContent = message.sender;
    const time = document.createElement("time");
    time.dateTime = message.created_at;
    time.textContent = timeFormat.format(new Date(message.created_at));
    meta.append(sender, time);
    const body = document.createElement("div");
    body.className = "chat-body";
    if (message.hidden) {
      // hidden by the moderators: the server sent no text, only that it was hidden
      body.classList.add("hidden-by-moderators", "text-muted", "fst-italic");
      body.textContent = section.dataset.hiddenText;
    } else {
      appendText(body, message.body);
      if (!mine) {
        const report = document.createElement("a");
        report.className = "report-link small chat-report";
        report.href = section.dataset.reportUrl + String(message.id);
        report.rel = "nofollow";
        report.textContent = section.dataset.reportText;
        meta.append(" ", report);
      }
    }
    item.append(meta, body);
    return item;
  }

  function nearBottom() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // Shows a message once, in order (a reconnect may bring one we already have, or an older one).
  function show(message) {
    if (log.querySelector(`[data-id="${message.id}"]`)) {
      return false;
    }
    document.getElementById("chat-empty")?.remove();
    const following = nearBottom();
    const later = [...log.querySelectorAll("[data-id]")].find(
      (item) => Number(item.dataset.id) > message.id,
    );
    log.insertBefore(render(message), later || null);
    // Follow the conversation, unless the member scrolled up to read older messages.
    if (following || message.sender_id === me) {
      scrollToEnd();
    }
    return true;
  }

  function newestTheirs() {
    const theirs = log.querySelectorAll(".chat-theirs[data-id]");
    return theirs.length ? Number(theirs[theirs.length - 1].dataset.id) : 0;
  }

  // Tells the server what was seen: at once for a single message, and for a burst of
  // messages once more when the burst is over, not once for each.
  let readTimer = null;
  let readPending = false;
  function sendRead() {
    const upTo = newestTheirs();
    if (upTo && document.visibilityState === "visible") {
      socket.emit("mentoring.read", { mentorship_id: mentorshipId, up_to_id: upTo });
    }
  }
  function markRead() {
    if (readTimer !== null) {
      readPending = true;
      return;
    }
    sendRead();
    readTimer = setTimeout(function quiet() {
      readTimer = null;
      if (readPending) {
        readPending = false;
        markRead();
      }
    }, 500);
  }

  // What was written between the page being rendered and the room being joined, or while the
  // connection or the server's link to the other web processes (Redis) was down, is fetched
  // page by page, in order. `complete` is the message up to which this page misses nothing:
  // the newest when it was rendered, then where each catch-up ended. A live message does not
  // move it, as others may have been lost before it (this page's own, for one, arrive anyway).
  const shown = log.querySelectorAll("[data-id]");
  let complete = shown.length ? Number(shown[shown.length - 1].dataset.id) : 0;
  let catchingUp = false;
  let again = false; // asked again meanwhile: what it fetched may already be behind
  async function catchUp() {
    if (catchingUp) {
      again = true;
      return;
    }
    catchingUp = true;
    do {
      again = false;
      await fetchMissed();
    } while (again);
    catchingUp = false;
  }
  async function fetchMissed() {
    try {
      let more = true;
      while (more) {
        const response = await fetch(`${section.dataset.olderUrl}?after=${complete}`, {
          headers: { Accept: "application/json" },
        });
        if (!response.ok) {
          return;
        }
        const page = await response.json();
        if (page.messages.map(show).some(Boolean)) {
          markRead();
        }
        if (page.messages.length) {
          complete = page.messages[page.messages.length - 1].id;
        }
        more = page.has_newer;
      }
    } catch {
      // offline for now: the next reconnect catches up
    }
  }

  function join() {
    socket.emit("mentoring.join", { mentorship_id: mentorshipId }, (answer) => {
      if (answer && answer.ok) {
        section.dataset.live = "true";
        catchUp();
      }
    });
  }

  socket.on("connect", join);
  // The server's link to the other web processes (Redis) came back: what they pushed
  // meanwhile never arrived here.
  socket.on("resync", catchUp);
  socket.on("disconnect", () => {
    delete section.dataset.live;
  });
  if (socket.connected) {
    join();
  }
  socket.on("mentoring.message", (message) => {
    if (message.mentorship_id !== mentorshipId) {
      return;
    }
    show(message);
    if (message.sender_id !== me) {
      markRead();
    }
  });
  // The moderators hid a message, or restored it: shown as it is now, in its place.
  socket.on("mentoring.changed", (message) => {
    const shown = log.querySelector(`[data-id="${message.id}"]`);
    if (message.mentorship_id === mentorshipId && shown) {
      shown.replaceWith(render(message));
    }
  });
  // The mentorship ended (the other party ended it, or the final meeting was confirmed): the
  // chat closes here too, without losing what this page shows.
  socket.on("mentoring.closed", (data) => {
    if (data.mentorship_id !== mentorshipId || !form) {
      return;
    }
    // The form stays, read-only, so that a message being written can still be copied.
    const notice = document.createElement("p");
    notice.className = "text-muted small mb-2";
    notice.id = "chat-closed";
    notice.setAttribute("role", "status");
    notice.textContent = section.dataset.closedText;
    form.querySelector("textarea").readOnly = true;
    form.querySelector("button[type=submit]").disabled = true;
    form.before(notice);
  });
  // Messages that came while the tab was in the background are read once it is looked at.
  document.addEventListener("visibilitychange", markRead);

  if (form) {
    const input = form.querySelector("textarea");
    const button = form.querySelector("button[type=submit]");
    // The message's key (the page brings the first one): a message sent again after a lost
    // answer keeps its key, and the server stores it once. Each stored message takes a new one.
    const key = form.elements.key;
    function newKey() {
      const bytes = crypto.getRandomValues(new Uint8Array(16)); // no randomUUID over plain http
      key.value = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    }
    let keyedBody = null; // the text the current key was sent with
    form.addEventListener("submit", (event) => {
      if (button.disabled) {
        event.preventDefault(); // Enter again before the last message was stored, or closed
        return;
      }
      const body = input.value.trim();
      if (keyedBody !== null && keyedBody !== body) {
        newKey(); // another text than the one that may have been stored: another message
      }
      keyedBody = body;
      if (!socket.connected) {
        return; // fall back to the plain form post, with the key
      }
      event.preventDefault();
      if (!body) {
        input.focus();
        return;
      }
      error.textContent = "";
      button.disabled = true;
      const data = { mentorship_id: mentorshipId, body, key: key.value };
      socket.timeout(10000).emit("mentoring.send", data, (timedOut, answer) => {
        button.disabled = input.readOnly; // stays off if the chat closed meanwhile
        if (!timedOut && answer && answer.ok) {
          newKey();
          keyedBody = null;
          if (input.value.trim() === body) {
            input.value = ""; // what was typed meanwhile stays
          }
          input.focus();
        } else {
          error.textContent = timedOut ? section.dataset.notSent : (answer && answer.error) || "";
        }
      });
    });
    // Enter sends, Shift+Enter starts a new line (and Enter that ends an IME composition
    // is not a send).
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
  }

  const older = document.getElementById("chat-older");
  if (older) {
    let loading = false;
    older.addEventListener("click", async (event) => {
      event.preventDefault();
      if (loading) {
        return; // a second click while the page loads would show it twice
      }
      loading = true;
      log.setAttribute("aria-busy", "true"); // old messages are not news to read out
      try {
        const first = log.querySelector("[data-id]");
        const response = await fetch(`${section.dataset.olderUrl}?before=${first.dataset.id}`, {
          headers: { Accept: "application/json" },
        });
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        const page = await response.json();
        const fresh = page.messages.filter(
          (message) => !log.querySelector(`[data-id="${message.id}"]`),
        );
        const height = log.scrollHeight;
        log.prepend(...fresh.map(render));
        log.scrollTop += log.scrollHeight - height;
        if (!page.has_older) {
          log.focus(); // the link goes: keyboard focus stays in the chat
          older.remove();
        }
      } catch {
        error.textContent = section.dataset.notLoaded;
      } finally {
        loading = false;
        log.removeAttribute("aria-busy");
      }
    });
  }
  scrollToEnd();
})();
