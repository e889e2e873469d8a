/* Floor plan (templates/exhibitors/floor_plan.html): on a narrow screen a hall's SVG keeps a readable size
 * (about 14 px per metre, data-min-width) and its card scrolls sideways; the selected stand is scrolled into
 * view. Without JavaScript the plan simply fits the width of its card. No inline styles: CSSOM only. */
(function () {
  "use strict";
  document.querySelectorAll("svg.floor-svg[data-min-width]").forEach(function (svg) {
    var min = parseInt(svg.getAttribute("data-min-width"), 10);
    if (min > 0) svg.style.minWidth = Math.min(min, 1600) + "px";
  });
  var chosen = document.querySelector("svg.floor-svg [data-selected]");
  if (chosen && chosen.scrollIntoView) {
    var box = chosen.closest(".floor-scroll");
    if (box && box.scrollWidth > box.clientWidth) {
      var rect = chosen.getBoundingClientRect(), outer = box.getBoundingClientRect();
      box.scrollLeft += rect.left - outer.left - (outer.width - rect.width) / 2;
    }
  }
})();
