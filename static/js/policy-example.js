// Keeps the example sentence on the cancellation policy page in step with the form. The
// sentences and day names come translated from the page (data-* attributes of the example).
(function () {
  "use strict";
  var form = document.getElementById("policy-form");
  var out = document.getElementById("policy-example");
  if (!form || !out) return;
  var text = out.dataset;
  var days = (text.days || "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday").split(",");

  function fill(pattern, values) {
    return pattern.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

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
          var before = day.value === "1" ? text.sameDay : days[parseInt(day.value, 10)];
          return fill(text.weekly, { before: before, time: time.value });
        }
      }
      if (isNaN(hours)) return text.noWeekly;
      return fill(text.fallback, { hours: hours });
    }
    if (isNaN(hours) || hours < 0) return text.noHours;
    var lesson = new Date(Date.UTC(2026, 0, 6, 17, 0));
    var cutoff = new Date(lesson.getTime() - hours * 3600 * 1000);
    var weekday = days[(cutoff.getUTCDay() + 6) % 7];
    return fill(text.hours, {
      day: weekday,
      time: pad(cutoff.getUTCHours()) + ":" + pad(cutoff.getUTCMinutes()),
      hours: hours,
    });
  }

  function update() { out.textContent = sentence(); }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
