/* Live attendance (templates/onsite/zones/attendance.html) and the edition page's "inside now" card
 * (templates/onsite/zones/_card.html): every element with [data-attendance-url] fetches that JSON every
 * data-poll seconds (15 by default) and updates itself in place — no inline code or style (CSP).
 *
 * The JSON (expo.onsite.zone_views.attendance_data):
 *   {figures: {admitted, entries, exits}, zones: [{id, name, inside, capacity, level, level_label}],
 *    gates: [{code, name, entries, exits}], charts: {hours, flow, occupancy}}   charts: static/charts.js format
 * Updated here: [data-zone=<id>] rows ([data-field=inside], [data-field=level], <meter>), the KPI tiles'
 * values in order (admitted, entries, exits), [data-gate=<code>] rows, and the charts #chart-<key>. A chart
 * already drawn gets the new option (ECharts animates the change); one that showed "no data" is drawn anew.
 * Polling pauses while the tab is hidden and resumes at once when it shows again.
 */
(function () {
  "use strict";
  var numberFormat = new Intl.NumberFormat((document.documentElement.lang || "en").indexOf("zh") === 0 ? "zh-CN" : "en");
  var LEVEL_CHIP = { full: "chip-danger", warning: "chip-warning", ok: "chip-success" };

  function fmt(n) { return numberFormat.format(n || 0); }
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function clock() { var d = new Date(); return two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds()); }

  function updateZones(root, zones) {
    (zones || []).forEach(function (zone) {
      var row = root.querySelector('[data-zone="' + zone.id + '"]');
      if (!row) return;
      row.setAttribute("data-level", zone.level);
      var inside = row.querySelector('[data-field="inside"]');
      if (inside) inside.textContent = fmt(zone.inside);
      var level = row.querySelector('[data-field="level"]');
      if (level) {
        level.textContent = zone.level_label || "";
        Object.keys(LEVEL_CHIP).forEach(function (k) { level.classList.remove(LEVEL_CHIP[k]); });
        level.classList.add(LEVEL_CHIP[zone.level] || "chip-success");
      }
      var meter = row.querySelector("meter");
      if (meter) { meter.value = zone.inside; meter.textContent = zone.inside + " / " + (zone.capacity || ""); }
    });
  }

  function updateFigures(root, figures) {
    var values = root.querySelectorAll(".kpi .kpi-value");
    var order = ["admitted", "entries", "exits"];
    order.forEach(function (key, i) {
      if (values[i] && figures && key in figures) values[i].textContent = fmt(figures[key]);
    });
  }

  function updateGates(root, gates) {
    (gates || []).forEach(function (gate) {
      var row = root.querySelector('[data-gate="' + (window.CSS && CSS.escape ? CSS.escape(gate.code) : gate.code) + '"]');
      if (!row) return;
      var entries = row.querySelector('[data-field="entries"]');
      var exits = row.querySelector('[data-field="exits"]');
      if (entries) entries.textContent = fmt(gate.entries);
      if (exits) exits.textContent = fmt(gate.exits);
    });
  }

  function updateChart(el, spec) {
    var echarts = window.echarts, charts = window.expoCharts;
    if (!echarts || !charts || !spec) return;
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (source) source.textContent = JSON.stringify(spec);
    var chart = echarts.getInstanceByDom(el);
    if (chart && spec.type) {
      var option = charts.build(spec);
      var hasValues = (option.series || []).some(function (s) {
        return (s.data || []).some(function (v) { return v !== null && Number(v && v.value !== undefined ? v.value : v) !== 0; });
      });
      if (hasValues) {
        option.tooltip = option.tooltip || {};
        option.tooltip.renderMode = "richText";  // CSP: see static/charts.js
        chart.setOption(option, { replaceMerge: ["series", "xAxis", "yAxis"] });
        el.setAttribute("data-updated", clock());
        return;
      }
      chart.dispose();
    }
    // Not drawn yet (it showed "no data") or nothing to draw any more: charts.js draws or shows the sentence.
    el.classList.remove("chart-empty");
    el.textContent = "";
    el.setAttribute("role", "img");
    charts.init(el);
    el.setAttribute("data-updated", clock());
  }

  function updateCharts(root, specs) {
    Object.keys(specs || {}).forEach(function (key) {
      var el = root.querySelector("#chart-" + key);
      if (el) updateChart(el, specs[key]);
    });
  }

  function setState(root, ok) {
    var state = root.querySelector("[data-live-state]");
    if (!state) return;
    var text = state.getAttribute(ok ? "data-live-text" : "data-offline-text") || "";
    if (ok || !state.getAttribute("data-last")) state.setAttribute("data-last", clock());
    state.textContent = text.replace("{time}", state.getAttribute("data-last"));
    root.setAttribute("data-live", ok ? "ok" : "offline");
  }

  function start(root) {
    var url = root.getAttribute("data-attendance-url");
    var every = Math.max(5, parseInt(root.getAttribute("data-poll"), 10) || 15) * 1000;
    var timer = null, busy = false;

    function refresh() {
      if (busy) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
        .then(function (data) {
          updateZones(root, data.zones);
          updateFigures(root, data.figures);
          updateGates(root, data.gates);
          updateCharts(root, data.charts);
          setState(root, true);
          root.setAttribute("data-refreshed", String(Date.now()));
        })
        .catch(function () { setState(root, false); })
        .then(function () { busy = false; });
    }

    function schedule() {
      if (timer) clearInterval(timer);
      timer = document.hidden ? null : setInterval(refresh, every);
    }

    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) refresh();
      schedule();
    });
    root.addEventListener("attendance:refresh", refresh);  // tests and other scripts may ask for one now
    schedule();
  }

  function ready() { document.querySelectorAll("[data-attendance-url]").forEach(start); }
  if (document.readyState !== "loading") ready(); else document.addEventListener("DOMContentLoaded", ready);
})();
