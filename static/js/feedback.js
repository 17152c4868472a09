// The correction form: only the fine classes of the chosen coarse class, and the chosen fine
// class's definition and typical questions (one at a time, so the form stays short on a phone).
(function () {
  "use strict";
  var coarse = document.getElementById("coarse");
  var fine = document.getElementById("fine");
  if (!coarse || !fine) { return; }
  var groups = Array.prototype.slice.call(fine.querySelectorAll("optgroup"));
  var helps = Array.prototype.slice.call(document.querySelectorAll("[data-help-for]"));

  function showHelp() {
    helps.forEach(function (help) { help.hidden = help.dataset.helpFor !== fine.value; });
  }

  function follow() {
    groups.forEach(function (group) {
      var match = !coarse.value || group.dataset.coarse === coarse.value;
      group.hidden = !match;
      group.disabled = !match;
    });
    var chosen = fine.options[fine.selectedIndex];
    if (chosen && chosen.value && chosen.dataset.coarse !== coarse.value) { fine.value = ""; }
    showHelp();
  }

  coarse.addEventListener("change", follow);
  fine.addEventListener("change", function () {
    // Choosing a fine class first fills in its coarse class.
    var chosen = fine.options[fine.selectedIndex];
    if (chosen && chosen.value && chosen.dataset.coarse !== coarse.value) {
      coarse.value = chosen.dataset.coarse;
      follow();
    }
    showHelp();
  });
  follow();
}());
