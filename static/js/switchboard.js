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

  // A push names its targets (hx-swap-oob="true": its own id; "afterbegin:#rows": that selector). Pages follow only
  // the topics they show (core.realtime), but a list shows one page of rows: a changed row it does not show is
  // dropped here rather than logged by htmx as htmx:oobErrorNoTarget.
  function pushTarget(part) {
    const swap = part.getAttribute("hx-swap-oob") || "true";
    const colon = swap.indexOf(":");
    if (colon >= 0) { return swap.slice(colon + 1); }
    return part.id ? "#" + CSS.escape(part.id) : null;
  }
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    const template = document.createElement("template");
    template.innerHTML = event.detail.message;
    const parts = Array.from(template.content.children);
    const shown = parts.some(function (part) {
      const target = pushTarget(part);
      return !target || document.querySelector(target);
    });
    if (parts.length && !shown) { event.preventDefault(); }
  });

  // Behaviour that used to sit in inline handlers lives here, driven by data- attributes: the Content-Security-Policy
  // allows no inline script and no eval (core/csp.py).

  // Filter forms leave empty fields out of the request, so the address bar shows only the filters in use.
  document.addEventListener("htmx:configRequest", function (event) {
    const source = event.detail.elt;
    if (!source || !source.closest || !source.closest("[data-sb-drop-empty]")) { return; }
    const parameters = event.detail.parameters;
    for (const key of Object.keys(parameters)) {
      if (!parameters[key]) { delete parameters[key]; }
    }
  });

  // <form data-sb-confirm="Question?">: asks before submitting.
  document.addEventListener("submit", function (event) {
    const question = event.target.getAttribute && event.target.getAttribute("data-sb-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); event.stopImmediatePropagation(); }
  }, true);

  // <a data-sb-back href="/">: back to the previous page when there is one.
  document.addEventListener("click", function (event) {
    const link = event.target.closest && event.target.closest("[data-sb-back]");
    if (link && window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });

  // <input data-sb-select-on-focus>: focusing selects the whole value (a token to copy).
  document.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-sb-select-on-focus")) { event.target.select(); }
  });
  document.addEventListener("DOMContentLoaded", function () {  // autofocus may have focused it before this ran
    const focused = document.activeElement;
    if (focused && focused.hasAttribute("data-sb-select-on-focus")) { focused.select(); }
  });

  // <input data-sb-marks-edited="other_field">: typing here records in other_field whether it was edited by hand.
  // Capture phase: the field is set before htmx reads the form for its request.
  document.addEventListener("input", function (event) {
    const name = event.target.getAttribute && event.target.getAttribute("data-sb-marks-edited");
    if (name && event.target.form && event.target.form.elements[name]) {
      event.target.form.elements[name].value = event.target.value ? "1" : "";
    }
  }, true);

  // <form data-sb-slug-source="id_title" data-sb-slug-target="id_slug" [data-sb-slug-locked]>: the slug follows the
  // title (the server's rule: lower case, hyphens) until someone edits it by hand; a locked slug (a saved article,
  // whose address is in links and bookmarks) changes only by hand.
  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9\s-]/g, "").trim().replace(/[\s-]+/g, "-").slice(0, 200);
  }
  function bindSlugs(root) {
    root.querySelectorAll("form[data-sb-slug-source]").forEach(function (form) {
      const title = document.getElementById(form.dataset.sbSlugSource);
      const slug = document.getElementById(form.dataset.sbSlugTarget);
      if (!title || !slug || form.dataset.sbSlugBound) { return; }
      form.dataset.sbSlugBound = "1";
      let manual = form.hasAttribute("data-sb-slug-locked") || (slug.value !== "" && slug.value !== slugify(title.value));
      title.addEventListener("input", function () { if (!manual) { slug.value = slugify(title.value); } });
      slug.addEventListener("input", function () { manual = slug.value !== ""; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { bindSlugs(document); });
  document.addEventListener("htmx:load", function (event) { bindSlugs(event.detail.elt.parentNode || document); });

  // --- Keys on every workspace page (listed in the "?" help, templates/components/shortcuts.html) -----------------
  // "?" opens that help, "/" focuses the page's search, "g" then "l" goes to the ticket list, "n" clicks the page's
  // New button, Escape leaves a text field. Pages add their own keys (static/js/helpdesk.js); this listener runs
  // first and keeps the key after "g" from reaching them.

  const SEQUENCE_MS = 1200;
  // Keys typed into a text field, a menu or editable content are the person's text, not shortcuts; a focused
  // checkbox or button takes no letters, so shortcuts still work there.
  const NON_TEXT_INPUTS = ["checkbox", "radio", "button", "submit", "reset", "file", "range", "color"];

  function typing(target) {
    const tag = (target.tagName || "").toLowerCase();
    if (tag === "input") { return !NON_TEXT_INPUTS.includes((target.type || "text").toLowerCase()); }
    return tag === "textarea" || tag === "select" || Boolean(target.isContentEditable);
  }
  window.sbTyping = typing;

  // On window, so it runs after the pages' own handlers (a ticket's subject restores its value on Escape first).
  window.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); }
  });

  let pendingG = 0;

  document.addEventListener("keydown", function (event) {
    if (typing(event.target)) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey || document.querySelector(".modal.show")) { return; }
    const key = event.key;
    if (pendingG && Date.now() - pendingG < SEQUENCE_MS) {
      pendingG = 0;
      event.stopImmediatePropagation();
      if (key === "l") { event.preventDefault(); window.location.assign("/tickets/"); }
      return;
    }
    const help = document.getElementById("shortcuts-modal");
    if (key === "g") { pendingG = Date.now(); }
    else if (key === "?" && help) { event.preventDefault(); bootstrap.Modal.getOrCreateInstance(help).show(); }
    else if (key === "/") {
      const search = document.querySelector("[data-sb-search]") || document.getElementById("global-search");
      if (search) { event.preventDefault(); search.focus(); }
    } else if (key === "n") {
      const action = document.querySelector("[data-sb-shortcut='n']");
      if (action) { event.preventDefault(); action.click(); }
    }
  });

  // A form marked data-reset-on-success empties itself once htmx has sent it successfully (an "add another" form).
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-success]") && event.detail.successful) { form.reset(); }
  });
})();
