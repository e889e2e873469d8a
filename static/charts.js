/* Charts of Expo CRM: every element with [data-chart] is drawn with ECharts (static/vendor/echarts).
 *
 * Templates use the macro in templates/_ui.html (and `{% set charts = true %}` so base.html loads this file):
 *     {{ ui.chart('by-day', data, 320) }}            data: a dict made in Python, serialised with |tojson
 *     {{ ui.chart('by-day', url=url_for(...)) }}     or: the same JSON fetched from an endpoint
 * It emits <div class="chart" id="by-day" data-chart="by-day-data" data-height="320" data-empty="No data yet.">
 * and <script type="application/json" id="by-day-data">…</script>.
 *
 * DATA FORMAT (JSON), either A) a simple description:
 *   {
 *     "type": "line" | "area" | "bar" | "hbar" | "stack" | "hstack" | "pie" | "donut" | "funnel",
 *     "categories": ["D-30", "D-29", ...],   axis labels (line, area, bar, hbar, stack, hstack)
 *     "series": [{"name": "2026", "data": [3, 5, null, 8]},                    one entry per line/bar series
 *                {"name": "2025", "data": [...], "dashed": true, "muted": true}],   dashed/grey: e.g. last edition
 *               pie, donut, funnel: one series whose data is [{"name": "Buyer", "value": 120}, ...]
 *     "unit": "m²",              optional, appended to values in tooltips and labels
 *     "labels": true,            optional, value labels on bars / slices (default: on for hbar, pie, donut, funnel)
 *     "urls": ["/org/...", ...], optional, one link per category (or put "url" into a pie/funnel data item):
 *                                a click on a bar, point or slice opens it (drill-down to the filtered list)
 *     "marks": [{"at": "D-0", "label": "Opening"}],   optional vertical marker lines on the category axis
 *     "option": {...}            optional, any ECharts option, deep-merged over the generated one
 *   }
 * or B) {"option": {...a complete ECharts option...}} without "type": used as it is.
 * Tooltips are drawn on the canvas (renderMode "richText"): HTML tooltips and formatters returning HTML
 * need style= attributes, which the Content-Security-Policy refuses; keep it that way in "option" too.
 * Either way the chart gets our theme (font stack of static/app.css, palette), the page's locale
 * ('ZH' for <html lang="zh-CN">, else 'EN'), resizes with its box, and shows the data-empty sentence
 * instead of a blank canvas when there is nothing to draw (no series, or every value null or 0).
 */
