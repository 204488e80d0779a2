// "Add another slot" for the class form's weekly schedule (a Django formset): copies the
// empty row from its <template>, numbers it, and counts it in TOTAL_FORMS. Without
// JavaScript the page still offers blank rows, so the button stays hidden.
(function () {
  "use strict";
  var button = document.getElementById("schedule-add-row");
  var rows = document.getElementById("schedule-rows");
  var template = document.getElementById("schedule-empty-row");
  if (!button || !rows || !template) return;
  var prefix = rows.dataset.prefix;
  var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  if (!total) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = rows.lastElementChild && rows.lastElementChild.querySelector("select, input");
    if (added) added.focus();
  });
})();
