// Keeps the example sentence on the cancellation policy page in step with the form.
(function () {
  "use strict";
  var form = document.getElementById("policy-form");
  var out = document.getElementById("policy-example");
  if (!form || !out) return;
  var days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

  function value(name) {
    var el = form.elements[name];
    return el ? el.value : "";
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function sentence() {
    var mode = value("mode");
    var table = document.getElementById("weekly-table");
    if (table) table.hidden = mode !== "weekly_cutoff";
    var hours = parseInt(value("hours_before"), 10);
    if (mode === "weekly_cutoff") {
      var rows = form.querySelectorAll(".cutoff-row");
      for (var i = 0; i < rows.length; i++) {
        if (rows[i].dataset.lessonWeekday !== "1") continue;
        var day = rows[i].querySelector("select");
        var time = rows[i].querySelector("input[type=time]");
        if (day && day.value !== "" && time && time.value) {
          var before = day.value === "1" ? "the same day" : days[parseInt(day.value, 10)];
          return "A Tuesday 17:00 lesson cancelled after " + before + " " + time.value + " is late.";
        }
      }
      if (isNaN(hours)) return "Set a cut-off for Tuesday lessons to see an example.";
      return "Tuesday lessons have no cut-off in the table: they use " + hours + " hours before.";
    }
    if (isNaN(hours) || hours < 0) return "Enter the hours to see an example.";
    var lesson = new Date(Date.UTC(2026, 0, 6, 17, 0));
    var cutoff = new Date(lesson.getTime() - hours * 3600 * 1000);
    var weekday = days[(cutoff.getUTCDay() + 6) % 7];
    return "A Tuesday 17:00 lesson cancelled after " + weekday + " " + pad(cutoff.getUTCHours()) +
      ":" + pad(cutoff.getUTCMinutes()) + " (" + hours + " hours before) is late.";
  }

  function update() { out.textContent = sentence(); }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
