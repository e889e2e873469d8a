/* The walk-up kiosk and the print queue (templates/onsite/kiosk/*). No inline code: everything hangs on
   data-* attributes.
   - #kiosk[data-kiosk=form]: an untouched form (no tap or key for data-idle seconds) goes back to the
     empty form at data-reset; the submit button is disabled after the first tap (the server is idempotent
     anyway: the form carries its request key).
   - #kiosk[data-kiosk=done]: counts down data-done seconds, then back to data-reset.
   - #queue-rows[data-rows-url]: reloads the queue's tables every data-interval ms while the page is visible;
     paused after a PDF is opened (data-pause-refresh) until "Resume" or a reload, so the badges marked
     "printed" are the ones that were in the PDF. */
(function () {
  "use strict";

  function kioskForm(root) {
    var idle = parseInt(root.getAttribute("data-idle"), 10) || 90;
    var reset = root.getAttribute("data-reset");
    var timer = null;
    function arm() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { window.location.replace(reset); }, idle * 1000);
    }
    ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
      document.addEventListener(name, arm, { passive: true });
    });
    arm();
    var form = document.getElementById("kiosk-form");
    if (form) {
      form.addEventListener("submit", function () {
        var button = document.getElementById("kiosk-submit");
        window.setTimeout(function () { if (button) { button.disabled = true; } }, 0);
      });
    }
    var refusal = document.getElementById("kiosk-refusal");
    if (refusal && refusal.scrollIntoView) { refusal.scrollIntoView({ block: "start" }); }
    else {
      var invalid = document.querySelector(".kiosk-form .is-invalid, .kiosk-form .has-error input");
      if (invalid) { invalid.focus(); }
    }
  }

  function kioskDone(root) {
    var left = parseInt(root.getAttribute("data-done"), 10) || 12;
    var reset = root.getAttribute("data-reset");
    var countdown = document.getElementById("kiosk-countdown");
    var template = countdown ? countdown.getAttribute("data-template") : "";
    var tick = window.setInterval(function () {
      left -= 1;
      if (countdown && template) { countdown.textContent = template.replace("{s}", String(Math.max(left, 0))); }
      if (left <= 0) {
        window.clearInterval(tick);
        window.location.replace(reset);
      }
    }, 1000);
  }

  function queue(rows) {
    var url = rows.getAttribute("data-rows-url");
    var interval = parseInt(rows.getAttribute("data-interval"), 10) || 4000;
    var status = document.getElementById("queue-refresh");
    var text = status ? status.querySelector(".queue-refresh-text") : null;
    var resume = document.getElementById("queue-resume");
    var paused = false;
    var busy = false;
    var last = null;
    function say(key) { if (text && status) { text.textContent = status.getAttribute(key) || ""; } }
    function typing() {
      var active = document.activeElement;
      return active && rows.contains(active) && active.tagName === "INPUT" && active.value !== "";
    }
    function refresh() {
      if (paused || busy || document.hidden || typing()) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store" })
        .then(function (response) {
          if (response.redirected || !response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          if (!paused && html !== last) {
            // our own template's markup, parsed inert (DOMParser runs nothing), then moved in as nodes
            var parsed = new DOMParser().parseFromString(html, "text/html");
            rows.replaceChildren.apply(rows, Array.prototype.slice.call(parsed.body.childNodes));
            last = html;
          }
          say("data-live-text");
        })
        .catch(function () { say("data-error-text"); })
        .then(function () { busy = false; });
    }
    rows.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("[data-pause-refresh]") : null;
      if (link) {
        paused = true;
        say("data-paused-text");
        if (resume) { resume.hidden = false; }
      }
    });
    if (resume) {
      resume.addEventListener("click", function () {
        paused = false;
        resume.hidden = true;
        say("data-live-text");
        refresh();
      });
    }
    window.setInterval(refresh, interval);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
  }

  function start() {
    var root = document.getElementById("kiosk");
    if (root && root.getAttribute("data-kiosk") === "form") { kioskForm(root); }
    if (root && root.getAttribute("data-kiosk") === "done") { kioskDone(root); }
    var rows = document.getElementById("queue-rows");
    if (rows) { queue(rows); }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
