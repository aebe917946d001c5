// Pipeline settings (templates/leads/pipeline_edit.html): the stage list reorders by dragging a stage's handle.
// SortableJS fires "end" on the list; the order form (hx-trigger="end from:#stage-rows") posts the new order and
// the server answers with the list, which htmx.onLoad makes sortable again. The up/down buttons do the same
// without a mouse.
(function () {
  "use strict";

  function makeSortable(list) {
    if (list.dataset.sortableReady || typeof Sortable === "undefined") { return; }
    list.dataset.sortableReady = "true";
    Sortable.create(list, {
      handle: ".stage-handle",
      animation: 150,
      draggable: ".stage-row",
      onEnd: function () { list.setAttribute("aria-busy", "true"); },
    });
  }

  htmx.onLoad(function (root) {
    var lists = root.matches && root.matches("[data-sortable-stages]") ? [root] : root.querySelectorAll("[data-sortable-stages]");
    lists.forEach(makeSortable);
  });
})();
