/* Conditional qualification questions (templates/visitors/_questions.html): a question with
   data-when-field / data-when-op / data-when-value shows only while the earlier question's answer
   matches; a hidden question's inputs are disabled, so they are not sent. The server applies the same
   rule (expo/visitors/questions.py: shown_keys), so this is a convenience, never the check. */
(function () {
  "use strict";

  function answerOf(root, name) {
    var values = [];
    var list = false;
    root.querySelectorAll('[name="' + name + '"]').forEach(function (el) {
      if (el.disabled) { return; }
      if (el.type === "checkbox") { list = true; }
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) { values.push(el.value); }
      } else if (el.value.trim() !== "") {
        values.push(el.value.trim());
      }
    });
    return { values: values, list: list };
  }

  // A number as the server reads it: full-width digits folded, thousands separators and spaces dropped.
  function number(text) {
    var plain = (text.normalize ? text.normalize("NFKC") : text).replace(/[,\s\u00a0]/g, "");
    return plain === "" ? NaN : Number(plain);
  }

  function holds(op, expected, answer, kind) {
    var values = answer.values;
    expected = (expected || "").trim();
    if (!values.length) { return false; }
    if (answer.list) {
      return op === "contains" ? values.indexOf(expected) !== -1
        : values.length === 1 && values[0] === expected;
    }
    var value = values[0];
    if (op === "contains") { return value.toLowerCase().indexOf(expected.toLowerCase()) !== -1; }
    if (kind === "number") {  // only a number question compares as numbers: a text "05" is not "5"
      var a = number(value), b = number(expected);
      return !isNaN(a) && !isNaN(b) && a === b;
    }
    return value.toLowerCase() === expected.toLowerCase();
  }

  function update(root) {
    var shown = {};
    root.querySelectorAll("[data-question]").forEach(function (box) {
      var field = box.getAttribute("data-when-field");
      var visible = true;
      if (field) {
        visible = shown[field] === true &&
          holds(box.getAttribute("data-when-op"), box.getAttribute("data-when-value"), answerOf(root, field),
                box.getAttribute("data-when-kind"));
      }
      shown[box.getAttribute("data-question")] = visible;
      box.hidden = !visible;
      box.querySelectorAll("input, select, textarea").forEach(function (el) { el.disabled = !visible; });
    });
  }

  function init() {
    document.querySelectorAll("[data-questions]").forEach(function (box) {
      var root = box.closest("form") || box;
      var run = function () { update(root); };
      root.addEventListener("change", run);
      root.addEventListener("input", run);
      run();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
