// SLA countdowns (templates/helpdesk/_sla_timers.html): every running badge counts down against its due time,
// turns amber at its warning point and red once due. Loaded by every copy of the partial; runs once per page.
(function () {
  "use strict";
  if (window.sbSlaTimers) { return; }
  window.sbSlaTimers = true;

  var STATES = { ok: "text-bg-success", warn: "text-bg-warning", overdue: "text-bg-danger" };

  // The same wording as helpdesk/templatetags/sla_tags.py: 3d 4h, 2h 05m, 12m.
  function span(seconds) {
    var minutes = Math.max(1, Math.floor(seconds / 60));
    var days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60), rest = minutes % 60;
    if (days) { return days + "d " + hours + "h"; }
    if (hours) { return hours + "h " + (rest < 10 ? "0" : "") + rest + "m"; }
    return rest + "m";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-sla-due]").forEach(function (badge) {
      var due = Date.parse(badge.dataset.slaDue);
      var warn = badge.dataset.slaWarn ? Date.parse(badge.dataset.slaWarn) : null;
      if (isNaN(due)) { return; }
      var left = Math.round((due - now) / 1000);
      var state = left <= 0 ? "overdue" : (warn !== null && now >= warn ? "warn" : "ok");
      if (badge.dataset.slaState !== state) {
        Object.keys(STATES).forEach(function (key) { badge.classList.remove(STATES[key]); });
        badge.classList.add(STATES[state]);
        badge.dataset.slaState = state;
      }
      var text = badge.querySelector("[data-sla-text]");
      if (text) { text.textContent = left > 0 ? span(left) + " left" : span(-left) + " overdue"; }
    });
  }

  tick();
  setInterval(tick, 15000);
  document.addEventListener("htmx:load", tick);
})();
