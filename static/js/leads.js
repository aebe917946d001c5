// The lead board: drag cards with SortableJS, move them from the keyboard, ask for the lost reason in the modal.
// Every move is a POST to the card's move URL (stage, position); the answer (leads/live.py, the same fragments other
// viewers receive over the websocket) puts the card in its place and updates both columns' headers.
(function () {
  "use strict";

  let pending = null; // a move onto a lost stage waiting for its reason: {revert, done}
  let refocus = null; // the id of a card moved from the keyboard, focused again once it is back in the page

  function board() { return document.querySelector(".lead-board"); }
  function editable() { const b = board(); return b && b.dataset.canEdit === "true"; }
  function announce(text) { const s = document.getElementById("lead-board-status"); if (s) { s.textContent = text; } }
  function cards(column) { return Array.from(column.querySelectorAll(":scope > .lead-card")); }

  function putBack(item, from, oldIndex) {
    const siblings = cards(from).filter(function (card) { return card !== item; });
    from.insertBefore(item, siblings[oldIndex] || null);
  }

  function post(card, stageColumn, position, onFail) {
    const values = { stage: stageColumn.dataset.stageId, position: String(position) };
    // On the card itself: a successful move deletes it from the page (its new copy comes in the answer), and htmx
    // still fires the event on the detached element.
    card.addEventListener("htmx:afterRequest", function (event) {
      if (!event.detail.successful && onFail) { onFail(); }
    }, { once: true });
    const focusId = refocus;
    refocus = null;
    htmx.ajax("POST", card.dataset.moveUrl, { source: card, values: values, swap: "none", target: card })
      .then(function () {
        // A keyboard move replaces the card: focus follows it to its new place.
        const moved = focusId && document.getElementById(focusId);
        if (moved) { moved.focus(); }
      });
  }

  function askReason(card, stageColumn, position) {
    const url = card.dataset.moveUrl + "?stage=" + encodeURIComponent(stageColumn.dataset.stageId) +
      "&position=" + position;
    htmx.ajax("GET", url, { source: card, target: "#modal-body", swap: "innerHTML" });
  }

  // `fromColumn`: where the card was before (a dragged card already sits in its new column).
  function move(card, fromColumn, stageColumn, position, revert) {
    if (stageColumn.dataset.stageKind === "lost" && fromColumn !== stageColumn) {
      pending = { revert: revert, done: false };
      askReason(card, stageColumn, position);
      return;
    }
    post(card, stageColumn, position, function () {
      if (revert) { revert(); }
      announce("The move was refused.");
    });
    announce("Moved to " + stageColumn.dataset.stageName + ".");
  }

  document.body.addEventListener("modal:close", function () { if (pending) { pending.done = true; } });
  document.addEventListener("hidden.bs.modal", function () {
    if (pending && !pending.done && pending.revert) { pending.revert(); }
    pending = null;
  });

  function setUp() {
    if (!editable() || typeof Sortable === "undefined") { return; }
    document.querySelectorAll(".lead-column-cards").forEach(function (column) {
      if (column.dataset.sortable) { return; }
      column.dataset.sortable = "1";
      Sortable.create(column, {
        group: "leads",
        draggable: ".lead-card",
        animation: 120,
        filter: "a, button",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.from === event.to && event.oldDraggableIndex === event.newDraggableIndex) { return; }
          const item = event.item, from = event.from, oldIndex = event.oldDraggableIndex;
          move(item, from, event.to, event.newDraggableIndex, function () { putBack(item, from, oldIndex); });
        },
      });
    });
  }
  document.addEventListener("DOMContentLoaded", setUp);

  // Alt+←/→: to the top of the previous/next stage; Alt+↑/↓: one place up/down in the same stage.
  document.addEventListener("keydown", function (event) {
    const card = event.target.closest && event.target.closest(".lead-card");
    if (!card || !event.altKey || !editable()) { return; }
    const column = card.closest(".lead-column-cards");
    const columns = Array.from(document.querySelectorAll(".lead-column-cards"));
    const here = columns.indexOf(column), index = cards(column).indexOf(card);
    let target = null, position = 0;
    if (event.key === "ArrowRight") { target = columns[here + 1]; }
    else if (event.key === "ArrowLeft") { target = columns[here - 1]; }
    else if (event.key === "ArrowUp" && index > 0) { target = column; position = index - 1; }
    else if (event.key === "ArrowDown" && index < cards(column).length - 1) { target = column; position = index + 1; }
    else { return; }
    event.preventDefault();
    if (!target) { return; }
    refocus = card.id;
    move(card, column, target, position, null);
  });

})();
