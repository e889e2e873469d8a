/* The exhibitor's dashboard (templates/postshow/exhibitor_dashboard.html): while the show is on
 * (data-live="yes"), the figures and charts refresh every two minutes from the page's JSON
 * (/portal/dashboard.json), so a screen at the booth stays current without a reload. Charts are drawn by
 * static/charts.js; this file only feeds them new data. Without JavaScript the page is complete as served.
 */
(function () {
  "use strict";
  var REFRESH_MS = 120000;
  var root = document.querySelector("[data-dashboard-url]");
  if (!root || root.getAttribute("data-live") !== "yes" || !window.fetch) return;
  var url = root.getAttribute("data-dashboard-url");

  function setFigure(index, value) {
    var tiles = root.querySelectorAll("#figures .kpi-value");
    if (tiles[index] && value !== null && value !== undefined) {
      tiles[index].textContent = typeof value === "number" ? value.toLocaleString(document.documentElement.lang || "en") : value;
    }
  }

  function redraw(id, spec) {
    var el = document.getElementById(id);
    if (!el || !spec || !window.echarts || !window.expoCharts) return;
    var chart = window.echarts.getInstanceByDom(el);
    if (chart) {
      chart.setOption(window.expoCharts.build(spec), { notMerge: true });
    }
  }

  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        var f = data.figures || {};
        setFigure(0, f.leads);
        setFigure(1, f.hot);
        setFigure(2, f.warm);
        setFigure(3, f.unrated);
        setFigure(4, (f.meetings_agreed || 0) + (f.meetings_held || 0));
        var charts = data.charts || {};
        Object.keys(charts).forEach(function (key) { redraw("chart-" + key, charts[key]); });
      })
      .catch(function () { /* offline for a moment: the next round tries again */ });
  }

  window.setInterval(refresh, REFRESH_MS);
})();
