/* Address chips for the composer's To/CC/BCC boxes (progressive: without this script they are plain text boxes).

   Each `input[data-address-chips]` becomes a hidden field that still posts the same name with the addresses
   separated by commas, shown as a list of chips beside a text box for typing:
   - Enter, comma or semicolon adds what was typed; leaving the box adds it too; pasting a list adds each address
     ("Ann <ann@example.com>; bob@example.com" included);
   - Backspace in the empty box removes the last chip; each chip has its own remove button;
   - an address that is not one stays in the box, marked invalid, with a message naming it;
   - additions and removals are announced to screen readers (a polite live region).
   The server checks the addresses again (helpdesk.validators.normalize_addresses): its errors show as before. */
(function () {
  "use strict";
  if (window.SwitchboardAddressChips) return; // the composer is swapped by htmx: its script tag runs again

  var ADDRESS = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/;
  var SEPARATORS = /[,;\s]+/;

  function splitList(text) {
    // "Name <a@b.c>" keeps only the address; names alone are dropped with their commas.
    var bracketed = text.replace(/"[^"]*"/g, " ").replace(/[^<>,;]*<([^<>]*)>/g, " $1 ");
    return bracketed.split(SEPARATORS).map(function (part) { return part.trim(); }).filter(Boolean);
  }

  function enhance(original) {
    if (original.dataset.chipsReady) return;
    original.dataset.chipsReady = "1";
    var label = (document.querySelector('label[for="' + original.id + '"]') || {}).textContent || original.name;
    var box = document.createElement("div");
    box.className = "form-control d-flex flex-wrap align-items-center gap-1 sb-chips" +
      (original.classList.contains("is-invalid") ? " is-invalid" : "");
    box.dataset.testid = original.dataset.testid + "-chips";
    var list = document.createElement("ul");
    list.className = "list-unstyled d-flex flex-wrap gap-1 m-0";
    list.setAttribute("aria-label", label + " addresses");
    var typing = document.createElement("input");
    typing.type = "text";
    typing.id = original.id;
    typing.className = "border-0 flex-grow-1 sb-chips-input";
    typing.autocomplete = "off";
    typing.spellcheck = false;
    typing.placeholder = original.placeholder;
    typing.dataset.testid = original.dataset.testid + "-input";
    typing.style.minWidth = "10rem";
    typing.style.background = "transparent";
    var error = document.createElement("div");
    error.className = "invalid-feedback";
    error.id = original.id + "-chips-error";
    error.dataset.testid = original.dataset.testid + "-chips-error";
    var status = document.createElement("div");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");
    var described = [original.getAttribute("aria-describedby"), error.id].filter(Boolean).join(" ");
    typing.setAttribute("aria-describedby", described);

    original.removeAttribute("id"); // the label now names the box one types in
    original.type = "hidden";
    original.removeAttribute("aria-describedby");
    original.removeAttribute("aria-invalid");
    original.parentNode.insertBefore(box, original);
    box.appendChild(list);
    box.appendChild(typing);
    box.parentNode.insertBefore(error, box.nextSibling);
    box.parentNode.insertBefore(status, error.nextSibling);
    box.addEventListener("click", function (event) { if (event.target === box) typing.focus(); });

    var addresses = [];

    function sync() {
      original.value = addresses.concat(typing.value.trim() ? [typing.value.trim()] : []).join(", ");
    }

    function render() {
      list.textContent = "";
      addresses.forEach(function (address, index) {
        var chip = document.createElement("li");
        chip.className = "badge rounded-pill text-bg-light border d-inline-flex align-items-center gap-1 sb-chip";
        chip.dataset.testid = "address-chip";
        var text = document.createElement("span");
        text.textContent = address;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn-close btn-close-sm";
        remove.style.fontSize = "0.6em";
        remove.setAttribute("aria-label", "Remove " + address);
        remove.addEventListener("click", function () {
          removeAt(index);
          typing.focus();
        });
        chip.appendChild(text);
        chip.appendChild(remove);
        list.appendChild(chip);
      });
      sync();
    }

    function showError(message) {
      error.textContent = message;
      error.classList.toggle("d-block", Boolean(message));
      box.classList.toggle("is-invalid", Boolean(message));
      if (message) typing.setAttribute("aria-invalid", "true");
      else typing.removeAttribute("aria-invalid");
    }

    function removeAt(index) {
      var gone = addresses.splice(index, 1)[0];
      render();
      status.textContent = gone + " removed from " + label + ".";
    }

    function add(text) {
      var parts = splitList(text);
      var added = [];
      var wrong = [];
      parts.forEach(function (part) {
        var address = part.replace(/^<|>$/g, "").toLowerCase();
        if (!ADDRESS.test(address)) wrong.push(part);
        else if (addresses.indexOf(address) === -1) { addresses.push(address); added.push(address); }
      });
      typing.value = wrong.join(", ");
      render();
      if (wrong.length) {
        showError(label + ": " + wrong.map(function (w) { return "“" + w + "”"; }).join(", ") +
          (wrong.length > 1 ? " are not email addresses." : " is not an email address."));
      } else {
        showError("");
      }
      if (added.length) status.textContent = added.join(", ") + " added to " + label + ".";
    }

    typing.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === "," || event.key === ";") {
        if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { add(typing.value); return; } // send
        event.preventDefault(); // Enter must not send the reply; the separators are not typed
        if (typing.value.trim()) add(typing.value);
      } else if (event.key === "Backspace" && typing.value === "" && addresses.length) {
        event.preventDefault();
        removeAt(addresses.length - 1);
      }
    });
    typing.addEventListener("input", function () {
      if (error.textContent && !typing.value.trim()) showError("");
      sync();
    });
    typing.addEventListener("paste", function (event) {
      var text = (event.clipboardData || window.clipboardData).getData("text");
      if (!text) return;
      event.preventDefault();
      add(typing.value + "," + text);
    });
    typing.addEventListener("blur", function () { if (typing.value.trim()) add(typing.value); });
    if (original.form) original.form.addEventListener("submit", sync, true);

    // What the server rendered (the requester, the ticket's CCs, or what was posted); when the server already
    // explains an error below the box, the same words are not repeated.
    var serverSaid = box.classList.contains("is-invalid");
    add(original.value);
    if (serverSaid) { error.textContent = ""; error.classList.remove("d-block"); }
  }

  function init(root) {
    (root || document).querySelectorAll("input[data-address-chips]").forEach(enhance);
  }

  window.SwitchboardAddressChips = { init: init };
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
})();
