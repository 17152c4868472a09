// The correction form: only the fine classes of the chosen coarse class, and the chosen fine
// class's definition and typical questions (one at a time, so the form stays short on a phone).
// The model's own class is a disabled option: "No, it is wrong" cannot send it.
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

  // Nothing is chosen at first, and the browser refuses to send the form so (the selects are
  // required, also without JavaScript); this only says what to do in our words.
  [coarse, fine].forEach(function (select) {
    select.addEventListener("invalid", function () {
      if (select.validity.valueMissing) {
        select.setCustomValidity(select === coarse ? "Choose the right coarse class."
          : "Choose the class the question asks for.");
      }
    });
    // A choice in either may fill in the other (below), so both start over.
    select.addEventListener("change", function () {
      coarse.setCustomValidity("");
      fine.setCustomValidity("");
    });
  });

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
