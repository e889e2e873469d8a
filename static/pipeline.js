/* The booth-sales board (templates/exhibitors/pipeline_board.html): drag a card to another stage (SortableJS).
   Only the stages the card may move to accept it (data-moves, the same rule the server applies); a drop on
   "lost" asks for the reason first. The move is POSTed to the card's data-move-url (JSON answer); a refused
   move puts the card back and says why. Without JavaScript (or by keyboard) each card's "Move to …" form
   does the same. */
(function () {
  "use strict";

  var board = document.querySelector("[data-pipeline-board]");
  if (!board || typeof Sortable === "undefined") { return; }
  var words = JSON.parse(document.getElementById("pipeline-words").textContent);
  var statusBox = document.querySelector("[data-board-status]");
  var errorBox = document.querySelector("[data-board-error]");
  var lang = document.documentElement.lang || "en";
  var money = new Intl.NumberFormat(lang, { maximumFractionDigits: 0 });

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key] !== undefined ? values[key] : ""; });
  }

  function say(text, isError) {
    statusBox.textContent = text;
    if (isError) {
      errorBox.textContent = text;
      errorBox.classList.remove("d-none");
    } else {
      errorBox.classList.add("d-none");
    }
  }

  function column(stage) { return board.querySelector('.kanban-col[data-stage="' + stage + '"]'); }

  // Count, value and weighted value of a column change by one card.
  function adjust(stage, card, sign) {
    var col = column(stage);
    if (!col) { return; }
    var count = col.querySelector("[data-count]");
    count.textContent = String(Math.max(0, parseInt(count.textContent, 10) + sign));
    var valueEl = col.querySelector("[data-value]");
    var value = parseFloat(valueEl.getAttribute("data-value")) + sign * parseFloat(card.getAttribute("data-value") || "0");
    valueEl.setAttribute("data-value", String(value));
    valueEl.textContent = "¥" + money.format(value);
    var chance = parseInt(col.getAttribute("data-probability"), 10) || 0;
    col.querySelector("[data-weighted]").textContent = "¥" + money.format(Math.round(value * chance) / 100);
    var empty = col.querySelector(".kanban-empty");
    if (empty) { empty.hidden = parseInt(count.textContent, 10) > 0; }
  }

  function putBack(evt) {
    var from = evt.from, item = evt.item;
    var ref = from.children[evt.oldIndex] || null;
    from.insertBefore(item, ref === item ? null : ref);
  }

  function updateCard(card, answer) {
    card.setAttribute("data-status", answer.status);
    card.setAttribute("data-moves", answer.moves.join(" "));
    var select = card.querySelector("[data-move-select]");
    if (select) {
      while (select.firstChild) { select.removeChild(select.firstChild); }
      answer.moves.forEach(function (code) {
        var option = document.createElement("option");
        option.value = code;
        option.textContent = words.labels[code] || code;
        select.appendChild(option);
      });
    }
  }

  function send(evt, reason) {
    var card = evt.item, target = evt.to.getAttribute("data-stage"), source = evt.from.getAttribute("data-stage");
    var body = new FormData();
    body.append("csrf_token", board.getAttribute("data-csrf"));
    body.append("status", target);
    if (reason) { body.append("reason", reason); }
    card.classList.add("kanban-busy");
    fetch(card.getAttribute("data-move-url"), {
      method: "POST", body: body, credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, error: response.statusText }; });
    }).then(function (answer) {
      card.classList.remove("kanban-busy");
      if (!answer.ok) {
        putBack(evt);
        say(fill(words.failed, { error: answer.error || "" }), true);
        return;
      }
      adjust(source, card, -1);
      adjust(target, card, +1);
      updateCard(card, answer);
      say(fill(words.moved, { company: card.getAttribute("data-company"), stage: answer.label }), false);
    }).catch(function () {
      card.classList.remove("kanban-busy");
      putBack(evt);
      say(fill(words.failed, { error: "network" }), true);
    });
  }

  // The lost reason, asked in a modal; cancel puts the card back.
  var modalEl = document.getElementById("lost-modal");
  var pending = null;
  function askReason(evt) {
    pending = evt;
    modalEl.querySelector("[data-lost-company]").textContent = evt.item.getAttribute("data-company");
    var input = modalEl.querySelector("input[name=reason]");
    input.value = "";
    var modal = bootstrap.Modal.getOrCreateInstance(modalEl);
    modal.show();
    modalEl.addEventListener("shown.bs.modal", function () { input.focus(); }, { once: true });
  }
  modalEl.querySelector("[data-lost-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var reason = modalEl.querySelector("input[name=reason]").value.trim();
    if (!reason || !pending) { return; }
    var evt = pending;
    pending = null;
    bootstrap.Modal.getOrCreateInstance(modalEl).hide();
    send(evt, reason);
  });
  modalEl.addEventListener("hidden.bs.modal", function () {
    if (pending) { putBack(pending); pending = null; }
  });

  board.querySelectorAll(".kanban-cards").forEach(function (list) {
    Sortable.create(list, {
      group: "pipeline",
      animation: 120,
      filter: "details, summary, select, input, button, a",
      preventOnFilter: false,
      ghostClass: "kanban-ghost",
      onMove: function (evt) {
        if (evt.to === evt.from) { return false; }
        var moves = (evt.dragged.getAttribute("data-moves") || "").split(" ");
        return moves.indexOf(evt.to.getAttribute("data-stage")) !== -1;
      },
      onEnd: function (evt) {
        if (evt.to === evt.from) { return; }
        if (evt.to.getAttribute("data-stage") === "lost") { askReason(evt); } else { send(evt, ""); }
      }
    });
  });
})();
