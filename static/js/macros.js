// Macros in the composer and on the macro form (templates/helpdesk/_composer_macros.html, macro_form.html).
//
// Composer: "/" at the start of a line of the reply box opens #macro-picker and what follows it on that line
// searches (an htmx GET into #macro-options). ArrowUp/ArrowDown move, Enter inserts, Escape or Tab closes; the
// box keeps the focus throughout (aria-activedescendant names the highlighted option). Ctrl+Enter still sends
// (static/js/helpdesk.js): the picker just closes first. Choosing a macro takes the "/words" out of the box,
// loads the macro's panel into #macro-panel (the hidden `macro` field, what it will change) and inserts its
// rendered text where the "/" was. "Remove macro" drops the panel and, if the box still holds exactly what the
// macro put in, takes the text out again (as the AI draft's Discard does).
// Form: "Remove this action" drops a row; a placeholder button inserts itself into the reply text.
(function () {
  "use strict";
  if (window.sbMacros) { return; }
  window.sbMacros = true;

  const SEARCH_DELAY_MS = 120;
  let state = null;  // {box, start: index of the "/", query} while the picker is open
  let timer = null;

  function picker() { return document.querySelector("[data-macro-picker]"); }
  function options() { return Array.from(document.querySelectorAll("#macro-options [data-macro-option]")); }
  function announce(text) {
    const live = document.querySelector("[data-macro-status]");
    if (live) { live.textContent = text; }
  }

  // The "/query" being typed: the current line, from its start to the caret, when it starts with "/".
  function slashCommand(box) {
    const caret = box.selectionStart;
    if (caret !== box.selectionEnd) { return null; }
    const start = box.value.lastIndexOf("\n", caret - 1) + 1;
    const line = box.value.slice(start, caret);
    const match = /^\/([^\n/]{0,60})$/.exec(line);
    return match ? { start: start, query: match[1] } : null;
  }

  function search(query) {
    const list = document.getElementById("macro-options");
    const panel = picker();
    if (!list || !panel || !window.htmx) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      const url = panel.dataset.searchUrl + "?q=" + encodeURIComponent(query.trim());
      window.htmx.ajax("GET", url, { source: list, target: list, swap: "innerHTML" });
    }, SEARCH_DELAY_MS);
  }

  function open(box, command) {
    const panel = picker();
    if (!panel) { return; }
    const changed = !state || state.query !== command.query;
    state = { box: box, start: command.start, query: command.query };
    if (panel.hidden) { panel.hidden = false; }
    if (changed) { search(command.query); }
  }

  function close() {
    const panel = picker();
    if (panel) { panel.hidden = true; }
    if (state) { state.box.removeAttribute("aria-activedescendant"); }
    clearTimeout(timer);
    state = null;
  }

  function highlight(index) {
    const items = options();
    if (!state || !items.length) { return; }
    const next = (index + items.length) % items.length;
    items.forEach(function (item, position) {
      const on = position === next;
      item.setAttribute("aria-selected", on ? "true" : "false");
      item.classList.toggle("active", on);
    });
    state.box.setAttribute("aria-activedescendant", items[next].id);
    items[next].scrollIntoView({ block: "nearest" });
  }

  function current() { return options().findIndex(function (item) { return item.getAttribute("aria-selected") === "true"; }); }

  function pick(option) {
    if (!state || !option) { return; }
    const box = state.box;
    const start = state.start;
    const caret = box.selectionStart;
    close();
    const before = box.value.slice(0, start) + box.value.slice(caret);  // the "/words" out
    box.value = before;
    box.setSelectionRange(start, start);
    window.htmx.ajax("GET", option.dataset.insertUrl, { source: box, target: "#macro-panel", swap: "innerHTML" }).then(function () {
      const slot = document.getElementById("macro-panel");
      const text = slot && slot.querySelector("[data-macro-text]");
      const panel = slot && slot.querySelector("[data-macro-panel]");
      if (!panel) { return; }
      let after = before;
      if (text && text.value) {
        after = before.slice(0, start) + text.value + before.slice(start);
        box.value = after;
        box.setSelectionRange(start + text.value.length, start + text.value.length);
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
      panel.sbInserted = { before: before, after: after };
      box.focus();
      announce("Macro " + (option.dataset.name || "") + " added. " + (panel.querySelector("[data-testid=macro-changes]") || { textContent: "" }).textContent);
    });
  }

  document.addEventListener("input", function (event) {
    const box = event.target;
    if (!box.matches || !box.matches("[data-composer-body]")) { return; }
    const command = slashCommand(box);
    if (command) { open(box, command); } else if (state) { close(); }
  });

  // Runs before helpdesk.js's keys and switchboard.js's Escape (on window): the picker has the keys while open.
  document.addEventListener("keydown", function (event) {
    if (!state || event.target !== state.box) { return; }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { close(); return; }  // send, as always
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const index = current();
      highlight(index < 0 ? (event.key === "ArrowDown" ? 0 : -1) : index + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && !event.shiftKey && !event.altKey) {
      const items = options();
      if (!items.length) { close(); return; }
      event.preventDefault();
      pick(items[Math.max(current(), 0)]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();  // keep the focus in the box (switchboard.js would blur it)
      close();
    } else if (event.key === "Tab") {
      close();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "macro-options" && state) {
      const count = options().length;
      if (count) { highlight(0); } else { state.box.removeAttribute("aria-activedescendant"); }
      announce(count ? count + " macro" + (count === 1 ? "" : "s") + ": arrow keys to choose, Enter to insert." : "No macro matches.");
    }
  });

  // A click would blur the box first: choose on mousedown and keep the focus where the agent types.
  document.addEventListener("mousedown", function (event) {
    const option = event.target.closest && event.target.closest("[data-macro-option]");
    if (option && state) { event.preventDefault(); pick(option); }
  });

  document.addEventListener("focusout", function (event) {
    if (state && event.target === state.box) { setTimeout(function () { if (state && document.activeElement !== state.box) { close(); } }, 0); }
  });

  document.addEventListener("click", function (event) {
    const remove = event.target.closest("[data-macro-remove]");
    if (remove) {
      const panel = remove.closest("[data-macro-panel]");
      const box = document.querySelector("[data-composer-body]");
      if (panel && box && panel.sbInserted && box.value === panel.sbInserted.after) {
        box.value = panel.sbInserted.before;
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
      panel.remove();
      announce("Macro removed.");
      if (box) { box.focus(); }
      return;
    }
    const cancel = event.target.closest("[data-macro-apply-cancel]");
    if (cancel) { cancel.closest("form").remove(); return; }
    const removeRow = event.target.closest("[data-remove-action]");
    if (removeRow) {
      const row = removeRow.closest("[data-action-row]");
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      const focus = next && next.querySelector("select");
      if (focus) { focus.focus(); }
      return;
    }
    const placeholder = event.target.closest("[data-insert-placeholder]");
    if (placeholder) {
      const field = document.querySelector("[data-macro-form] textarea[name=reply_text]");
      if (!field) { return; }
      const at = field.selectionStart || field.value.length;
      field.value = field.value.slice(0, at) + placeholder.dataset.insertPlaceholder + field.value.slice(field.selectionEnd || at);
      field.focus();
      field.setSelectionRange(at + placeholder.dataset.insertPlaceholder.length, at + placeholder.dataset.insertPlaceholder.length);
    }
  });
})();
