// Group registration on the public form (templates/visitors/group_fields.html): show the colleague rows in
// use plus one empty row, and an "Add a colleague" button for the next. Without this script every row shows.
(function () {
  "use strict";
  function filled(row) {
    return Array.prototype.some.call(row.querySelectorAll("input"), function (input) { return input.value.trim() !== ""; })
      || row.querySelector(".error") !== null;
  }
  document.querySelectorAll("[data-colleagues]").forEach(function (box) {
    var rows = Array.prototype.slice.call(box.querySelectorAll("[data-colleague]"));
    var button = box.parentElement.querySelector("[data-add-colleague]");
    if (!rows.length || !button) { return; }
    var shown = 0;
    rows.forEach(function (row, index) { if (filled(row)) { shown = index + 1; } });
    shown = Math.max(shown, 1);
    function update() {
      rows.forEach(function (row, index) { row.hidden = index >= shown; });
      button.hidden = shown >= rows.length;
    }
    button.addEventListener("click", function () {
      shown = Math.min(shown + 1, rows.length);
      update();
      var input = rows[shown - 1].querySelector("input");
      if (input) { input.focus(); }
    });
    update();
  });
}());
