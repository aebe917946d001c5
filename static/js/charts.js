// Charts of a page, drawn with the vendored Chart.js: every <canvas data-sb-chart="name" data-sb-chart-source="id">
// gets the spec `name` from the JSON block with that id (rendered by the view with json_script), e.g.
// {"type": "bar", "stacked": true, "unit": "runs", "labels": [...], "datasets": [{"label", "data", "color"}]}.
(function () {
  "use strict";

  const reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function formatter(unit) {
    if (unit === "usd") { return function (v) { return "$" + Number(v).toLocaleString(undefined, { maximumFractionDigits: 4 }); }; }
    if (unit === "ms") { return function (v) { return Number(v).toLocaleString(undefined, { maximumFractionDigits: 0 }) + " ms"; }; }
    return function (v) { return Number(v).toLocaleString(); };
  }

  function config(spec) {
    const format = formatter(spec.unit);
    const line = spec.type === "line";
    const counts = spec.unit === "runs" || spec.unit === "ratings";
    return {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set) {
          return {
            label: set.label, data: set.data, borderColor: set.color,
            backgroundColor: line ? set.color + "33" : set.color,
            fill: line, cubicInterpolationMode: "monotone", pointRadius: 2, spanGaps: true, maxBarThickness: 48,
          };
        }),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: reduceMotion ? false : { duration: 300 },
        interaction: { mode: "index", intersect: false },
        // A chart with drill-down links (insights widgets) opens the list behind the clicked bar or day.
        onClick: spec.links ? function (event, elements) {
          const link = elements.length ? spec.links[elements[0].index] : "";
          if (link) { window.location.assign(link); }
        } : undefined,
        scales: {
          x: { stacked: !!spec.stacked, grid: { display: false } },
          y: { stacked: !!spec.stacked, beginAtZero: true, ticks: { callback: format, precision: counts ? 0 : undefined } },
        },
        plugins: {
          legend: { display: spec.datasets.length > 1, position: "bottom" },
          tooltip: { callbacks: { label: function (item) { return item.dataset.label + ": " + format(item.parsed.y); } } },
        },
      },
    };
  }

  function draw(root) {
    if (typeof window.Chart === "undefined" || !root.querySelectorAll) { return; }
    root.querySelectorAll("canvas[data-sb-chart]").forEach(function (canvas) {
      if (window.Chart.getChart(canvas)) { return; }
      const source = document.getElementById(canvas.dataset.sbChartSource);
      const spec = source ? JSON.parse(source.textContent)[canvas.dataset.sbChart] : null;
      if (spec) { new window.Chart(canvas, config(spec)); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  document.addEventListener("htmx:load", function (event) { draw(event.target); });
})();
