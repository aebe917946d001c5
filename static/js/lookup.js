// Search-as-you-type boxes (core.forms.LookupWidget): arrow keys walk the options, Enter or a click chooses one,
// Escape closes the list. The chosen id goes into the hidden input the form posts; typing again clears it, so a
// half-typed name is never taken for the earlier choice.
(function () {
  "use strict";

  function parts(element) {
    const box = element.closest("[data-lookup]");
    if (!box) { return null; }
    return {
      box: box,
      input: box.querySelector("[data-lookup-input]"),
      value: box.querySelector("[data-lookup-value]"),
      list: box.querySelector("[role=listbox]"),
    };
  }

  function options(lookup) { return Array.from(lookup.list.querySelectorAll("[data-lookup-option]")); }

  function open(lookup, on) {
    lookup.list.classList.toggle("show", on);
    lookup.input.setAttribute("aria-expanded", on ? "true" : "false");
    if (!on) { highlight(lookup, null); }
  }

  function highlight(lookup, option) {
    options(lookup).forEach(function (each) {
      const active = each === option;
      each.classList.toggle("active", active);
      each.setAttribute("aria-selected", active ? "true" : "false");
    });
    if (option) {
      lookup.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      lookup.input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(lookup, option) {
    lookup.value.value = option.dataset.value;
    lookup.input.value = option.dataset.label;
    open(lookup, false);
    lookup.value.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    const lookup = parts(event.detail.target);
    if (lookup && event.detail.target === lookup.list && document.activeElement === lookup.input) { open(lookup, true); }
  });

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-lookup-input]")) { return; }
    const lookup = parts(event.target);
    if (lookup.value.value) {
      lookup.value.value = "";
      lookup.value.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });

  document.addEventListener("keydown", function (event) {
    if (!event.target.matches("[data-lookup-input]")) { return; }
    const lookup = parts(event.target);
    const all = options(lookup);
    const current = all.indexOf(lookup.list.querySelector("[data-lookup-option].active"));
    const shown = lookup.list.classList.contains("show");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown) { open(lookup, true); }
      if (!all.length) { return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight(lookup, all[(current + step + all.length) % all.length]);
    } else if (event.key === "Enter" && shown && current >= 0) {
      event.preventDefault();  // choosing, not submitting the form
      choose(lookup, all[current]);
    } else if (event.key === "Escape" && shown) {
      event.preventDefault();
      event.stopPropagation();  // the list closes; the modal around it stays
      open(lookup, false);
    }
  });

  // mousedown, not click: the box's blur would close the list before a click lands.
  document.addEventListener("mousedown", function (event) {
    const option = event.target.closest("[data-lookup-option]");
    if (!option) { return; }
    event.preventDefault();
    choose(parts(option), option);
  });

  document.addEventListener("focusout", function (event) {
    if (!event.target.matches("[data-lookup-input]")) { return; }
    open(parts(event.target), false);
  });

  // A company chosen anew makes the contact chosen for the old one meaningless.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-lookup-value]")) { return; }
    const form = event.target.form;
    if (!form) { return; }
    form.querySelectorAll("[data-lookup-depends]").forEach(function (box) {
      if (box.dataset.lookupDepends !== event.target.name) { return; }
      const dependent = parts(box);
      dependent.value.value = "";
      dependent.input.value = "";
    });
  });
})();
