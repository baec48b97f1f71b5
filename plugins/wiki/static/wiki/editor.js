// The wiki editor's live preview: the text goes to the server, which renders and sanitizes it
// exactly as it will on save. Without JavaScript the form's "Preview" button does the same.
"use strict";

(function livePreview() {
  const form = document.getElementById("wiki-editor");
  const preview = document.getElementById("wiki-preview");
  const status = document.getElementById("preview-status");
  if (!form || !preview || !status) {
    return;
  }
  const body = form.elements.namedItem("body");
  const token = form.elements.namedItem("csrf_token");
  let timer = null;
  let latest = 0;

  async function refresh() {
    const request = ++latest;
    const data = new FormData();
    data.append("body", body.value);
    if (token) {
      data.append("csrf_token", token.value);
    }
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST",
        body: data,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      // not JSON: the form's token expired, and the answer is the page saying so
      const answer = await response.json().catch(() => null);
      if (request !== latest) {
        return; // a newer preview is on its way
      }
      if (response.ok && answer) {
        preview.innerHTML = answer.html; // rendered and sanitized by the server
        preview.classList.remove("wiki-preview-stale");
        status.textContent = "";
      } else {
        preview.classList.add("wiki-preview-stale");
        status.textContent = (answer && answer.error) || form.dataset.previewExpired;
      }
    } catch {
      preview.classList.add("wiki-preview-stale"); // offline: keep the last preview, dimmed
      status.textContent = form.dataset.previewOffline;
    }
  }

  body.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
  const button = document.getElementById("preview-button");
  if (button) {
    button.addEventListener("click", (event) => {
      event.preventDefault();
      refresh();
    });
  }
  if (body.value.trim()) {
    refresh();
  }
})();
