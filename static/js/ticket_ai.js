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
    if (discard) { setTimeout(function () { clearResult(discard); }, 0); return; }
    draftClick(event);
  });

  // --- A drafted reply: into the box only on Insert; Discard takes out what Insert put in ----------------------
  // The card remembers the box's text before and right after Insert. Discard restores "before" when the box
  // still holds exactly what Insert left; if the agent edited it since, it asks first (their words are theirs).

  function closeDraft(card, rated) {
    const feedback = card.querySelector("[data-ai-discard-feedback]");
    if (rated && feedback && window.htmx) { window.htmx.trigger(feedback, "ai:discarded"); }
    const box = replyBox(replyForm(card));
    setTimeout(function () {
      clearResult(card);
      if (box) { box.focus(); }
    }, 0);
  }

  function takeOut(card) {
    const form = replyForm(card);
    const box = replyBox(form);
    if (box && card.sbInserted) { fill(box, card.sbInserted.before); }
    setRunId(form, "");
    closeDraft(card, true);
  }

  function draftClick(event) {
    const card = event.target.closest("[data-ai-draft]");
    if (!card) { return; }
    const form = replyForm(card);
    const box = replyBox(form);
    const insert = event.target.closest("[data-ai-insert-draft]");
    if (insert) {
      const source = document.getElementById(insert.dataset.aiInsertDraft);
      if (!source || !box) { return; }
      const before = box.value;
      const after = (before.trim() ? before.replace(/\s*$/, "\n\n") : "") + source.value;
      fill(box, after);
      setRunId(form, insert.dataset.runId);
      card.sbInserted = { before: before, after: after };
      insert.disabled = true;
      card.querySelector("[data-ai-draft-status]").textContent = "Inserted into the reply box: review it before sending.";
      return;
    }
    if (event.target.closest("[data-ai-discard-draft]")) {
      if (!card.sbInserted || !box || box.value === card.sbInserted.after) { takeOut(card); return; }
      const confirm = card.querySelector("[data-ai-discard-confirm]");
      confirm.hidden = false;
      confirm.querySelector("button").focus();
      return;
    }
    if (event.target.closest("[data-ai-discard-clear]")) { takeOut(card); return; }
    if (event.target.closest("[data-ai-discard-keep]")) { closeDraft(card, false); }
  }
})();
