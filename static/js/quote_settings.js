// The quote branding page: the colour picker and the #rrggbb text field follow each other, and the accept-button
// preview takes the colour with black or white text, whichever contrasts more (the same rule as quotes/branding.py).
(function () {
  "use strict";

  const HEX = /^#[0-9a-fA-F]{6}$/;

  function textOn(hex) {
    const linear = [1, 3, 5].map(function (i) {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    const luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
    return (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05) ? "#000000" : "#ffffff";
  }

  function show(hex) {
    const preview = document.querySelector("[data-colour-preview]");
    if (!preview || !HEX.test(hex)) { return; }
    preview.style.backgroundColor = hex;
    preview.style.color = textOn(hex);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const picker = document.querySelector("[data-colour-picker]");
    const text = document.querySelector("[data-colour-text]");
    if (!picker || !text) { return; }
    picker.addEventListener("input", function () { text.value = picker.value; show(picker.value); });
    text.addEventListener("input", function () {
      if (HEX.test(text.value.trim())) { picker.value = text.value.trim().toLowerCase(); show(picker.value); }
    });
  });
})();
