// Insights dashboards: the custom-dates fields show only for a custom period, and a live nudge (insights/live.py,
// swapped into #insights-live over the websocket) tells the page's number widgets to fetch themselves again.
(function () {
  "use strict";

  function toggleDates(form) {
    const period = form.querySelector("select[name=period]");
    const custom = period && period.value === "custom";
    form.querySelectorAll("[data-custom-date]").forEach(function (box) { box.hidden = !custom; });
  }

  function init() {
    const form = document.querySelector("[data-testid=dashboard-filters]");
    if (!form) { return; }
    toggleDates(form);
    form.addEventListener("change", function () { toggleDates(form); });
  }

  // The filter bar sends only what is set: the address bar (and a copied link) stays short and readable.
  document.addEventListener("htmx:configRequest", function (event) {
    const form = event.detail.elt;
    if (!form.matches || !form.matches("[data-testid=dashboard-filters]")) { return; }
    Object.keys(event.detail.parameters).forEach(function (name) {
      if (event.detail.parameters[name] === "") { delete event.detail.parameters[name]; }
    });
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "insights-live") {
      document.body.dispatchEvent(new CustomEvent("insights:changed"));
    }
  });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
