// Badge layouts page: colour swatches from data-colour, and the colour picker kept in step with the hex field.
(function () {
  "use strict";
  var HEX = /^#[0-9a-fA-F]{6}$/;
  document.querySelectorAll(".badge-swatch[data-colour]").forEach(function (el) {
    if (HEX.test(el.dataset.colour)) { el.style.backgroundColor = el.dataset.colour; }
  });
  document.querySelectorAll("input[data-colour-for]").forEach(function (picker) {
    var field = document.getElementById(picker.dataset.colourFor);
    if (!field) { return; }
    picker.addEventListener("input", function () { field.value = picker.value; });
    field.addEventListener("input", function () { if (HEX.test(field.value)) { picker.value = field.value.toLowerCase(); } });
  });
})();
