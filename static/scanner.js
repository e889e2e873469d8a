// The scanner and check-in pages (templates/onsite/_scan.html), an offline-capable web app (docs/scanner.md).
//
// Input: a hardware scanner is a keyboard: it types the code and presses Enter, which submits #scan-form; the
// camera (after the Start tap) reads QR codes with the browser's BarcodeDetector or jsQR (static/vendor/jsqr).
// Either way the scan is first written to an IndexedDB queue with its client_scan_id and the device's time,
// then sent to POST /api/v1/scans; when that cannot be done (offline, timeout, server error) it stays queued
// and is uploaded later through POST /api/v1/scans/batch. The server stores a client_scan_id once, so a scan
// sent twice (a retry, a lost answer) is still one scan.
// Offline, the badge is checked on the device with the edition's Ed25519 public key (WebCrypto) and the
// revocation list from GET /api/v1/scanner/config (kept in IndexedDB): a forged, altered, other-edition,
// revoked or malformed code is refused at once with the server's reason codes; a good one shows "queued".
// Booth scans open the lead card: a rating chip saves (PATCH /api/v1/leads/<id>; offline queued by the
// scan's client_scan_id until its lead id is known) and returns to scanning.
// Without this script the form posts to the page itself and works the same (online only).
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
  var kind = form.dataset.kind;
  var userId = Number(form.dataset.user);
  var editionId = Number(form.dataset.edition);
  var RECENT_ROWS = 10;
  var IDLE_AFTER_MS = 20000;
  var SEND_TIMEOUT_MS = 6000;
  var BATCH_SIZE = 100;
  var SYNC_EVERY_MS = 15000;
  var CONFIG_EVERY_MS = 120000;
  var idleTimer = null;
  var config = null;
  var verifyKey = null;
  var inflight = {};
  var lastSync = null;
  var syncProblem = null;
  var online = navigator.onLine !== false;

  function fill(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

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

  function shortTime(date) { return editionTime(date).slice(11, 16); }

  // ---- IndexedDB: the queue of scans, the rating/answer updates waiting for a lead id, the config --------
  var dbPromise = null;
  function openDb() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open("expo-scanner", 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        db.createObjectStore("queue", { keyPath: "id" });
        db.createObjectStore("leads", { keyPath: "id" });
        db.createObjectStore("meta", { keyPath: "key" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return dbPromise;
  }

  function store(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        var req = work(tx.objectStore(name));
        if (req) { req.onsuccess = function () { result = req.result; }; }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function put(name, value) { return store(name, "readwrite", function (s) { return s.put(value); }); }
  function get(name, key) { return store(name, "readonly", function (s) { return s.get(key); }); }
  function remove(name, key) { return store(name, "readwrite", function (s) { return s["delete"](key); }); }
  function all(name) {
    return store(name, "readonly", function (s) { return s.getAll(); }).then(function (rows) {
      return (rows || []).filter(function (row) { return row.user === userId; });
    });
  }

  // ---- the offline bundle: public key, revocations, labels, questions, gates, counters, CSRF token -------
  var configKey = "config:" + userId + ":" + kind + ":" + editionId;

  function useConfig(bundle) {
    config = bundle;
    if (bundle.csrf_token) { csrf = bundle.csrf_token; }
    if (bundle.labels) {
      ["results", "reasons", "categories"].forEach(function (part) {
        if (bundle.labels[part]) { labels[part] = Object.assign({}, labels[part], bundle.labels[part]); }
      });
    }
    verifyKey = null;
    if (window.crypto && crypto.subtle && bundle.edition && bundle.edition.public_key) {
      var raw = Uint8Array.from(atob(bundle.edition.public_key), function (c) { return c.charCodeAt(0); });
      return crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]).then(function (key) {
        verifyKey = key;
        form.dataset.offlineCheck = "ready";  // badges can be checked on this device (tests wait for it)
      }, function () { verifyKey = null; form.dataset.offlineCheck = "no-key"; }).then(showExtras);
    }
    showExtras();
    return Promise.resolve();
  }

  function loadConfig() {
    return fetchWithTimeout(form.dataset.config, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) { syncProblem = labels.sign_in_again; }
        if (!response.ok) { throw new Error("config " + response.status); }
        return response.json();
      }).then(function (bundle) {
        if (bundle.user_id !== userId) {
          // Someone else signed in on this device since this page was made: its queue is not theirs to send.
          syncProblem = labels.sign_in_again;
          throw new Error("another user");
        }
        syncProblem = null;
        put("meta", { key: configKey, user: userId, bundle: bundle }).catch(function () {});
        return useConfig(bundle);
      }).catch(function () {
        if (config) { return null; }
        return get("meta", configKey).then(function (row) { return row ? useConfig(row.bundle) : null; })
          .catch(function () { return null; });
      });
  }

  // ---- checking a badge on the device (expo/core/badge_codes.py, expo/onsite/services.verify_code) --------
  var B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  var CONTEXT = [69, 88, 80, 79, 45, 66, 65, 68, 71, 69];  // b"EXPO-BADGE"

  function base32(text) {
    if (/[^A-Z2-7]/.test(text) || [1, 3, 6].indexOf(text.length % 8) !== -1) { return null; }
    var bits = 0, value = 0, out = [];
    for (var i = 0; i < text.length; i++) {
      value = (value << 5) | B32.indexOf(text[i]);
      bits += 5;
      if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
    }
    return new Uint8Array(out);
  }

  // Resolves to {reason: null | code, registration, serial}, or null when the device cannot tell.
  function checkOffline(code) {
    var text = code.replace(/\s+/g, "").toUpperCase();
    if (!text || text.length > 480) { return Promise.resolve({ reason: "malformed" }); }
    var raw = base32(text);
    if (!raw || raw.length < 11) { return Promise.resolve({ reason: "malformed" }); }
    if (raw[0] !== 1) { return Promise.resolve({ reason: "unsupported_version" }); }
    if (raw.length !== 75) { return Promise.resolve({ reason: "malformed" }); }
    var view = new DataView(raw.buffer);
    var claim = { edition: view.getUint32(1), registration: view.getUint32(5), serial: view.getUint16(9) };
    if (!config) { return Promise.resolve(null); }
    if (claim.edition !== config.edition.id) { return Promise.resolve({ reason: "other_edition" }); }
    if (!verifyKey) { return Promise.resolve(null); }
    var signed = new Uint8Array(CONTEXT.length + 11);
    signed.set(CONTEXT, 0);
    signed.set(raw.subarray(0, 11), CONTEXT.length);
    return crypto.subtle.verify({ name: "Ed25519" }, verifyKey, raw.subarray(11), signed).then(function (good) {
      if (!good) { return { reason: "invalid_signature" }; }
      var revoked = config.revoked || {};
      var current = (revoked.reissued || {})[String(claim.registration)];
      if ((revoked.cancelled || []).indexOf(claim.registration) !== -1 || (current && claim.serial !== current)) {
        return { reason: "revoked", registration: claim.registration };
      }
      return { reason: null, registration: claim.registration, serial: claim.serial };
    }, function () { return null; });
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

  function beep(frequency, start, length, type) {
    var t = audio.currentTime + start;
    var osc = audio.createOscillator();
    var gain = audio.createGain();
    osc.type = type || "sine";
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
    queued: { tones: [[880, 0, 0.1], [1175, 0.12, 0.12]], vibrate: 200 },
    duplicate: { tones: [[784, 0, 0.12], [784, 0.18, 0.12]], vibrate: [80, 60, 80] },
    refused: { tones: [[196, 0, 0.25, "square"], [147, 0.3, 0.4, "square"]], vibrate: [120, 60, 120, 60, 120] },
    error: { tones: [[196, 0, 0.5, "square"]], vibrate: [100, 50, 100, 50, 100] }
  };

  function signal(result) {
    var s = SIGNALS[result] || SIGNALS.error;
    if (audio && audio.state === "running") {
      try { s.tones.forEach(function (t) { beep(t[0], t[1], t[2], t[3]); }); } catch (error) { /* no sound then */ }
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
    if (answer.detail) { panel.appendChild(el("div", "what", answer.detail)); }
    var v = answer.visitor;
    if (v) {
      panel.appendChild(el("div", "who", visitorName(v) || labels.not_shared));
      panel.appendChild(el("div", "what", [v.company, labels.categories[v.category] || v.category]
        .filter(Boolean).join(" · ")));
    }
    signal(answer.result);
    addRecent(answer);
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { idle(); hideLeadCard(); }, IDLE_AFTER_MS);
  }

  // ---- the recent-scans strip: the same markup as the server's rows (_scan.html recent_row) --------
  function addRecent(answer) {
    var table = document.getElementById("recent-scans");
    if (!table || answer.result === "error") { return; }
    var body = table.tBodies[0] || table.createTBody();
    var old = answer.client_scan_id && body.querySelector('tr[data-scan="' + answer.client_scan_id + '"]');
    var when = answer.scanned_at ? new Date(answer.scanned_at) : new Date();
    var row = document.createElement("tr");
    if (answer.client_scan_id) { row.dataset.scan = answer.client_scan_id; }
    if (old) { body.replaceChild(row, old); } else { body.insertBefore(row, body.firstChild); }

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

  // ---- the sync pill: online/offline · n waiting · last sync --------------------------------------------
  var pill = document.getElementById("sync-pill");
  var syncNow = document.getElementById("sync-now");
  var waitingCount = 0;

  function updatePill() {
    if (!pill) { return Promise.resolve(); }
    return all("queue").then(function (rows) {
      // a rating waiting for its scan is part of that scan: counted once the scan is synced and it still waits
      return all("leads").then(function (leadRows) {
        return rows.length + leadRows.filter(function (row) { return row.lead_id; }).length;
      });
    }).catch(function () { return 0; }).then(function (n) {
      waitingCount = n;
      var parts = [fill(online ? labels.online : labels.offline_state, { n: n })];
      parts.push(lastSync ? fill(labels.last_sync, { time: shortTime(lastSync) }) : labels.never_synced);
      pill.className = "sync-pill " + (online ? "is-online" : "is-offline") + (n ? " has-waiting" : "");
      pill.dataset.waiting = String(n);
      pill.dataset.state = online ? "online" : "offline";
      pill.replaceChildren(icon(online ? (n ? "cloud-upload" : "cloud-check") : "cloud-slash"),
        el("span", "sync-text", parts.join(" · ")));
      if (syncProblem) { pill.appendChild(el("span", "sync-problem", syncProblem)); }
      if (syncNow) { syncNow.hidden = !(n && navigator.onLine !== false); }
    });
  }

  function fetchWithTimeout(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, SEND_TIMEOUT_MS) : null;
    if (controller) { options.signal = controller.signal; }
    return fetch(url, options).then(function (response) {
      clearTimeout(timer);
      online = true;
      return response;
    }, function (error) {
      clearTimeout(timer);
      online = false;  // no answer (no network, the venue's Wi-Fi without a way out, a timeout): offline for us
      throw error;
    });
  }

  function postJson(url, body, method) {
    return fetchWithTimeout(url, {
      method: method || "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: JSON.stringify(body)
    });
  }

  // ---- the queue's upload: batches of 100, each answer removes its scan; retried until answered ---------
  var flushing = null;

  function settled(answer) {
    return answer && (answer.result === "ok" || answer.result === "duplicate" || answer.result === "refused");
  }

  function flush() {
    if (flushing) { return flushing; }
    if (navigator.onLine === false) { online = false; return updatePill(); }
    flushing = all("queue").then(function (rows) {
      rows = rows.filter(function (row) { return !inflight[row.id]; })
        .sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      return sendBatches(rows);
    }).then(flushLeads).then(function () {
      lastSync = new Date();
      put("meta", { key: "last-sync:" + userId, user: userId, at: lastSync.toISOString() }).catch(function () {});
    }).catch(function () { /* kept: tried again later */ }).then(function () {
      flushing = null;
      return updatePill();
    });
    return flushing;
  }

  function sendBatches(rows) {
    if (!rows.length) { return Promise.resolve(); }
    var chunk = rows.slice(0, BATCH_SIZE);
    return postJson(form.dataset.batch, chunk.map(function (row) { return row.body; })).then(function (response) {
      if (response.status === 401) { syncProblem = labels.sign_in_again; throw new Error("signed out"); }
      if (response.status === 400) { return loadConfig().then(function () { throw new Error("refused batch"); }); }
      if (!response.ok) { throw new Error("batch " + response.status); }
      syncProblem = null;
      return response.json().then(function (answers) {
        var failed = 0;
        var work = chunk.map(function (row, i) {
          var answer = answers[i];
          if (settled(answer)) {
            return remove("queue", row.id).then(function () { return answerArrived(row, answer, false); });
          }
          if (answer && answer.result === "error") {  // not a scan the server can store: never will be
            failed += 1;
            return remove("queue", row.id).then(function () { return remove("leads", row.id); });
          }
          return null;
        });
        return Promise.all(work).then(function () {
          if (failed) { syncProblem = fill(labels.failed_items, { n: failed }); }
          return sendBatches(rows.slice(BATCH_SIZE));
        });
      });
    });
  }

  // A scan's answer from the server (now, or later from the queue): its lead id lets waiting ratings go.
  function answerArrived(row, answer, showIt) {
    if (showIt) { show(answer); } else { addRecent(answer); }
    if (kind === "lead" && answer.lead_id) {
      if (card.id === row.id) { card.leadId = answer.lead_id; showLeadLink(answer.lead_id); }
      return get("leads", row.id).then(function (update) {
        if (update && !update.lead_id) { update.lead_id = answer.lead_id; return put("leads", update); }
        return null;
      });
    }
    if (kind === "lead" && card.id === row.id && !settledLead(answer)) { hideLeadCard(); }
    // no lead came of this scan (refused by the server): a rating waiting for it has nothing to go to
    return kind === "lead" ? remove("leads", row.id).catch(function () {}) : Promise.resolve();
  }

  function settledLead(answer) { return answer.result === "ok" || answer.result === "duplicate"; }

  function flushLeads() {
    return all("leads").then(function (rows) {
      var ready = rows.filter(function (row) { return row.lead_id; });
      return ready.reduce(function (chain, row) {
        return chain.then(function () { return sendLead(row); });
      }, Promise.resolve());
    });
  }

  function sendLead(row) {
    return postJson(fill(form.dataset.leadApi, { id: row.lead_id }), row.patch, "PATCH").then(function (response) {
      if (response.status === 401) { syncProblem = labels.sign_in_again; throw new Error("signed out"); }
      if (response.status === 400 && row.patch.answers) {
        // The server leaves out answers it cannot store (a 200 naming them in `ignored`); should it refuse one
        // all the same, the rating and the note still go: sent again at once without the answers.
        return response.json().catch(function () { return {}; }).then(function (problem) {
          if (String(problem.field || "").indexOf("answers") !== 0) { return remove("leads", row.id); }
          delete row.patch.answers;
          return put("leads", row).then(function () { return sendLead(row); });
        });
      }
      if (response.ok || (response.status >= 400 && response.status < 500 && response.status !== 408
                          && response.status !== 429)) {
        return remove("leads", row.id);  // stored, or never storable as a whole: either way it leaves the queue
      }
      throw new Error("lead " + response.status);
    });
  }

  // ---- a scan: queued first, then sent; the device's own check when the server cannot answer -----------
  function scan(code) {
    var body = { code: code, kind: kind, client_scan_id: newId(), scanned_at: new Date().toISOString(),
                 edition_id: editionId };
    if (gate && gate.value.trim()) { body.gate = gate.value.trim(); }
    var direction = form.querySelector('input[name="direction"]:checked');
    if (direction && !direction.disabled && !document.getElementById("scan-direction").hidden) {
      body.direction = direction.value;  // a one-way gate decides for itself: nothing sent
    }
    var row = { id: body.client_scan_id, user: userId, body: body, created: body.scanned_at };
    panel.classList.add("pending");
    panel.setAttribute("aria-busy", "true");
    inflight[row.id] = true;
    var local = checkOffline(code).catch(function () { return null; });
    var kept = true;
    return put("queue", row).catch(function () { kept = false; /* no IndexedDB: sent, never queued */ }).then(function () {
      if (navigator.onLine === false) { online = false; throw new Error("offline"); }
      return postJson(form.dataset.api, body);
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) {
          delete inflight[row.id];
          return remove("queue", row.id).catch(function () {}).then(function () {
            lastSync = new Date();
            syncProblem = null;
            if (kind === "lead" && settledLead(answer)) { openLeadCard(row.id, answer.lead_id); }
            else { hideLeadCard(); }
            if (kind === "checkin" && answer.result === "ok") { bumpCounter("checked_in"); }
            return answerArrived(row, answer, true);
          });
        }
        if (response.status >= 500 || response.status === 401 || response.status === 429 ||
            (response.status === 400 && answer.code === "csrf")) {
          // not about this scan: it stays queued (a stale CSRF token: a fresh one comes with the config,
          // for the same user only)
          if (response.status === 401) { syncProblem = labels.sign_in_again; }
          if (answer.code === "csrf") { loadConfig(); }
          throw new Error("server " + response.status);
        }
        // 400 / 403: this scan is not one the server takes (a bad field, no permission); it leaves the queue
        delete inflight[row.id];
        return remove("queue", row.id).catch(function () {}).then(function () {
          if (response.status === 400) { loadConfig(); }
          hideLeadCard();
          show({ result: "error", error: answer.error || response.statusText });
        });
      });
    }).catch(function () {
      delete inflight[row.id];
      if (!kept) { show({ result: "error", error: labels.offline }); return null; }
      return local.then(function (check) {
        var answer = { result: "queued", client_scan_id: row.id, scanned_at: body.scanned_at };
        if (check && check.reason) {
          answer = { result: "refused", reason: check.reason, client_scan_id: row.id, scanned_at: body.scanned_at,
                     detail: labels.checked_offline };
          hideLeadCard();
        } else {
          answer.detail = check ? labels.queued_detail : labels.unverified_detail;
          if (kind === "lead") { openLeadCard(row.id, null); }
        }
        show(answer);
      });
    }).then(function () {
      panel.classList.remove("pending");
      panel.removeAttribute("aria-busy");
      input.focus();
      return updatePill();
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    input.value = "";
    input.classList.remove("is-invalid");
    if (!code) { input.focus(); return; }
    scan(code);
  });

  // ---- the lead card: tap 2 is a rating; questions and a note for those with time ----------------------
  var cardNode = document.getElementById("lead-card");
  var card = { id: null, leadId: null };

  function hideLeadCard() {
    if (cardNode) { cardNode.hidden = true; }
    card = { id: null, leadId: null };
  }

  function showLeadLink(leadId) {
    var link = document.getElementById("lead-open");
    if (link && config && config.lead_url && leadId) {
      link.href = fill(config.lead_url, { id: leadId });
      link.hidden = false;
    }
  }

  function ratingLabels() {
    return (config && config.labels && config.labels.ratings) || labels.ratings || [];
  }

  function buildQuestions() {
    var box = document.getElementById("lead-questions");
    if (!box) { return; }
    box.replaceChildren();
    ((config && config.questions) || []).forEach(function (q, n) {
      var field = el("div", "lead-question");
      var id = "lead-q-" + n;
      var choices = q.kind === "yes_no" && !(q.choices || []).length
        ? [{ value: "yes", label: labels.yes }, { value: "no", label: labels.no }] : (q.choices || []);
      if (q.kind === "text" || !choices.length) {
        var label = el("label", "form-label", q.label);
        label.htmlFor = id;
        var text = el("input", "form-control form-control-sm");
        text.id = id;
        text.dataset.key = q.key;
        text.dataset.kind = "text";
        field.append(label, text);
      } else {
        var set = el("fieldset", "lead-choices");
        set.dataset.key = q.key;
        set.dataset.kind = q.kind === "multi" ? "multi" : "single";
        set.appendChild(el("legend", "form-label", q.label));
        choices.forEach(function (choice, c) {
          var box2 = el("input", "btn-check");
          box2.type = set.dataset.kind === "multi" ? "checkbox" : "radio";
          box2.name = id;
          box2.id = id + "-" + c;
          box2.value = choice.value;
          var lab = el("label", "btn btn-outline-secondary btn-sm", choice.label);
          lab.htmlFor = box2.id;
          set.append(box2, lab);
        });
        field.appendChild(set);
      }
      box.appendChild(field);
    });
  }

  function buildRatings() {
    var box = document.getElementById("lead-ratings");
    if (!box) { return; }
    box.replaceChildren();
    ratingLabels().forEach(function (r) {
      var button = el("button", "btn rating-chip rating-" + r.value);
      button.type = "button";
      button.dataset.rating = r.value;
      button.append(icon(r.icon), el("span", null, r.label));
      box.appendChild(button);
    });
  }

  function openLeadCard(id, leadId) {
    if (!cardNode) { return; }
    card = { id: id, leadId: leadId };
    cardNode.querySelectorAll("input").forEach(function (node) {
      if (node.type === "checkbox" || node.type === "radio") { node.checked = false; } else { node.value = ""; }
    });
    var note = document.getElementById("lead-note");
    if (note) { note.value = ""; }
    var link = document.getElementById("lead-open");
    if (link) { link.hidden = true; }
    document.getElementById("lead-status").textContent = "";
    markRating(null);
    if (leadId) { showLeadLink(leadId); prefill(id, leadId); }
    cardNode.hidden = false;
  }

  function markRating(rating) {
    cardNode.querySelectorAll(".rating-chip").forEach(function (chip) {
      chip.classList.toggle("active", chip.dataset.rating === rating);
      chip.setAttribute("aria-pressed", chip.dataset.rating === rating ? "true" : "false");
    });
  }

  // A lead scanned again (or just made): what it holds now, to change rather than start over.
  function prefill(id, leadId) {
    if (navigator.onLine === false) { return; }
    fetchWithTimeout(fill(form.dataset.leadApi, { id: leadId }), { credentials: "same-origin",
      headers: { Accept: "application/json" } }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (lead) {
      if (!lead || card.id !== id) { return; }
      markRating(lead.rating || null);
      var note = document.getElementById("lead-note");
      if (note && !note.value && lead.notes) { note.value = lead.notes; }
      var answers = lead.answers || {};
      cardNode.querySelectorAll("[data-key]").forEach(function (node) {
        var value = answers[node.dataset.key];
        if (value === undefined || value === null) { return; }
        if (node.dataset.kind === "text") { if (!node.value) { node.value = String(value); } return; }
        if (value === true) { value = "yes"; } else if (value === false) { value = "no"; }
        var wanted = Array.isArray(value) ? value.map(String) : [String(value)];
        node.querySelectorAll("input").forEach(function (box) { box.checked = wanted.indexOf(box.value) !== -1; });
      });
    }).catch(function () { /* the card stays empty: still usable */ });
  }

  function cardAnswers() {
    var answers = {};
    cardNode.querySelectorAll("[data-key]").forEach(function (node) {
      if (node.dataset.kind === "text") {
        if (node.value.trim()) { answers[node.dataset.key] = node.value.trim(); }
        return;
      }
      var picked = Array.prototype.map.call(node.querySelectorAll("input:checked"), function (i) { return i.value; });
      if (!picked.length) { return; }
      answers[node.dataset.key] = node.dataset.kind === "multi" ? picked : picked[0];
    });
    return answers;
  }

  // Saves the card (a rating, and what was filled in): straight to the lead when its id is known and the
  // network answers, else into the queue under the scan's client_scan_id.
  function saveCard(rating) {
    if (!card.id) { return Promise.resolve(); }
    var patch = {};
    if (rating) { patch.rating = rating; }
    var answers = cardAnswers();
    if (Object.keys(answers).length) { patch.answers = answers; }
    var note = document.getElementById("lead-note");
    if (note && note.value.trim()) { patch.notes = note.value.trim(); }
    var status = document.getElementById("lead-status");
    var saved = rating ? fill(labels.rating_saved, { rating: (ratingLabels().filter(function (r) {
      return r.value === rating; })[0] || { label: rating }).label }) : labels.lead_saved;
    var id = card.id, leadId = card.leadId;
    function queueIt() {
      return get("leads", id).catch(function () { return null; }).then(function (old) {
        var merged = Object.assign({}, old ? old.patch : {}, patch);
        return put("leads", { id: id, user: userId, lead_id: leadId || (old && old.lead_id) || null, patch: merged });
      }).then(function () {
        status.textContent = saved + " · " + labels.saved_on_device;
        return updatePill();
      });
    }
    var done;
    if (leadId && navigator.onLine !== false) {
      done = postJson(fill(form.dataset.leadApi, { id: leadId }), patch, "PATCH").then(function (response) {
        if (response.ok) { status.textContent = saved; return null; }
        if (response.status >= 500 || response.status === 401 || response.status === 429) { return queueIt(); }
        return response.json().catch(function () { return {}; }).then(function (answer) {
          status.textContent = fill(labels.not_saved, { error: answer.error || response.statusText });
        });
      }, queueIt);
    } else {
      done = queueIt();
    }
    return done.then(function () { if (rating) { markRating(rating); } });
  }

  if (cardNode) {
    cardNode.addEventListener("click", function (event) {
      var chip = event.target.closest(".rating-chip");
      if (chip) {
        saveCard(chip.dataset.rating).then(function () {
          cardNode.querySelector(".lead-more").open = false;
          clearTimeout(idleTimer);
          idleTimer = setTimeout(function () { idle(); hideLeadCard(); }, 2500);  // back to scanning
          input.focus();
        });
      } else if (event.target.closest("#lead-save")) {
        saveCard(null).then(function () { input.focus(); });
      }
    });
  }

  // ---- the entrance's extras: gates, direction, counters ----------------------------------------------
  function bumpCounter(name) {
    var node = document.querySelector('[data-counter="' + name + '"]');
    if (node && /^\d+$/.test(node.dataset.value || "")) { setCounter(name, Number(node.dataset.value) + 1); }
  }

  var numbers = null;
  try { numbers = new Intl.NumberFormat(lang); } catch (error) { numbers = null; }
  function setCounter(name, value) {
    var node = document.querySelector('[data-counter="' + name + '"]');
    if (!node) { return; }
    node.dataset.value = value === null || value === undefined ? "" : String(value);
    node.textContent = value === null || value === undefined ? "–" : (numbers ? numbers.format(value) : String(value));
  }

  function showExtras() {
    if (!config) { return; }
    buildRatings();
    buildQuestions();
    var counters = document.getElementById("scan-counters");
    if (counters && config.counters) {
      counters.hidden = false;
      setCounter("checked_in", config.counters.checked_in);
      setCounter("expected", config.counters.expected);
      var inside = counters.querySelector('[data-counter-box="inside"]');
      if (inside) { inside.hidden = config.counters.inside === null || config.counters.inside === undefined; }
      setCounter("inside", config.counters.inside);
    }
    var list = document.getElementById("gate-list");
    if (list) {
      list.replaceChildren();
      (config.gates || []).forEach(function (g) {
        var option = el("option");
        option.value = g.code;
        option.label = [g.name, g.zone].filter(Boolean).join(" · ");
        list.appendChild(option);
      });
      var direction = document.getElementById("scan-direction");
      if (direction) { direction.hidden = !(config.gates || []).length; }
      fitDirection();
    }
  }

  // A gate that only lets people in (or out) sets the switch and locks it; a two-way gate or a free-text
  // gate leaves the choice to staff.
  function fitDirection() {
    var box = document.getElementById("scan-direction");
    if (!box || !gate || !config) { return; }
    var code = gate.value.trim();
    var known = (config.gates || []).filter(function (g) { return g.code === code; })[0];
    var fixed = known && (known.direction === "in" || known.direction === "out") ? known.direction : null;
    box.querySelectorAll('input[name="direction"]').forEach(function (radio) {
      radio.disabled = !!fixed;
      if (fixed) { radio.checked = radio.value === fixed; }
    });
  }
  if (gate) { gate.addEventListener("input", fitDirection); }

  // ---- the camera: BarcodeDetector where the browser has one, else jsQR on a canvas, ~7 frames a second ----
  var cameraView = document.getElementById("camera-view");
  var video = document.getElementById("camera-video");
  var frame = document.getElementById("camera-frame");
  var cameraButton = document.getElementById("camera-toggle");
  var startButton = document.getElementById("scan-start");
  var stream = null, detector = null, canvas = null, context2d = null, cameraTimer = null;
  var lastRead = { code: null, at: 0 };
  var REPEAT_AFTER_MS = 1500;  // out of sight this long: the same badge shown again is a new scan
  var cameraKey = "expo.camera." + kind;

  function loadDecoder() {
    if (window.jsQR) { return Promise.resolve(); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = form.dataset.decoder;
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function pickDecoder() {
    if ("BarcodeDetector" in window && window.BarcodeDetector.getSupportedFormats) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") !== -1) { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); return null; }
        return loadDecoder();
      }, loadDecoder);
    }
    return loadDecoder();
  }

  function placeFrame(points) {
    if (!frame || !points || !video.videoWidth) { if (frame) { frame.hidden = true; } return; }
    var xs = points.map(function (p) { return p.x; }), ys = points.map(function (p) { return p.y; });
    var box = video.getBoundingClientRect();
    var scale = Math.max(box.width / video.videoWidth, box.height / video.videoHeight);
    var dx = (box.width - video.videoWidth * scale) / 2, dy = (box.height - video.videoHeight * scale) / 2;
    frame.style.left = (Math.min.apply(null, xs) * scale + dx) + "px";
    frame.style.top = (Math.min.apply(null, ys) * scale + dy) + "px";
    frame.style.width = ((Math.max.apply(null, xs) - Math.min.apply(null, xs)) * scale) + "px";
    frame.style.height = ((Math.max.apply(null, ys) - Math.min.apply(null, ys)) * scale) + "px";
    frame.hidden = false;
  }

  // A badge held in front of the camera is one scan: the same code again only after it was out of sight.
  function found(text, points) {
    placeFrame(points);
    var now = Date.now();
    if (!text) { return; }
    var same = text === lastRead.code && now - lastRead.at < REPEAT_AFTER_MS;
    lastRead = { code: text, at: now };
    if (!same) { scan(text); }
  }

  function readFrame() {
    cameraTimer = null;
    if (!stream) { return; }
    var next = function () { if (stream) { cameraTimer = setTimeout(readFrame, 140); } };
    if (video.readyState < 2 || document.hidden) { next(); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) {
          found(codes[0].rawValue, codes[0].cornerPoints);
        } else if (frame) { frame.hidden = true; }
      }).catch(function () {}).then(next);
      return;
    }
    var width = video.videoWidth, height = video.videoHeight;
    var scale = Math.min(1, 800 / Math.max(width, height));
    width = Math.round(width * scale);
    height = Math.round(height * scale);
    if (!canvas) {
      canvas = document.createElement("canvas");
      context2d = canvas.getContext("2d", { willReadFrequently: true });
    }
    canvas.width = width;
    canvas.height = height;
    context2d.drawImage(video, 0, 0, width, height);
    var result = window.jsQR && window.jsQR(context2d.getImageData(0, 0, width, height).data, width, height,
                                             { inversionAttempts: "dontInvert" });
    if (result && result.data) {
      var loc = result.location;
      found(result.data, [loc.topLeftCorner, loc.topRightCorner, loc.bottomRightCorner, loc.bottomLeftCorner]
        .map(function (p) { return { x: p.x / scale, y: p.y / scale }; }));
    } else if (frame) { frame.hidden = true; }
    next();
  }

  function setCameraButton(on) {
    if (!cameraButton) { return; }
    cameraButton.hidden = false;
    cameraButton.setAttribute("aria-pressed", on ? "true" : "false");
    cameraButton.classList.toggle("active", on);
    cameraButton.querySelector(".camera-toggle-text").textContent = on ? labels.camera_on : labels.camera_off;
  }

  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      if (cameraButton) { cameraButton.hidden = true; }
      return Promise.resolve();
    }
    return pickDecoder().then(function () {
      return navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: { ideal: "environment" },
        width: { ideal: 1280 }, height: { ideal: 720 } } });
    }).then(function (media) {
      stream = media;
      video.srcObject = media;
      cameraView.hidden = false;
      setCameraButton(true);
      try { localStorage.setItem(cameraKey, "on"); } catch (error) { /* remembered or not */ }
      return video.play().catch(function () {});
    }).then(function () {
      if (stream && !cameraTimer) { readFrame(); }
    }).catch(function (error) {
      stopCamera(false);
      if (error && (error.name === "NotFoundError" || error.name === "OverconstrainedError")) {
        if (cameraButton) { cameraButton.hidden = true; }  // no camera here: a hand scanner or typing, then
        return;
      }
      show({ result: "error", error: labels.camera_denied });
    });
  }

  function stopCamera(remember) {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    clearTimeout(cameraTimer);
    cameraTimer = null;
    if (video) { video.srcObject = null; }
    if (cameraView) { cameraView.hidden = true; }
    setCameraButton(false);
    if (remember) { try { localStorage.setItem(cameraKey, "off"); } catch (error) { /* fine */ } }
  }

  if (startButton) {
    startButton.addEventListener("click", function () {
      unlockAudio();
      signal("ok");
      startButton.classList.add("started");
      startButton.querySelector("span").textContent = labels.started;
      startButton.disabled = true;
      var wanted = "on";
      try { wanted = localStorage.getItem(cameraKey) || "on"; } catch (error) { wanted = "on"; }
      var go = wanted === "on" ? startCamera() : Promise.resolve(setCameraButton(false));
      go.then(function () { input.focus(); });
    });
  }
  if (cameraButton) {
    cameraButton.addEventListener("click", function () {
      if (stream) { stopCamera(true); input.focus(); } else { startCamera().then(function () { input.focus(); }); }
    });
  }
  if (syncNow) { syncNow.addEventListener("click", function () { flush(); input.focus(); }); }

  // ---- focus: the code field takes every keystroke meant for it ------------------------------------
  function typingElsewhere(target) {
    return target && target !== input && (target.isContentEditable ||
      /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && !/^(radio|checkbox|button)$/.test(target.type || ""));
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

  // ---- start: the toolbar, the worker, the bundle, the queue ----------------------------------------
  var toolbar = document.getElementById("scan-toolbar");
  if (toolbar) { toolbar.hidden = false; }
  window.addEventListener("online", function () { online = true; loadConfig().then(flush); });
  window.addEventListener("offline", function () { online = false; updatePill(); });
  setInterval(function () { if (navigator.onLine !== false && waitingCount) { flush(); } }, SYNC_EVERY_MS);
  setInterval(function () { if (navigator.onLine !== false) { loadConfig(); } }, CONFIG_EVERY_MS);
  if ("serviceWorker" in navigator && form.dataset.sw) {
    navigator.serviceWorker.register(form.dataset.sw, { scope: "/" }).catch(function () { /* online only then */ });
  }
  get("meta", "last-sync:" + userId).then(function (row) {
    if (row && row.at) { lastSync = new Date(row.at); }
  }).catch(function () {}).then(function () {
    return loadConfig();
  }).then(function () {
    return navigator.onLine === false ? updatePill() : flush();
  });
  updatePill();
})();
