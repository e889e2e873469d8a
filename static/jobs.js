// The progress page of a background job (templates/core/job.html): polls the job's .json endpoint and moves the
// Bootstrap progress bar until the job is done or failed, then shows its result files and counts.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box) { return; }
  var bar = document.getElementById("job-bar");
  var progress = document.getElementById("job-progress");

  function setPercent(percent) {
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    progress.setAttribute("aria-valuenow", String(percent));
  }

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  setPercent(parseInt(bar.getAttribute("data-percent") || "0", 10));
  if (box.getAttribute("data-finished") === "1") { return; }

  var url = box.getAttribute("data-status-url");
  var delay = 500;

  function render(data) {
    setPercent(data.percent);
    text("job-done", data.done);
    text("job-total", data.total);
    text("job-errors", data.errors);
    text("job-message", data.message || "");
    if (data.finished) {
      bar.classList.remove("progress-bar-striped", "progress-bar-animated");
      bar.classList.add(data.status === "failed" ? "bg-danger" : "bg-success");
      if (data.status === "failed") { document.getElementById("job-message").classList.add("text-danger"); }
      box.setAttribute("data-finished", "1");
      box.setAttribute("data-status", data.status);
      // The finished page (chip, counts, file links) is rendered by the server: load it once.
      window.location.reload();
    }
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data) { render(data); if (data.finished) { return; } }
        delay = Math.min(delay * 1.3, 3000);
        window.setTimeout(poll, delay);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, delay);
}());
