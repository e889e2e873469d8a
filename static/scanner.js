// The scanner and check-in pages: a hardware scanner types the code and presses Enter.
// Each scan gets its own client_scan_id, so a retried request is stored once.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form || !window.fetch) { return; }
  var input = document.getElementById("code");
  var panel = document.getElementById("scan-result");
  var labels = JSON.parse(document.getElementById("scan-labels").innerHTML);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return "s-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function line(cls, text) {
    var div = document.createElement("div");
    div.className = cls;
    div.textContent = text;
    return div;
  }

  function show(answer) {
    panel.className = "scan-result " + answer.result;
    panel.replaceChildren(line("verdict", labels[answer.result] || answer.result));
    if (answer.reason) { panel.appendChild(line("reason", labels.reasons[answer.reason] || answer.reason)); }
    if (answer.error) { panel.appendChild(line("reason", answer.error)); }
    var v = answer.visitor;
    if (v) {
      panel.appendChild(line("who", v.name || labels.not_shared));
      panel.appendChild(line("what", [v.company, labels.categories[v.category] || v.category].filter(Boolean).join(" · ")));
    }
    addRecent(answer);
  }

  function addRecent(answer) {
    var recent = document.getElementById("recent-scans");
    if (!recent || answer.result === "error") { return; }
    var row = recent.insertRow(1);
    [new Date().toLocaleTimeString([], { hour12: false }), labels[answer.result] || answer.result,
     answer.reason ? (labels.reasons[answer.reason] || answer.reason) : ""].forEach(function (text) {
      row.insertCell().textContent = text;
    });
    while (recent.rows.length > 11) { recent.deleteRow(-1); }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var code = input.value.trim();
    if (!code) { return; }
    input.value = "";
    var gate = form.querySelector('[name="gate"]');
    var body = { code: code, kind: form.dataset.kind, client_scan_id: newId(),
                 scanned_at: new Date().toISOString(), edition_id: Number(form.dataset.edition) };
    if (gate && gate.value) { body.gate = gate.value; }
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
    }).finally(function () { input.focus(); });
  });
})();
