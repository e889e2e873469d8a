// The scanner and check-in pages (templates/onsite/_scan.html). A hardware scanner is a keyboard: it types
// the code and presses Enter, which submits #scan-form; this script sends the scan to the JSON API instead
// of reloading the page, shows the verdict band, adds the scan to the recent-scans strip and gives the
// code field its focus back. Without this script the form posts to the page itself and works the same.
// Each scan gets its own client_scan_id, so a retried request is stored once.
// Times are shown in the edition's time zone (#scan-form data-timezone), never the browser's.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form || !window.fetch) { return; }
  var input = document.getElementById("code");
  var gate = document.getElementById("gate");
  var panel = document.getElementById("scan-result");
  var labels = JSON.parse(document.getElementById("scan-labels").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var lang = document.documentElement.lang || "en";
  var zone = form.dataset.timezone || "UTC";
  var RECENT_ROWS = 10;
  var IDLE_AFTER_MS = 20000;
  var idleTimer = null;

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function icon(name, cls) {
    var node = el("i", "bi bi-" + name + (cls ? " " + cls : ""));
    node.setAttribute("aria-hidden", "true");
    return node;
  }

  // "2026-11-24 09:30:15" in the edition's zone, as the server writes it (same digits in every language).
  var clock = null;
  try {
    clock = new Intl.DateTimeFormat(lang, { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", numberingSystem: "latn", calendar: "gregory" });
  } catch (error) { clock = null; }

  function editionTime(date) {
    if (!clock) { return date.toISOString().slice(0, 19).replace("T", " ") + " UTC"; }
    var part = {};
    clock.formatToParts(date).forEach(function (p) { part[p.type] = p.value; });
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute + ":" + part.second;
  }

  // ---- sound and vibration: a distinct signal for valid, repeated and refused badges -----------------
  var audio = null;
  function unlockAudio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      try { audio = new Context(); } catch (error) { audio = null; }
    }
    if (audio && audio.state === "suspended") { audio.resume().catch(function () {}); }
  }
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);

  function beep(frequency, start, length) {
    var t = audio.currentTime + start;
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = "sine";
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, t);
    gain.gain.exponentialRampToValueAtTime(0.001, t + length);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(t);
    osc.stop(t + length + 0.05);
  }

  var SIGNALS = {
    ok: { tones: [[1046, 0, 0.16]], vibrate: 200 },
    duplicate: { tones: [[784, 0, 0.12], [784, 0.18, 0.12]], vibrate: [80, 60, 80] },
    refused: { tones: [[196, 0, 0.5]], vibrate: [100, 50, 100, 50, 100] },
    error: { tones: [[196, 0, 0.5]], vibrate: [100, 50, 100, 50, 100] }
  };

  function signal(result) {
    var s = SIGNALS[result] || SIGNALS.error;
    if (audio && audio.state === "running") {
      try { s.tones.forEach(function (t) { beep(t[0], t[1], t[2]); }); } catch (error) { /* no sound then */ }
    }
    if (navigator.vibrate && navigator.userActivation && navigator.userActivation.hasBeenActive) {
      try { navigator.vibrate(s.vibrate); } catch (error) { /* no vibration then */ }
    }
  }

  // ---- the verdict band ----------------------------------------------------------------------------
  function idle() {
    panel.className = "scan-result verdict-band idle";
    var line = el("div", "verdict-idle");
    line.append(icon("upc-scan"), el("span", null, labels.ready));
    panel.replaceChildren(line);
  }

  function visitorName(visitor) {
    if (!visitor) { return null; }
    return visitor.name || null;
  }

  function show(answer) {
    var state = labels.results[answer.result] || labels.results.error;
    panel.className = "scan-result verdict-band " + answer.result + " text-bg-" + state.color;
    var verdict = el("div", "verdict");
    verdict.append(icon(state.icon, "verdict-icon"), el("span", "verdict-word", state.label));
    panel.replaceChildren(verdict);
    if (answer.reason) { panel.appendChild(el("div", "reason", labels.reasons[answer.reason] || answer.reason)); }
    if (answer.error) { panel.appendChild(el("div", "reason", answer.error)); }
    var v = answer.visitor;
    if (v) {
      panel.appendChild(el("div", "who", visitorName(v) || labels.not_shared));
      panel.appendChild(el("div", "what", [v.company, labels.categories[v.category] || v.category]
        .filter(Boolean).join(" · ")));
    }
    signal(answer.result);
    addRecent(answer);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(idle, IDLE_AFTER_MS);
  }

  // ---- the recent-scans strip: the same markup as the server's rows (_scan.html recent_row) --------
  function addRecent(answer) {
    var table = document.getElementById("recent-scans");
    if (!table || answer.result === "error") { return; }
    var body = table.tBodies[0] || table.createTBody();
    var when = answer.scanned_at ? new Date(answer.scanned_at) : new Date();
    var row = body.insertRow(0);

    var time = el("time", null, editionTime(when));
    time.setAttribute("datetime", answer.scanned_at || when.toISOString());
    row.insertCell().appendChild(time);
    row.cells[0].className = "scan-when";

    var who = row.insertCell();
    who.className = "scan-who";
    var name = visitorName(answer.visitor);
    if (name) { who.textContent = name; }
    else { who.appendChild(el("span", "text-body-secondary", answer.visitor ? labels.not_shared : "—")); }

    var what = row.insertCell();
    what.className = "scan-what";
    var state = labels.results[answer.result] || { label: answer.result, color: "secondary", icon: "circle" };
    var chip = el("span", "chip chip-" + state.color);
    chip.append(icon(state.icon), document.createTextNode(state.label));
    what.appendChild(chip);
    if (answer.reason) {
      what.appendChild(document.createTextNode(" "));
      what.appendChild(el("span", "scan-reason", labels.reasons[answer.reason] || answer.reason));
    }
    while (body.rows.length > RECENT_ROWS) { body.deleteRow(-1); }
    var empty = table.parentNode.querySelector(".recent-empty");
    if (empty) { empty.hidden = true; }
  }

  // ---- sending ---------------------------------------------------------------------------------------
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    input.value = "";
    input.classList.remove("is-invalid");
    if (!code) { input.focus(); return; }
    var body = { code: code, kind: form.dataset.kind, client_scan_id: newId(),
                 scanned_at: new Date().toISOString(), edition_id: Number(form.dataset.edition) };
    if (gate && gate.value.trim()) { body.gate = gate.value.trim(); }
    panel.classList.add("pending");
    panel.setAttribute("aria-busy", "true");
    fetch(form.dataset.api, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { answer = { result: "error", error: answer.error || response.statusText }; }
        show(answer);
      });
    }).catch(function () {
      show({ result: "error", error: labels.offline });
    }).finally(function () {
      panel.classList.remove("pending");
      panel.removeAttribute("aria-busy");
      input.focus();
    });
  });

  // ---- focus: the code field takes every keystroke meant for it ------------------------------------
  function typingElsewhere(target) {
    return target && target !== input && (target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typingElsewhere(event.target)) { return; }
    if (event.key && event.key.length === 1 && document.activeElement !== input) { input.focus(); }
  });
  panel.addEventListener("click", function () { input.focus(); });
  window.addEventListener("focus", function () {
    if (!typingElsewhere(document.activeElement)) { input.focus(); }
  });
  if (!typingElsewhere(document.activeElement)) { input.focus(); }

  // ---- the gate is remembered on this device -------------------------------------------------------
  if (gate) {
    var key = "expo.gate." + form.dataset.edition;
    try {
      if (!gate.value && window.localStorage.getItem(key)) { gate.value = window.localStorage.getItem(key); }
      gate.addEventListener("change", function () { window.localStorage.setItem(key, gate.value.trim()); });
    } catch (error) { /* storage blocked: the field just starts empty */ }
  }
})();
