// Ticket AI glue: AI suggestions into the reply composer, questions into the reply, Improve on the new-ticket form.
// Loaded by templates/helpdesk/_ai_panel.html and _composer_ai.html (once per page, whatever swaps in later).
(function () {
  "use strict";
  if (window.sbTicketAI) { return; }
  window.sbTicketAI = true;

  // The reply form holding the composer's AI bar (from a button inside it, or the page's only composer).
  function replyForm(from) {
    const composer = (from && from.closest("form") && from.closest("form").querySelector("[data-ai-composer]"))
      || document.querySelector("[data-ai-composer]");
    return composer ? composer.closest("form") : null;
  }

  function replyBox(form) { return form ? form.querySelector("textarea[name=body]") : null; }

  function setRunId(form, runId) {
    const hidden = form && form.querySelector("input[name=ai_run_id]");
    if (hidden) { hidden.value = runId || ""; }
  }

  function fill(box, text) {
    box.value = text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }

  function clearResult(from) {
    const result = from.closest("[data-ai-result]") || from.closest(".card");
    if (result) { result.replaceChildren(); }
  }

  document.addEventListener("click", function (event) {
    const use = event.target.closest("[data-ai-use]");
    if (use) {
      const source = document.getElementById(use.dataset.aiUse);
      const form = replyForm(use);
      const box = replyBox(form);
      if (source && box) { fill(box, source.value); setRunId(form, use.dataset.runId); }
      use.parentElement.replaceChildren();  // the sources stay listed; the buttons have done their job
      return;
    }
    const insert = event.target.closest("[data-ai-insert]");
    if (insert) {
      const box = replyBox(replyForm(insert));
      if (box) { fill(box, (box.value.trim() ? box.value.replace(/\s*$/, "\n\n") : "") + insert.dataset.aiInsert); }
      return;
    }
    const replace = event.target.closest("[data-ai-replace]");
    if (replace) {
      const field = document.getElementById(replace.dataset.aiReplace);
      const source = document.getElementById(replace.dataset.aiSource);
      if (field && source) { fill(field, source.value); }
      setTimeout(function () { clearResult(replace); }, 0);  // after htmx sent the feedback
      return;
    }
    const discard = event.target.closest("[data-ai-discard]");
    if (discard) { setTimeout(function () { clearResult(discard); }, 0); }
  });

  // A drafted reply goes straight into an empty reply box (never over what the agent already typed).
  document.addEventListener("htmx:afterSwap", function (event) {
    event.detail.target.querySelectorAll("[data-ai-autofill]").forEach(function (draft) {
      const form = replyForm(draft);
      const box = replyBox(form);
      const source = document.getElementById(draft.dataset.aiAutofill);
      if (box && source && !box.value.trim()) { fill(box, source.value); setRunId(form, draft.dataset.runId); }
    });
  });
})();
