/* Expo CRM page behaviour on top of Bootstrap's bundle (loaded before this file, both with `defer`).
 * No inline script anywhere: every page works without this file, it only makes things nicer.
 *
 * - Flashed messages (#flash-messages .toast, rendered visible by base.html) become toasts that hide
 *   themselves (errors and warnings stay until closed).
 * - Confirm dialog: a <form data-confirm="Cancel this registration?"> or a submit button carrying
 *   data-confirm asks in a Bootstrap modal (#confirm-modal in base.html) before submitting. Optional
 *   data-confirm-button="Cancel registration" names the confirm button. Without JavaScript the form just submits.
 * - <select data-autosubmit> / <input type=checkbox data-autosubmit> submit their form on change
 *   (filter bars); keep a submit button in a <noscript> or visible for no-JS use.
 */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function initToasts() {
    if (!window.bootstrap) return;
    document.querySelectorAll("#flash-messages .toast").forEach(function (el) {
      window.bootstrap.Toast.getOrCreateInstance(el).show();
    });
  }

  // ---- confirm dialog ------------------------------------------------------------------------------
  var confirmed = new WeakSet();

  function askThenSubmit(form, submitter, message, buttonLabel) {
    var modalEl = document.getElementById("confirm-modal");
    if (!modalEl || !window.bootstrap) return true;  // no dialog available: let the form submit
    modalEl.querySelector("[data-confirm-message]").textContent = message;
    var ok = modalEl.querySelector("[data-confirm-ok]");
    ok.textContent = buttonLabel || ok.getAttribute("data-default-label");
    var modal = window.bootstrap.Modal.getOrCreateInstance(modalEl);
    function onOk() {
      ok.removeEventListener("click", onOk);
      confirmed.add(form);
      modal.hide();
      if (form.requestSubmit) form.requestSubmit(submitter || undefined);
      else form.submit();
    }
    modalEl.addEventListener("hidden.bs.modal", function () { ok.removeEventListener("click", onOk); }, { once: true });
    ok.addEventListener("click", onOk);
    modal.show();
    return false;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (confirmed.has(form)) { confirmed.delete(form); return; }
    var submitter = event.submitter || null;
    var source = submitter && submitter.hasAttribute("data-confirm") ? submitter
      : (form.hasAttribute("data-confirm") ? form : null);
    if (!source) return;
    var message = source.getAttribute("data-confirm");
    if (!askThenSubmit(form, submitter, message, source.getAttribute("data-confirm-button"))) event.preventDefault();
  }, true);

  // ---- auto-submitting filters ---------------------------------------------------------------------
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.hasAttribute && el.hasAttribute("data-autosubmit") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  ready(initToasts);
})();