(function () {
  "use strict";
  if (!window.echarts) return;
  var echarts = window.echarts;
  var lang = (document.documentElement.lang || "en").toLowerCase();
  var LOCALE = lang.indexOf("zh") === 0 ? "ZH" : "EN";
  var FONT = getComputedStyle(document.documentElement).getPropertyValue("--expo-font").trim() ||
    '-apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "PingFang SC", ' +
    '"Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", sans-serif';
  var PALETTE = ["#2f6fed", "#20a36b", "#f59f00", "#7048e8", "#e8590c", "#15aabf", "#d6336c", "#5c7cfa", "#868e96"];
  var MUTED = "#adb5bd";
  var numberFormat = new Intl.NumberFormat(LOCALE === "ZH" ? "zh-CN" : "en");

  echarts.registerTheme("expo", {
    color: PALETTE,
    backgroundColor: "transparent",
    textStyle: { fontFamily: FONT, color: "#495057" },
    title: { textStyle: { fontFamily: FONT, color: "#212529", fontWeight: 600 } },
    legend: { textStyle: { fontFamily: FONT, color: "#495057" } },
    tooltip: { textStyle: { fontFamily: FONT } },
    categoryAxis: { axisLine: { lineStyle: { color: "#ced4da" } }, axisTick: { show: false },
      axisLabel: { color: "#6c757d", hideOverlap: true }, splitLine: { show: false } },
    valueAxis: { axisLine: { show: false }, axisLabel: { color: "#6c757d" },
      splitLine: { lineStyle: { color: "#e9ecef" } } }
  });

  function isObject(value) { return value && typeof value === "object" && !Array.isArray(value); }

  function merge(target, source) {
    Object.keys(source || {}).forEach(function (key) {
      if (isObject(source[key]) && isObject(target[key])) merge(target[key], source[key]);
      else target[key] = source[key];
    });
    return target;
  }

  function value(item) { return isObject(item) ? item.value : item; }

  function hasData(series) {
    return (series || []).some(function (s) {
      return (s.data || []).some(function (item) {
        var v = value(item);
        if (Array.isArray(v)) v = v[v.length - 1];
        return v !== null && v !== undefined && v !== "" && Number(v) !== 0;
      });
    });
  }

  function fmt(v, unit) {
    if (v === null || v === undefined || v === "") return "–";
    var text = typeof v === "number" ? numberFormat.format(v) : String(v);
    return unit ? text + " " + unit : text;
  }

  function build(spec) {
    var type = spec.type;
    var unit = spec.unit || "";
    var series = spec.series || [];
    var many = series.length > 1;
    var option = {
      aria: { enabled: true },
      animationDuration: 400,
      legend: { show: many || type === "pie" || type === "donut", bottom: 0, type: "scroll", icon: "roundRect", itemWidth: 12, itemHeight: 8 },
      // richText: the tooltip is drawn on the canvas. ECharts' default HTML tooltip writes style="…"
      // attributes, which the Content-Security-Policy (style-src 'self') refuses.
      tooltip: { renderMode: "richText", confine: true, valueFormatter: function (v) { return fmt(v, unit); } }
    };
    if (type === "pie" || type === "donut" || type === "funnel") {
      var s = series[0] || { data: [] };
      option.tooltip.trigger = "item";
      var showLabels = spec.labels !== false;
      if (type === "funnel") {
        option.legend.show = false;
        option.series = [{ type: "funnel", name: s.name, data: s.data, sort: "none", gap: 2, left: "4%", width: "58%",
          top: 10, bottom: 10, minSize: "20%",
          label: { show: showLabels, position: "right", color: "#212529",
            formatter: function (p) { return p.name + "  " + fmt(p.value, unit); } },
          labelLine: { show: showLabels, lineStyle: { color: "#ced4da" } } }];
      } else {
        option.series = [{ type: "pie", name: s.name, data: s.data, radius: type === "donut" ? ["48%", "72%"] : "70%",
          center: ["50%", "45%"], avoidLabelOverlap: true, itemStyle: { borderColor: "#fff", borderWidth: 2 },
          label: { show: showLabels, formatter: "{b}\n{d}%" } }];
      }
      return option;
    }
    var horizontal = type === "hbar" || type === "hstack";
    var stacked = type === "stack" || type === "hstack";
    var categoryAxis = { type: "category", data: spec.categories || [], boundaryGap: type !== "line" && type !== "area" };
    var valueAxis = { type: "value", axisLabel: { formatter: function (v) { return numberFormat.format(v); } } };
    if (horizontal) { categoryAxis.inverse = true; categoryAxis.axisLabel = { width: 140, overflow: "truncate" }; }
    option.xAxis = horizontal ? valueAxis : categoryAxis;
    option.yAxis = horizontal ? categoryAxis : valueAxis;
    option.grid = { left: 8, right: horizontal ? 48 : 16, top: spec.marks && spec.marks.length ? 32 : 16,
      bottom: many ? 40 : 8, containLabel: true };
    option.tooltip.trigger = "axis";
    option.tooltip.axisPointer = { type: type === "line" || type === "area" ? "line" : "shadow" };
    var labels = spec.labels === undefined ? horizontal && !stacked : spec.labels;
    option.series = series.map(function (s, i) {
      var out = { name: s.name, data: s.data, type: type === "line" || type === "area" ? "line" : "bar" };
      if (out.type === "line") {
        out.smooth = false; out.showSymbol = (spec.categories || []).length <= 31; out.symbolSize = 5;
        if (type === "area") out.areaStyle = { opacity: 0.12 };
        if (s.dashed) out.lineStyle = { type: "dashed" };
      } else {
        out.barMaxWidth = 28;
        out.itemStyle = { borderRadius: stacked ? 0 : (horizontal ? [0, 3, 3, 0] : [3, 3, 0, 0]) };
        if (stacked) out.stack = s.stack || "total";
        if (labels) out.label = { show: true, position: stacked ? "inside" : (horizontal ? "right" : "top"),
          formatter: function (p) { return fmt(value(p.value), ""); }, color: stacked ? "#fff" : "#495057" };
      }
      if (s.muted) { out.color = MUTED; out.z = 1; }
      if (i === 0 && spec.marks && spec.marks.length) {
        out.markLine = { symbol: "none", silent: true, lineStyle: { color: "#868e96", type: "dotted" },
          label: { formatter: "{b}", color: "#495057", fontFamily: FONT },
          data: spec.marks.map(function (m) { var d = { name: m.label || "" }; d[horizontal ? "yAxis" : "xAxis"] = m.at; return d; }) };
      }
      return out;
    });
    return option;
  }

  function showEmpty(el) {
    el.classList.add("chart-empty");
    el.textContent = el.getAttribute("data-empty") || "";
    el.removeAttribute("role");
  }

  function draw(el, spec) {
    var option;
    if (spec && spec.type) option = merge(build(spec), spec.option || {});
    else option = spec && spec.option ? spec.option : null;
    var series = option && option.series ? [].concat(option.series) : [];
    if (!option || !hasData(series)) { showEmpty(el); return; }
    [].concat(option.tooltip || []).forEach(function (t) { t.renderMode = "richText"; });  // CSP: see above
    var chart = echarts.init(el, "expo", { locale: LOCALE, renderer: "canvas" });
    chart.setOption(option);
    chart.on("click", function (params) {
      var url = (isObject(params.data) && params.data.url) || (spec.urls && spec.urls[params.dataIndex]);
      if (url) window.location.href = url;
    });
    if (window.ResizeObserver) new ResizeObserver(function () { chart.resize(); }).observe(el);
    else window.addEventListener("resize", function () { chart.resize(); });
  }

  function init(el) {
    var height = parseInt(el.getAttribute("data-height"), 10);
    if (height > 0) el.style.height = height + "px";
    var url = el.getAttribute("data-chart-url");
    if (url) {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (spec) { draw(el, spec); })
        .catch(function () { showEmpty(el); });
      return;
    }
    var source = document.getElementById(el.getAttribute("data-chart"));
    var spec = null;
    try { spec = source ? JSON.parse(source.textContent) : null; } catch (e) { spec = null; }
    draw(el, spec);
  }

  function start() { document.querySelectorAll("[data-chart]").forEach(init); }
  if (document.readyState !== "loading") start(); else document.addEventListener("DOMContentLoaded", start);
  window.expoCharts = { init: init, build: build };
})();
