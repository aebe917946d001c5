// The quote builder: drag lines with SortableJS, move them from the keyboard (Alt+↑/↓ or the row's arrows).
// A drag posts the new order; a keyboard move posts the line's direction and gets the lines back. Both carry the
// version the page holds (#quote-version), so a concurrent edit is refused instead of overwritten.
(function () {
  "use strict";

  function lines() { return document.getElementById("quote-lines"); }
  function editable() { const body = lines(); return body && body.dataset.canEdit === "true"; }
  function version() { const input = document.getElementById("quote-version"); return input ? input.value : ""; }
  function ids() {
    return Array.from(lines().querySelectorAll(":scope > tr[data-line-id]")).map(function (row) { return row.dataset.lineId; });
  }

  function move(row, direction, focusSelector) {
    const rowId = row.id;
    htmx.ajax("POST", row.dataset.moveUrl, {
      source: row, target: "#quote-lines", swap: "outerHTML", values: { direction: direction, version: version() },
    }).then(function () {
      const moved = document.getElementById(rowId);
      const focus = moved && (moved.querySelector(focusSelector) || moved.querySelector("button, input, textarea"));
      if (focus) { focus.focus(); }
      setUp();
    });
  }

  function setUp() {
    const body = lines();
    if (!body || !editable() || typeof Sortable === "undefined" || body.dataset.sortable) { return; }
    body.dataset.sortable = "1";
    Sortable.create(body, {
      handle: "[data-drag-handle]",
      draggable: "tr[data-line-id]",
      animation: 120,
      onEnd: function (event) {
        if (event.oldDraggableIndex === event.newDraggableIndex) { return; }
        htmx.ajax("POST", body.dataset.reorderUrl, { source: body, swap: "none", values: { line: ids(), version: version() } });
      },
    });
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);

  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-move]");
    if (!button || !editable()) { return; }
    move(button.closest("tr"), button.dataset.move, '[data-move="' + button.dataset.move + '"]');
  });

  document.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown") || !editable()) { return; }
    const row = event.target.closest && event.target.closest("#quote-lines > tr[data-line-id]");
    if (!row) { return; }
    event.preventDefault();
    move(row, event.key === "ArrowUp" ? "up" : "down", "#" + (event.target.id || "none"));
  });
})();

// The Copilot panel's "Copy": the email (subject, blank line, body) onto the clipboard; its form records the copy.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("#quote-copilot [data-copy-target]");
    if (!button) { return; }
    const body = document.getElementById(button.dataset.copyTarget);
    const subject = document.getElementById(button.dataset.copySubject || "");
    if (!body) { return; }
    const text = (subject && subject.value ? subject.value + "\n\n" : "") + body.value;
    const status = document.getElementById("copilot-copy-status");
    const done = function () { if (status) { status.textContent = "Copied to the clipboard."; } };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { body.select(); });
    } else {
      body.select();
    }
  });
})();
