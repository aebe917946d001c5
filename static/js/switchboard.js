// Switchboard's small glue: HTMX modals, toasts, keyboard shortcuts.
(function () {
  "use strict";

  function modal() {
    const element = document.getElementById("modal");
    return element ? bootstrap.Modal.getOrCreateInstance(element) : null;
  }

  // A response swapped into #modal-body opens the modal; the server sends HX-Trigger "modal:close" when done.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "modal-body") {
      modal().show();
      const first = event.detail.target.querySelector("input:not([type=hidden]), select, textarea");
      if (first) { first.focus(); }
    }
  });
  document.body.addEventListener("modal:close", function () { const m = modal(); if (m) { m.hide(); } });
  document.addEventListener("hidden.bs.modal", function (event) {
    if (event.target.id === "modal") { document.getElementById("modal-body").innerHTML = ""; }
  });

  // Toasts (rendered on the page, swapped in out-of-band, or pushed over the websocket) fade after a while.
  function armToasts(root) {
    root.querySelectorAll("[data-sb-autohide]").forEach(function (toast) {
      toast.removeAttribute("data-sb-autohide");
      setTimeout(function () { toast.classList.remove("show"); setTimeout(function () { toast.remove(); }, 300); }, 6000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { armToasts(document); });
  document.addEventListener("htmx:load", function (event) { armToasts(document); });
  document.addEventListener("htmx:wsAfterMessage", function () { armToasts(document); });

  // "/" focuses search, "n" opens the page's primary "new" action.
  document.addEventListener("keydown", function (event) {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.target.isContentEditable || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "/") {
      const search = document.querySelector("[data-sb-search]") || document.getElementById("global-search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (event.key === "n") {
      const action = document.querySelector("[data-sb-shortcut='n']");
      if (action) { event.preventDefault(); action.click(); }
    }
  });
})();
