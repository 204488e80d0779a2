// Portal forms with data-confirm ask first ("Can't come", "Cancel make-up"), and any portal
// form is sent once: a second tap while the first is on its way does nothing.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  }, true);
  // A page restored from the back/forward cache may be submitted again.
  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-sent]");
    for (var i = 0; i < forms.length; i++) delete forms[i].dataset.sent;
  });
})();
