// Leads → Web forms (templates/leads/capture_form_edit.html): "Copy" puts the embed snippet on the clipboard.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) { return; }
    const source = document.getElementById(button.dataset.copyTarget);
    if (!source) { return; }
    const done = function () {
      button.textContent = "Copied";
      const status = document.getElementById(button.dataset.copyStatus || "");
      if (status) { status.textContent = "The snippet is on your clipboard."; }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(source.value).then(done, function () { source.select(); });
    } else {
      source.select();
    }
  });
})();
