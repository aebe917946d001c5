// The customer's quote page: a small signature pad (pointer events on a canvas; finger, pen or mouse) whose
// drawing is kept as a PNG data URL in the form's hidden "signature" field, and, with JavaScript on, no
// "Update total" button (ticking an option already asks the server for the totals through htmx).
(function () {
  "use strict";

  function setUp(canvas) {
    const input = document.querySelector(canvas.dataset.signatureInput);
    const clear = canvas.parentElement.querySelector("[data-signature-clear]");
    const context = canvas.getContext("2d");
    let drawing = false;
    let drawn = false;

    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";

    function point(event) {
      const box = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - box.left) * (canvas.width / box.width),
        y: (event.clientY - box.top) * (canvas.height / box.height),
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      const at = point(event);
      context.beginPath();
      context.moveTo(at.x, at.y);
      event.preventDefault();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      const at = point(event);
      context.lineTo(at.x, at.y);
      context.stroke();
      drawn = true;
    });
    function stop() {
      if (!drawing) { return; }
      drawing = false;
      if (drawn && input) { input.value = canvas.toDataURL("image/png"); }
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        if (input) { input.value = ""; }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-signature-pad]").forEach(setUp);
    document.querySelectorAll("[data-recalculate]").forEach(function (button) { button.hidden = true; });
  });
})();
