/* On a chat ticket's page: while the agent writes in the composer, tell the visitor "<agent> is typing…" (one POST
 * every few seconds at most). The element carrying data-chat-typing-url exists only on chat tickets. */
(function () {
  "use strict";
  var EVERY_MS = 3000;
  var last = 0;

  function csrfToken() {
    var input = document.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLTextAreaElement) || !target.matches("[data-composer-body]")) return;
    var marker = document.querySelector("[data-chat-typing-url]");
    var form = target.closest("form");
    var kind = form ? form.querySelector("[name=kind]:checked") : null;
    if (!marker || (kind && kind.value !== "reply")) return;  // internal notes are nobody's business
    var now = Date.now();
    if (now - last < EVERY_MS) return;
    last = now;
    fetch(marker.getAttribute("data-chat-typing-url"), {
      method: "POST", headers: { "X-CSRFToken": csrfToken() }, credentials: "same-origin",
    }).catch(function () { /* a lost typing signal is harmless */ });
  });
})();
