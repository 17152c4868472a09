// Show only the fine classes of the chosen coarse class in the correction form.
(function () {
  "use strict";
  var coarse = document.getElementById("coarse");
  var fine = document.getElementById("fine");
  if (!coarse || !fine) { return; }
  var groups = Array.prototype.slice.call(fine.querySelectorAll("optgroup"));

  function follow() {
    groups.forEach(function (group) {
      var match = !coarse.value || group.dataset.coarse === coarse.value;
      group.hidden = !match;
      group.disabled = !match;
    });
    var chosen = fine.options[fine.selectedIndex];
    if (chosen && chosen.value && chosen.dataset.coarse !== coarse.value) { fine.value = ""; }
  }

  coarse.addEventListener("change", follow);
  follow();
}());
